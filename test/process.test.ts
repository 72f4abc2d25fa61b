import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { gql, newUser, signToken, sql } from './support/client';
import { ROOT, startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';

const databaseUrl = () => process.env.TEST_DATABASE_URL!;
const PRODUCTION_KEY = Buffer.alloc(32, 7).toString('base64');

describe('configuration', () => {
  const start = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl(), ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it.each([
    [{ PORT: 'abc' }, /^Invalid configuration: PORT: expected an integer from 0 to 65535, got "abc"$/],
    [{ GRAPHQL_CONCURRENCY: '-1' }, /^Invalid configuration: GRAPHQL_CONCURRENCY: expected an integer from 0 to 100000, got "-1"$/],
    [{ DATABASE_URL: 'mysql://x' }, /^Invalid configuration: DATABASE_URL: expected a URL starting with postgres:\/\/ or postgresql:\/\//],
    [{ JWT_SECRET: 'short' }, /^Invalid configuration: JWT_SECRET: expected at least 32 characters/],
    [{ NODE_ENV: 'production' }, /^Invalid configuration: JWT_SECRET: JWT_SECRET or JWKS_URL is required when NODE_ENV=production/],
    [{ DEFAULT_TEAM_PLAN: 'GOLD' }, /^Invalid configuration: DEFAULT_TEAM_PLAN: expected one of STARTER, PRO, TEAM, BUSINESS, ENTERPRISE/],
    [{ MIGRATIONS_RUN: 'maybe' }, /^Invalid configuration: MIGRATIONS_RUN: expected true or false/],
    [{ ENCRYPTION_KEY: 'c2hvcnQ=' }, /^Invalid configuration: ENCRYPTION_KEY: expected 32 bytes in base64/],
    [{ DNS_SERVERS: 'dns.google' }, /^Invalid configuration: DNS_SERVERS: expected comma-separated IP addresses, each with an optional port/],
    [{ DOMAIN_RECHECK_INTERVAL: 'daily' }, /^Invalid configuration: DOMAIN_RECHECK_INTERVAL: expected one duration such as 24h/],
    [
      { NODE_ENV: 'production', JWT_SECRET: 'a-production-secret-of-at-least-32-chars!' },
      /^Invalid configuration: ENCRYPTION_KEY: ENCRYPTION_KEY is required when NODE_ENV=production/,
    ],
  ])('refuses to start on %j with one line naming the variable', (env, message) => {
    const result = start(env);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
  });
});

describe('a running process', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
  });

  it('with ROUTER_SECRET, refuses requests that do not come through the router', async () => {
    server = await startServer({ DATABASE_URL: databaseUrl(), ROUTER_SECRET: 'router-secret-1' });
    const direct = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{__typename}"}' });
    expect(direct.status).toBe(401);
    expect(((await direct.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const wrong = await gql('{ __typename }', {}, null, { url: server.url, headers: { 'router-authorization': 'nope' } });
    expect(wrong.status).toBe(401);
    const routed = await gql('{ __typename }', {}, null, { url: server.url, headers: { 'router-authorization': 'router-secret-1' } });
    expect(routed.status).toBe(200);
    expect(routed.data).toEqual({ __typename: 'Query' });
    // The audit export too, before it reads a token.
    const owner = newUser('Router Exporter');
    const exported = await fetch(`${server.url}/audit/export?organizationId=00000000-0000-4000-8000-000000000000`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect(exported.status).toBe(401);
    expect(await exported.json()).toEqual({ errors: [{ message: 'Requests must come through the router', extensions: { code: 'UNAUTHENTICATED' } }] });
    // Partner services verify organization tokens without the router: the public keys are for anyone.
    const jwks = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(await jwks.json()).toEqual({ keys: expect.any(Array) });
  });

  it('in production: no landing page, no introspection, masked errors, codes kept', async () => {
    server = await startServer({ DATABASE_URL: databaseUrl(), NODE_ENV: 'production', JWT_SECRET: 'a-production-secret-of-at-least-32-chars!', ENCRYPTION_KEY: PRODUCTION_KEY });
    const landing = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await landing.text()).not.toMatch(/sandbox/i);
    const introspection = await gql('{ __schema { types { name } } }', {}, null, { url: server.url });
    expect(introspection.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(introspection.data).toBeFalsy();
    const anonymous = await gql('{ viewer { id } }', {}, null, { url: server.url });
    expect(anonymous.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(anonymous.headers.get('x-sql-statements')).toBeNull();
    // An internal failure: a trigger raises with a message that must not reach the client.
    const owner = newUser();
    const token = signToken({ sub: owner.id, email: owner.email, email_verified: true }, 'a-production-secret-of-at-least-32-chars!');
    const created = await gql<{ createOrganization: { id: string } }>('mutation { createOrganization(input: { name: "Masked" }) { id } }', {}, token, { url: server.url });
    const id = created.data!.createOrganization.id;
    const fn = `fail_update_${id.replace(/-/g, '')}`;
    await sql(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'SELECT secret FROM vault'; END $$`);
    await sql(`CREATE TRIGGER ${fn} BEFORE UPDATE ON organizations FOR EACH ROW WHEN (OLD.id = '${id}') EXECUTE FUNCTION ${fn}()`);
    try {
      const res = await gql('mutation($id: ID!) { updateOrganization(input: { id: $id, name: "Boom" }) { id } }', { id }, token, { url: server.url });
      expect(res.errors).toEqual([{ message: 'Internal server error', path: ['updateOrganization'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    } finally {
      await sql(`DROP TRIGGER ${fn} ON organizations`);
      await sql(`DROP FUNCTION ${fn}()`);
    }
  });

  it('with INTROSPECTION=true in production, introspection answers', async () => {
    server = await startServer({
      DATABASE_URL: databaseUrl(),
      NODE_ENV: 'production',
      INTROSPECTION: 'true',
      JWT_SECRET: 'a-production-secret-of-at-least-32-chars!',
      ENCRYPTION_KEY: PRODUCTION_KEY,
    });
    const res = await gql('{ __schema { queryType { name } } }', {}, null, { url: server.url });
    expect(res.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    server = await startServer({ DATABASE_URL: databaseUrl() });
    const running = server;
    const user = newUser();
    const created = await gql<{ createOrganization: { id: string } }>('mutation { createOrganization(input: { name: "In flight" }) { id } }', {}, user, { url: server.url });
    const id = created.data!.createOrganization.id;
    // A rename waits in PostgreSQL on the test's lock on its organization: in flight when the signal arrives, and
    // until the server has begun shutting down.
    const holder = new Client({ connectionString: databaseUrl() });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      const [{ pid }] = (await holder.query('SELECT pg_backend_pid() AS pid')).rows;
      await holder.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [id]);
      const inFlight = gql('mutation($id: ID!) { updateOrganization(input: { id: $id, name: "Renamed in flight" }) { name } }', { id }, user, { url: server.url });
      await waitFor('the rename to wait on the lock', async () => (await sql('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]))[0].n === 1);
      const stopped = server.stop('SIGTERM');
      await waitFor('the server to begin shutting down', () => /"msg":"shutting down"/.test(running.output()));
      await holder.query('ROLLBACK');
      expect(await stopped).toBe(0);
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ updateOrganization: { name: 'Renamed in flight' } });
      expect(server.output()).toMatch(/"msg":"stopped"/);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  });
});
