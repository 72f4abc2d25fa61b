import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ApolloGateway } from '@apollo/gateway';
import { composeSupergraph } from '../examples/compose';
import { newUser, ok, serverUrl, type TestUser } from './support/client';
import { ROOT, startServer, TEST_JWT_SECRET } from './support/servers';
import net from 'node:net';

/** An example as `npm run <name>` runs it, in its own process; resolves with the URL it prints once ready. */
function run(file: string, env: Record<string, string | undefined>) {
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const url = /ready at (\S+)/.exec(line)?.[1];
      if (url) resolve(url);
    });
    void exited.then((code) => reject(new Error(`${file} exited with ${code} before it was ready:\n${output}`)));
  });
  ready.catch(() => undefined);
  return {
    ready,
    exited,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const post = (url: string, query: string, user?: TestUser, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { authorization: `Bearer ${user.token}` } : {}), ...headers },
    body: JSON.stringify({ query }),
  });

/** A port nothing listens on now. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

const PORT_OF_SUITE = () => new URL(serverUrl()).port;

describe('FEDERATION_AUTH_DIRECTIVES', () => {
  it('false: _service.sdl has no @authenticated / @requiresScopes, and stock @apollo/gateway loads its supergraph; the default one it refuses', async () => {
    const subgraph = await startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL, FEDERATION_AUTH_DIRECTIVES: 'false' });
    try {
      const sdl = ((await (await post(`${subgraph.url}/graphql`, '{ _service { sdl } }')).json()) as { data: { _service: { sdl: string } } }).data._service.sdl;
      expect(sdl).toMatch(/@key\(fields: "id"\)/);
      expect(sdl).not.toMatch(/@authenticated|@requiresScopes/);
      const dir = fs.mkdtempSync(path.join(process.env.TEST_RUN_DIR ?? '/tmp', 'sdl-'));
      fs.writeFileSync(path.join(dir, 'organizations.graphql'), sdl);
      fs.copyFileSync(path.join(ROOT, 'examples/accounts/schema.graphql'), path.join(dir, 'accounts.graphql'));
      fs.writeFileSync(
        path.join(dir, 'supergraph.yaml'),
        `subgraphs:\n  organizations: { routing_url: "${subgraph.url}/graphql", schema: { file: ./organizations.graphql } }\n  accounts: { routing_url: "http://127.0.0.1:9/", schema: { file: ./accounts.graphql } }\n`,
      );
      const load = async (supergraphSdl: string) => {
        const gateway = new ApolloGateway({ supergraphSdl });
        try {
          await gateway.load();
        } finally {
          await gateway.stop();
        }
      };
      await expect(load(composeSupergraph(path.join(dir, 'supergraph.yaml')))).resolves.toBeUndefined();
      await expect(load(composeSupergraph())).rejects.toThrow(/SECURITY|authenticated|requiresScopes/);
    } finally {
      await subgraph.stop();
    }
  });
});

describe('composition', () => {
  it("composes with Apollo's (@apollo/composition) and The Guild's (@theguild/federation-composition) libraries", () => {
    const apollo = composeSupergraph(undefined, { composer: 'apollo' });
    const guild = composeSupergraph(undefined, { composer: 'guild' });
    for (const supergraph of [apollo, guild]) {
      expect(supergraph).toMatch(/@join__graph\(name: "organizations"/);
      expect(supergraph).toMatch(/@join__graph\(name: "accounts"/);
      expect(supergraph).toMatch(/type User[^{]*\{[^}]*organizations: \[Organization!\]!/s);
    }
  });
});

describe('the example gateways, as processes', () => {
  let accounts: ReturnType<typeof run>;
  let accountsPort: string;
  beforeAll(async () => {
    accounts = run('examples/accounts/server.ts', { ACCOUNTS_PORT: '0' });
    accountsPort = new URL(await accounts.ready).port;
  });
  afterAll(async () => {
    await accounts?.stop();
  });

  const ME = '{ me { email organizations { name viewerRole } } viewer { personalOrganization { name } } }';

  it('npm run gateway uses the subgraph already listening, answers as Hive Gateway does, with X-Request-Id and no stack traces', async () => {
    const env = { PORT: PORT_OF_SUITE(), ACCOUNTS_PORT: accountsPort, GATEWAY_PORT: '0' };
    const apollo = run('examples/gateway.ts', env);
    const hive = run('examples/hive-gateway.ts', env);
    try {
      const apolloUrl = await apollo.ready;
      const hiveUrl = await hive.ready;
      expect(apollo.output()).toMatch(`using the organizations subgraph already listening on ${PORT_OF_SUITE()}`);
      expect(apollo.output()).toMatch(`using the accounts subgraph already listening on ${accountsPort}`);
      const user = newUser('Gateway Walker');
      await ok('mutation { createOrganization(input: { name: "Walkers" }) { id } }', {}, user);
      const viaApollo = await (await post(apolloUrl, ME, user)).json();
      const viaHive = await (await post(hiveUrl, ME, user)).json();
      expect(viaApollo).toEqual({
        data: { me: { email: user.email, organizations: expect.arrayContaining([{ name: 'Walkers', viewerRole: 'OWNER' }]) }, viewer: { personalOrganization: { name: expect.any(String) } } },
      });
      expect(viaHive).toEqual(viaApollo);

      // No stack traces, whatever fails.
      for (const query of ['{ viewer { nope } }', '{ viewer { id ', '{ organization(id: "not-a-uuid") { id } }']) {
        const body = JSON.stringify(await (await post(apolloUrl, query, user)).json());
        expect(body).not.toMatch(/stacktrace/);
      }
      // X-Request-Id on a CSRF-prevention refusal and on an answer, forwarded to the subgraph.
      const refused = await fetch(`${apolloUrl}?query=${encodeURIComponent('{ __typename }')}`);
      expect(refused.status).toBe(400);
      expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const traced = await post(apolloUrl, 'mutation { createOrganization(input: { name: "Traced Through" }) { id } }', user, { 'x-request-id': 'through-the-gateway-1' });
      expect(traced.headers.get('x-request-id')).toBe('through-the-gateway-1');
      const { createOrganization } = ((await traced.json()) as { data: { createOrganization: { id: string } } }).data;
      const { organization } = await ok<{ organization: { auditEvents: { nodes: { requestId: string }[] } } }>(
        'query($id: ID!) { organization(id: $id) { auditEvents(first: 1) { nodes { requestId } } } }',
        { id: createOrganization.id },
        user,
      );
      expect(organization.auditEvents.nodes[0].requestId).toBe('through-the-gateway-1');
    } finally {
      await apollo.stop();
      await hive.stop();
    }
  });

  it('npm run gateway whose own subgraph cannot start says why (the data folder in use, by PID) and never says ready', async () => {
    // The suite's embedded PostgreSQL holds its data folder; with DATABASE_URL set (no embedded one), a server of our own does.
    let own: Awaited<ReturnType<typeof startServer>> | undefined;
    let dataDir = path.join(process.env.TEST_RUN_DIR ?? '', 'postgres');
    if (!fs.existsSync(path.join(dataDir, 'postmaster.pid'))) {
      dataDir = fs.mkdtempSync(path.join(process.env.TEST_RUN_DIR ?? '/tmp', 'held-'));
      own = await startServer({ DATA_DIR: dataDir });
    }
    try {
      const gateway = run('examples/gateway.ts', { PORT: String(await freePort()), DATA_DIR: dataDir, ACCOUNTS_PORT: accountsPort, GATEWAY_PORT: '0' });
      const code = await gateway.exited;
      expect(code).not.toBe(0);
      const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(gateway.output()).toMatch(`is in use by PostgreSQL PID ${pid}`);
      expect(gateway.output()).toMatch(/npm run gateway: the organizations subgraph it started exited/);
      expect(gateway.output()).not.toMatch(/gateway ready/);
    } finally {
      await own?.stop();
    }
  });
});
