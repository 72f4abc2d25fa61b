import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { PROJECT_ROOT } from '../src/paths';
import { startAccounts } from './accounts/server';
import { composeSupergraph } from './compose';

interface GatewayContext {
  authorization?: string;
  requestId: string;
}

/** Forwards the client's Authorization and the request id to every subgraph, and Router-Authorization when a router secret is set. */
class ForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    config: { url: string; name: string },
    private readonly routerSecret: string | undefined,
    private readonly onResponse?: (subgraph: string, headers: Headers) => void,
  ) {
    super({ url: config.url });
    this.name = config.name;
  }

  private readonly name: string;

  willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    if (context.requestId) request.http?.headers.set('x-request-id', context.requestId);
    if (this.routerSecret) request.http?.headers.set('router-authorization', this.routerSecret);
  }

  didReceiveResponse({ response }: { response: GatewayGraphQLResponse }): GatewayGraphQLResponse {
    if (this.onResponse && response.http) this.onResponse(this.name, response.http.headers as unknown as Headers);
    return response;
  }
}

/**
 * The supergraph for stock @apollo/gateway: composed from each subgraph's SDL as the subgraph
 * publishes it with FEDERATION_AUTH_DIRECTIVES=false (@apollo/gateway refuses a supergraph that
 * links @authenticated / @requiresScopes `for: SECURITY`; the subgraph enforces them itself).
 */
export function gatewaySupergraph(options: Parameters<typeof composeSupergraph>[1] = {}): string {
  return composeSupergraph(undefined, { ...options, authDirectives: false });
}

/**
 * A stock @apollo/gateway serving `supergraphSdl` on `port` (0: any free one), behind Express:
 * every answer carries X-Request-Id (refusals before GraphQL included), sent on to the
 * subgraphs; no stack traces in errors.
 */
export async function startGateway(options: {
  supergraphSdl: string;
  port: number;
  routerSecret?: string;
  onSubgraphResponse?: (subgraph: string, headers: Headers) => void;
}): Promise<{ url: string; stop: () => Promise<void> }> {
  if (/for: SECURITY/.test(options.supergraphSdl)) {
    throw new Error('@apollo/gateway refuses a supergraph linking @authenticated / @requiresScopes for: SECURITY: compose it with gatewaySupergraph() (composeSupergraph(…, { authDirectives: false }))');
  }
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ url, name }) => new ForwardingDataSource({ url: url!, name }, options.routerSecret, options.onSubgraphResponse),
  });
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const server = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
  });
  await server.start();
  app.use((req, res, next) => {
    const id = req.get('x-request-id')?.slice(0, 100) || randomUUID();
    res.locals.requestId = id;
    res.set('x-request-id', id);
    next();
  });
  app.use(
    '/',
    express.json({ limit: '1mb' }),
    expressMiddleware(server, {
      context: async ({ req, res }) => ({ authorization: req.headers.authorization, requestId: res.locals.requestId as string }),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, '127.0.0.1', resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, stop: () => server.stop() };
}

const answers = (url: string, init?: RequestInit) =>
  fetch(url, { ...init, signal: AbortSignal.timeout(2000) }).then(
    (res) => res,
    () => undefined,
  );

/**
 * The organizations subgraph on `port`: the one already listening there (an `npm start`), or
 * one of its own, started here. A start that fails ends the gateway with the reason.
 */
export async function organizationsSubgraph(port: number): Promise<{ child?: ChildProcess }> {
  const base = `http://127.0.0.1:${port}`;
  const live = await answers(`${base}/health/live`);
  if (live?.ok) {
    console.log(`using the organizations subgraph already listening on ${port}`);
    return {};
  }
  if (live) throw new Error(`port ${port} (PORT) answers, but not as the organizations subgraph (GET /health/live: ${live.status}): stop what runs there, or set PORT`);
  console.log(`starting the organizations subgraph on ${port} (nothing listens there)`);
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: String(port) },
    stdio: 'inherit',
  });
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the organizations subgraph it started exited (${child.exitCode ?? child.signalCode}) before it was ready: its "could not start" line above says why`);
    }
    if ((await answers(`${base}/health/ready`))?.ok) return { child };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGTERM');
  throw new Error(`the organizations subgraph it started on ${port} was not ready within 2 minutes`);
}

/** The example accounts subgraph on `port`: the one already listening there, or its own. */
export async function accountsSubgraph(port: number): Promise<{ url: string; stop?: () => Promise<void> }> {
  const url = `http://127.0.0.1:${port}/`;
  const res = await answers(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ _service { sdl } }' }) });
  if (res) {
    const sdl = res.ok ? ((await res.json().catch(() => ({}))) as { data?: { _service?: { sdl?: string } } }).data?._service?.sdl : undefined;
    if (!sdl?.includes('type User')) throw new Error(`port ${port} (ACCOUNTS_PORT) is taken by something that is not the accounts subgraph: stop it, or set ACCOUNTS_PORT`);
    console.log(`using the accounts subgraph already listening on ${port}`);
    return { url };
  }
  return startAccounts({ port, jwtSecret: process.env.JWT_SECRET });
}

/** npm run gateway: the organizations subgraph (PORT, 4001), the example accounts subgraph (ACCOUNTS_PORT, 4002) and a gateway (GATEWAY_PORT, 4000). */
async function main(): Promise<void> {
  const port = Number(process.env.GATEWAY_PORT ?? 4000);
  const subgraphPort = Number(process.env.PORT ?? 4001);
  const accountsPort = Number(process.env.ACCOUNTS_PORT ?? 4002);
  const organizations = await organizationsSubgraph(subgraphPort);
  let accounts: Awaited<ReturnType<typeof accountsSubgraph>> | undefined;
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  const stop = async () => {
    await gateway?.stop();
    await accounts?.stop?.();
    if (organizations.child && organizations.child.exitCode === null) {
      const exited = new Promise((resolve) => organizations.child!.once('exit', resolve));
      organizations.child.kill('SIGTERM');
      await exited;
    }
  };
  try {
    accounts = await accountsSubgraph(accountsPort);
    const supergraphSdl = gatewaySupergraph({
      routingUrls: { organizations: `http://127.0.0.1:${subgraphPort}/graphql`, accounts: accounts.url },
    });
    gateway = await startGateway({ supergraphSdl, port, routerSecret: process.env.ROUTER_SECRET }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EADDRINUSE' ? new Error(`port ${port} (GATEWAY_PORT) is in use: stop what runs there, or set GATEWAY_PORT`) : error;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  console.log(`gateway ready at ${gateway.url} (organizations on ${subgraphPort}, accounts on ${accountsPort})`);
  const shutdown = () => void stop().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(`npm run gateway: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
