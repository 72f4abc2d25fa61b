import { Client } from 'pg';
import { newUser, unique } from './support/client';
import { BUSY, CREATE, call, expectCleanFailure, READ_ORG, READ_VIEWER, ready, RENAME, succeeded } from './support/outcomes';
import { ownDatabase } from './support/own-database';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';

/**
 * The database busy under a running server: a pool whose every connection is held, and more
 * operations than may run at once. On a database of its own (its rows locked, its servers'
 * pools starved), on the PostgreSQL the other test files share.
 */
describe('the database busy under a running server', () => {
  const own = ownDatabase('busy');
  const url = own.url;
  const servers: RunningServer[] = [];
  let admin: Client;
  const sql = async <T = Record<string, any>>(text: string, params: unknown[] = []): Promise<T[]> => (await admin.query(text, params)).rows as T[];

  beforeAll(async () => {
    await own.create();
    admin = new Client({ connectionString: url });
    await admin.connect();
  });

  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    await admin?.end();
    await own.drop();
  });

  /** Until `count` of the server's requests wait on a lock (the test's: the database is the file's own). */
  async function waitForLockWaiters(count: number) {
    let waiting = 0;
    await waitFor(() => `${count} requests waiting on the lock (${waiting} now)`, async () => {
      [{ waiting }] = await sql<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'organizations-subgraph' AND wait_event_type = 'Lock'`,
      );
      return waiting === count;
    });
  }

  describe('a pool whose every connection is held', () => {
    const POOL_TIMEOUT_MS = 1000;
    let server: RunningServer;
    beforeAll(async () => {
      // Operations enough for all of the test's at once: here it is the pool that runs out (the next block: the operations' turns).
      server = await startServer({ DATABASE_URL: url, DATABASE_POOL_SIZE: '2', DATABASE_POOL_TIMEOUT_MS: String(POOL_TIMEOUT_MS), GRAPHQL_CONCURRENCY: '10' });
      servers.push(server);
    }, 120_000);

    it('further requests wait DATABASE_POOL_TIMEOUT_MS, then fail cleanly; the held ones finish once the lock goes', async () => {
      const owner = newUser('Holder');
      const created = await call(server, 'write', CREATE, { input: { name: 'Locked', slug: unique('locked') } }, owner);
      expect(succeeded(created)).toBe(true);
      const org = created.data!.createOrganization;
      const other = await call(server, 'write', CREATE, { input: { name: 'Other', slug: unique('other') } }, owner);
      expect(succeeded(other)).toBe(true);

      // The test's own transaction locks the organization's row: each rename blocks on it inside its
      // transaction, holding one of the two pooled connections.
      const holder = new Client({ connectionString: url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [org.id]);
        const held = [call(server, 'rename', RENAME, { id: org.id, name: 'Renamed 1' }, owner), call(server, 'rename', RENAME, { id: org.id, name: 'Renamed 2' }, owner)];
        await waitForLockWaiters(2);

        // Nothing in the pool: a member's read (authorization reads the database), a newcomer (authentication
        // writes their user), a write on another organization, and readiness all wait, then fail.
        const [read, newcomer, write, probe, typename] = await Promise.all([
          call(server, 'read organization', READ_ORG, { id: other.data!.createOrganization.id }, owner),
          call(server, 'newcomer', READ_VIEWER, {}, newUser('Newcomer')),
          call(server, 'write', CREATE, { input: { name: 'Starved' } }, owner),
          ready(server),
          // What needs no database still answers at once.
          call(server, 'typename', '{ __typename }', {}, null),
        ]);
        for (const o of [read, newcomer, write]) {
          const waited = o.ended - o.started;
          console.log(`[faults] pool exhausted: ${o.kind} failed after ${waited} ms (DATABASE_POOL_TIMEOUT_MS=${POOL_TIMEOUT_MS})`);
          expect(waited).toBeGreaterThanOrEqual(POOL_TIMEOUT_MS - 50);
          expect(waited).toBeLessThan(POOL_TIMEOUT_MS + 2000);
          expectCleanFailure(o, BUSY);
        }
        expect(probe.status).toBe(503);
        expect(probe.ended - probe.started).toBeLessThan(POOL_TIMEOUT_MS + 2000);
        expect(typename).toMatchObject({ status: 200, data: { __typename: 'Query' } });
        expect(typename.ended - typename.started).toBeLessThan(POOL_TIMEOUT_MS);
        // The failed write left nothing behind.
        expect(await sql(`SELECT 1 FROM organizations WHERE name = 'Starved'`)).toEqual([]);

        // The lock goes: the held requests were waiting, not failed, and complete.
        await holder.query('ROLLBACK');
        const renames = await Promise.all(held);
        for (const o of renames) expect(succeeded(o)).toBe(true);
        expect(['Renamed 1', 'Renamed 2']).toContain((await sql('SELECT name FROM organizations WHERE id = $1', [org.id]))[0].name);
        const after = await call(server, 'read organization', READ_ORG, { id: org.id }, owner);
        expect(succeeded(after)).toBe(true);
        expect(after.ended - after.started).toBeLessThan(POOL_TIMEOUT_MS);
        expect(server.process.exitCode).toBeNull();
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end();
      }
    }, 60_000);
  });
  describe('more operations than GRAPHQL_CONCURRENCY at once', () => {
    const TURN_TIMEOUT_MS = 1000;
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ DATABASE_URL: url, GRAPHQL_CONCURRENCY: '2', DATABASE_POOL_TIMEOUT_MS: String(TURN_TIMEOUT_MS) });
      servers.push(server);
    }, 120_000);

    it('the others wait their turn: they run when one ends, or fail cleanly after DATABASE_POOL_TIMEOUT_MS', async () => {
      const owner = newUser('Turns');
      const created = await call(server, 'write', CREATE, { input: { name: 'Turns', slug: unique('turns') } }, owner);
      expect(succeeded(created)).toBe(true);
      const org = created.data!.createOrganization;
      const holder = new Client({ connectionString: url });
      await holder.connect();
      const waitingMetric = async () => Number(/^graphql_operations_waiting (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1]);
      try {
        // Two renames blocked on the test's row lock take both turns.
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [org.id]);
        const held = [call(server, 'rename', RENAME, { id: org.id, name: 'Turn 1' }, owner), call(server, 'rename', RENAME, { id: org.id, name: 'Turn 2' }, owner)];
        await waitForLockWaiters(2);

        // A third, even one needing no database, waits its turn, then fails cleanly; a client that
        // gives up while waiting leaves no turn behind.
        const giveUp = new AbortController();
        const gaveUp = fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}', signal: giveUp.signal }).catch(() => 'gave up');
        const third = call(server, 'typename', '{ __typename }', {}, null);
        await waitFor('2 operations waiting for a turn', async () => (await waitingMetric()) === 2);
        giveUp.abort();
        expect(await gaveUp).toBe('gave up');
        const refused = await third;
        expect(refused.ended - refused.started).toBeGreaterThanOrEqual(TURN_TIMEOUT_MS - 50);
        expectCleanFailure(refused, BUSY);
        // An audit export takes a turn like any operation: it too waits, then fails cleanly.
        const exportStarted = Date.now();
        const exported = await fetch(`${server.url}/audit/export?organizationId=${org.id}`, { headers: { authorization: `Bearer ${owner.token}` } });
        const exportBody = await exported.text();
        expect(Date.now() - exportStarted).toBeGreaterThanOrEqual(TURN_TIMEOUT_MS - 50);
        expect({ status: exported.status, retryAfter: exported.headers.get('retry-after'), body: JSON.parse(exportBody) }).toEqual({
          status: 503,
          retryAfter: '1',
          body: { errors: [{ message: 'The database is busy, try again', extensions: BUSY }] },
        });

        // One waiting when the lock goes runs as soon as a rename ends.
        const next = call(server, 'read organization', READ_ORG, { id: org.id }, owner);
        await waitFor('the read to wait for a turn', async () => (await waitingMetric()) === 1);
        await holder.query('ROLLBACK');
        for (const o of await Promise.all(held)) expect(succeeded(o)).toBe(true);
        const served = await next;
        expect(succeeded(served)).toBe(true);
        expect(served.ended - served.started).toBeLessThan(TURN_TIMEOUT_MS);
        expect(await waitingMetric()).toBe(0);
        // Every turn came back: two at once run straight away.
        const both = await Promise.all([call(server, 'typename', '{ __typename }', {}, null), call(server, 'typename', '{ __typename }', {}, null)]);
        for (const o of both) expect(o).toMatchObject({ status: 200, data: { __typename: 'Query' } });
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end();
      }
    }, 60_000);
  });
});
