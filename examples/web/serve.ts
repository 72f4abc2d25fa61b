import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { PROJECT_ROOT } from '../../src/paths';
import { developmentSubject, signDevelopmentToken } from '../../scripts/token';

/**
 * npm run web: builds the console with Vite and serves it on WEB_PORT (3000: PUBLIC_URL's
 * default, so invitation links land here) with
 *   /graphql       → the example gateway (npm run gateway, GATEWAY_PORT 4000),
 *   /audit/export  → the subgraph itself (PORT 4001): a gateway serves GraphQL only,
 *   POST /dev/token → a development token for any address, signed with JWT_SECRET;
 *                     never served when NODE_ENV=production (nor without a JWT_SECRET).
 * The build goes to examples/web/dist (WEB_OUT_DIR: elsewhere, as the tests do).
 */
async function main(): Promise<void> {
  // Read before Vite runs: it sets NODE_ENV=production for its own build.
  const config = loadConfig();
  const devTokens = config.env.NODE_ENV !== 'production' && config.jwtSecret ? config : undefined;
  const webPort = Number(process.env.WEB_PORT ?? 3000);
  const gateway = `http://127.0.0.1:${Number(process.env.GATEWAY_PORT ?? 4000)}`;
  const subgraph = `http://127.0.0.1:${config.env.PORT}`;
  const root = path.join(PROJECT_ROOT, 'examples', 'web'); // the sources, also when run from dist/
  const outDir = path.resolve(process.env.WEB_OUT_DIR ?? path.join(root, 'dist'));

  const { build, preview } = await import('vite');
  const common = { root, configFile: false as const, logLevel: 'warn' as const, oxc: { jsx: { runtime: 'automatic' as const } } };
  await build({ ...common, build: { outDir, emptyOutDir: true } });
  const server = await preview({
    ...common,
    build: { outDir },
    preview: {
      host: '127.0.0.1',
      port: webPort,
      strictPort: true,
      proxy: {
        '/graphql': { target: gateway },
        '/audit/export': { target: subgraph, headers: config.env.ROUTER_SECRET ? { 'router-authorization': config.env.ROUTER_SECRET } : {} },
      },
    },
    plugins: [
      {
        name: 'dev-token',
        configurePreviewServer(server) {
          server.middlewares.use('/dev/token', (req, res) => void devToken(req, res, devTokens));
        },
      },
    ],
  });
  const { port } = server.httpServer.address() as AddressInfo;
  console.log(`web console at http://127.0.0.1:${port}/ (gateway ${gateway}, audit export ${subgraph}${devTokens ? ', development sign-in' : ''})`);
  const reachable = await fetch(gateway, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }).then((r) => r.ok, () => false);
  if (!reachable) console.error(`no gateway answers at ${gateway} yet: start it with npm run gateway (GATEWAY_PORT)`);
  const shutdown = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** POST /dev/token {email, name}: the token `npm run token -- <email> --name <name>` prints. */
async function devToken(req: IncomingMessage, res: ServerResponse, config: ReturnType<typeof loadConfig> | undefined): Promise<void> {
  const reply = (status: number, body: object) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
  if (!config) return reply(404, { error: 'development sign-in is off (NODE_ENV=production, or no JWT_SECRET)' });
  if (req.method !== 'POST') return reply(405, { error: 'POST only' });
  let raw = '';
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > 10_000) return reply(413, { error: 'too large' });
  }
  let input: { email?: unknown; name?: unknown };
  try {
    input = JSON.parse(raw);
  } catch {
    return reply(400, { error: 'expected JSON' });
  }
  const email = typeof input.email === 'string' ? input.email.trim() : '';
  if (!email.includes('@')) return reply(400, { error: 'an email address is needed' });
  const name = typeof input.name === 'string' && input.name.trim() ? input.name.trim() : email.split('@')[0];
  // What `npm run token -- <email> --name <name>` prints: the same user for an address.
  reply(200, { token: await signDevelopmentToken(config, developmentSubject(email), { email, email_verified: true, name }) });
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
