import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { newUser, unique, type TestUser } from './support/client';
import { startPostgresProcess, type PostgresProcess } from './support/postgres-process';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';

/**
 * The database failing under a running server: PostgreSQL stopped and started again under
 * load, and a pool whose every connection is held. This file runs a PostgreSQL of its own
 * (own data folder, own port): the one the other test files share is never touched.
 */

const CREATE = 'mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id slug name } }';
const READ_ORG = 'query($id: ID!) { organization(id: $id) { id name members { totalCount } } }';
const READ_VIEWER = '{ viewer { id personalOrganization { id } memberships { totalCount } } }';
const RENAME = 'mutation($id: ID!, $name: String!) { updateOrganization(input: { id: $id, name: $name }) { id name } }';

/** What must never reach a client: a stack frame, SQL, or the driver's own words. */
const LEAK = /at .*\.(ts|js):\d+|\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\s+"?[a-z_]+"?\s+SET\b|\bDELETE FROM\b|violates|constraint|ECONN|57P0|terminat|Context creation|timeout exceeded|postgres/i;
const UNAVAILABLE = { code: 'INTERNAL_SERVER_ERROR', reason: 'DATABASE_UNAVAILABLE' };
const BUSY = { code: 'INTERNAL_SERVER_ERROR', reason: 'DATABASE_BUSY' };

interface Outcome {
  kind: string;
  started: number;
  ended: number;
  /** HTTP status; null when no answer came at all. */
  status: number | null;
  retryAfter: string | null;
  body: string;
  data: Record<string, any> | null;
  errors: { message: string; extensions: Record<string, unknown> }[] | undefined;
}

async function call(server: RunningServer, kind: string, query: string, variables: Record<string, unknown>, user: TestUser | null): Promise<Outcome> {
  const started = Date.now();
  try {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(user ? { authorization: `Bearer ${user.token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = await res.text();
    const parsed = JSON.parse(body) as { data?: Record<string, any>; errors?: Outcome['errors'] };
    return { kind, started, ended: Date.now(), status: res.status, retryAfter: res.headers.get('retry-after'), body, data: parsed.data ?? null, errors: parsed.errors };
  } catch (error) {
    return { kind, started, ended: Date.now(), status: null, retryAfter: null, body: String(error), data: null, errors: undefined };
  }
}

const succeeded = (o: Outcome) => o.status === 200 && !o.errors && o.data !== null;

/**
 * A request the database could not serve, failing as a client should see it: an answer
 * (the process did not die), the documented code with the reason, HTTP 503 with Retry-After
 * when nothing of the operation succeeded, and neither stack nor SQL nor driver message.
 */
function expectCleanFailure(o: Outcome, expected: { code: string; reason: string }): void {
  expect({ kind: o.kind, status: o.status, body: o.body }).toEqual({ kind: o.kind, status: 503, body: expect.not.stringMatching(LEAK) });
  expect(o.retryAfter).toBe('1');
  expect(o.errors).toHaveLength(1);
  expect(o.errors![0].extensions).toEqual(expected);
  expect(o.errors![0].message).toBe(expected.reason === 'DATABASE_BUSY' ? 'The database is busy, try again' : 'The database is unavailable, try again');
}

async function ready(server: RunningServer): Promise<{ started: number; ended: number; status: number | null }> {
  const started = Date.now();
  const status = await fetch(`${server.url}/health/ready`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.status, () => null);
  return { started, ended: Date.now(), status };
}

/** The pace of the load and of the readiness probes: a rate, not a wait for something to happen. */
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the database failing under a running server', () => {
  let dataDir: string;
  let port: number;
  let postgres: PostgresProcess | undefined;
  let url: string;
  const servers: RunningServer[] = [];
  let admin: Client | undefined;

  /** Direct SQL on this file's PostgreSQL, as its superuser (past any row-level security). */
  async function sql<T = Record<string, any>>(text: string, params: unknown[] = []): Promise<T[]> {
    if (!admin) {
      admin = new Client({ connectionString: url });
      admin.on('error', () => undefined);
      await admin.connect();
    }
    return (await admin.query(text, params)).rows as T[];
  }

  async function stopPostgres(mode: 'fast' | 'immediate') {
    await admin?.end().catch(() => undefined);
    admin = undefined;
    await postgres!.stop(mode);
    postgres = undefined;
  }

  async function startPostgres() {
    postgres = await startPostgresProcess(dataDir, port);
    // Same port, same URL: the server is not told anything.
    expect(postgres.url).toBe(url);
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(process.env.TEST_RUN_DIR ?? os.tmpdir(), 'faults-pg-'));
    postgres = await startPostgresProcess(dataDir, 0);
    url = postgres.url;
    port = Number(new URL(url).port);
  }, 120_000);

  afterAll(async () => {
    await admin?.end().catch(() => undefined);
    for (const server of servers) await server.stop('SIGKILL');
    await postgres?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  /** Until `count` of the server's requests wait on a lock (the test's: this PostgreSQL is the file's own). */
  async function waitForLockWaiters(count: number) {
    let waiting = 0;
    await waitFor(() => `${count} requests waiting on the lock (${waiting} now)`, async () => {
      [{ waiting }] = await sql<{ waiting: number }>(`SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE application_name = 'organizations-subgraph' AND wait_event_type = 'Lock'`);
      return waiting === count;
    });
  }

  // A test that failed half-way must not leave the next one without its database.
  afterEach(async () => {
    if (!postgres) await startPostgres();
  }, 60_000);

  describe('PostgreSQL restarted', () => {
    let server: RunningServer;
    beforeAll(async () => {
      // The mail worker polls the database too: an outage must not take it (or the process) down.
      server = await startServer({ DATABASE_URL: url, DATABASE_POOL_SIZE: '8', DATABASE_POOL_TIMEOUT_MS: '2000', MAIL_WORKER: 'true', MAIL_POLL_INTERVAL_MS: '100' });
      servers.push(server);
    }, 120_000);

    /** Until a request started after PostgreSQL was back has succeeded; how long that took. */
    async function recovery(back: number, probe: () => Promise<Outcome>): Promise<number> {
      const o = await waitFor('a request to succeed after PostgreSQL was back', async () => {
        const o = await probe();
        return succeeded(o) && o;
      }, { interval: 25 });
      return o.ended - back;
    }

    it('idle pooled connections dying with PostgreSQL do not kill the process; it is ready again by itself', async () => {
      const owner = newUser('Idle');
      // Fill the pool with connections, then leave them idle.
      const warm = await Promise.all(Array.from({ length: 8 }, () => call(server, 'read', READ_VIEWER, {}, owner)));
      expect(warm.filter(succeeded)).toHaveLength(8);
      const home = warm[0].data!.viewer.personalOrganization.id;
      // The connections are back in the pool, idle.
      let idle = 0;
      await waitFor(() => `2 idle pooled connections (${idle} seen)`, async () => {
        [{ idle }] = await sql<{ idle: number }>(`SELECT count(*)::int AS idle FROM pg_stat_activity WHERE application_name = 'organizations-subgraph' AND state = 'idle'`);
        return idle >= 2;
      });

      await stopPostgres('fast');
      // The pool saw its idle connections die (the process would have died of it here)...
      await waitFor('the server to log the pool error', () => /pool raised an error/.test(server.output()));
      // ...and the process is still alive, and says the database is down.
      expect(server.process.exitCode).toBeNull();
      expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
      expect((await ready(server)).status).toBe(503);
      expectCleanFailure(await call(server, 'read', READ_VIEWER, {}, owner), UNAVAILABLE);
      // Outside GraphQL too: the audit export of someone whose authentication needs the database.
      const exported = await fetch(`${server.url}/audit/export?organizationId=${home}&format=ndjson`, { headers: { authorization: `Bearer ${newUser('Exporter').token}` } });
      const exportBody = await exported.text();
      expect({ status: exported.status, retryAfter: exported.headers.get('retry-after'), body: exportBody }).toEqual({ status: 503, retryAfter: '1', body: expect.not.stringMatching(LEAK) });
      expect(JSON.parse(exportBody)).toEqual({ errors: [{ message: 'The database is unavailable, try again', extensions: UNAVAILABLE }] });

      await startPostgres();
      const back = Date.now();
      const recovered = await recovery(back, () => call(server, 'read', READ_VIEWER, {}, owner));
      console.log(`[faults] idle pool: ready again ${recovered} ms after PostgreSQL was back`);
      expect(recovered).toBeLessThan(5000);
      expect((await ready(server)).status).toBe(200);
      expect(server.process.exitCode).toBeNull();
    }, 60_000);

    it.each<['fast' | 'immediate']>([['immediate'], ['fast']])(
      'under a steady load of reads and writes, a %s shutdown: clean errors while down, recovery within 5 s, no acknowledged write lost',
      async (mode) => {
        const workers = Array.from({ length: 4 }, (_, i) => newUser(`Worker ${i}`));
        const homes: string[] = [];
        for (const w of workers) {
          const o = await call(server, 'write', CREATE, { input: { name: 'Home', slug: unique('home') } }, w);
          expect(succeeded(o)).toBe(true);
          homes.push(o.data!.createOrganization.id);
        }
        const outcomes: Outcome[] = [];
        const probes: Awaited<ReturnType<typeof ready>>[] = [];
        const acknowledged = new Map<string, string>();
        let running = true;
        let n = 0;
        const drive = async (w: number) => {
          while (running) {
            const step = n++ % 5;
            let o: Outcome;
            if (step === 0) {
              const slug = unique('load');
              o = await call(server, 'write', CREATE, { input: { name: `Load ${slug}`, slug } }, workers[w]);
              if (succeeded(o)) acknowledged.set(o.data!.createOrganization.slug, o.data!.createOrganization.id);
            } else if (step === 1) {
              o = await call(server, 'read organization', READ_ORG, { id: homes[w] }, workers[w]);
            } else if (step === 2) {
              o = await call(server, 'read viewer', READ_VIEWER, {}, workers[w]);
            } else if (step === 3) {
              // Authorized by a rule that reads the caller's access from the database.
              o = await call(server, 'rename', RENAME, { id: homes[w], name: `Home ${n}` }, workers[w]);
            } else {
              // Someone new: authenticating them writes their user row, before any resolver runs.
              o = await call(server, 'newcomer', READ_VIEWER, {}, newUser('Newcomer'));
            }
            outcomes.push(o);
            await pause(succeeded(o) ? 5 : 25);
          }
        };
        const poll = async () => {
          while (running) {
            probes.push(await ready(server));
            await pause(100);
          }
        };
        const traffic = Promise.all([...workers.map((_, w) => drive(w)), poll()]);
        const kinds = (list: Outcome[]) => new Set(list.map((o) => o.kind)).size;

        // The load runs: every kind of request has succeeded.
        await waitFor('every kind of request to succeed before the stop', () => kinds(outcomes.filter(succeeded)) === 5);
        const stopping = Date.now();
        await stopPostgres(mode);
        const down = Date.now();
        // Down long enough for every kind of request to have failed, and readiness to have said so 5 times.
        await waitFor('every kind of request to fail, and 5 readiness probes, while PostgreSQL is down', () =>
          kinds(outcomes.filter((o) => o.started >= down && !succeeded(o))) === 5 && probes.filter((p) => p.started >= down).length >= 5,
        );
        const restarting = Date.now();
        await startPostgres();
        const back = Date.now();
        const recovered = await recovery(back, () => call(server, 'read viewer', READ_VIEWER, {}, workers[0]));
        // What a user sees after the recovery: more than 10 requests in a row answered, and readiness 200. However slow
        // the machine, this only takes longer (a fixed second after the recovery held 7 requests on a busy one).
        const after = () => outcomes.filter((o) => o.started > back + recovered);
        await waitFor(() => `more than 10 requests after the recovery (${after().length} so far) and a readiness probe`, () =>
          after().length > 10 && probes.some((p) => p.started > back + recovered),
        { timeout: 30_000 });
        running = false;
        await traffic;

        const failed = outcomes.filter((o) => !succeeded(o));
        const inFlight = failed.filter((o) => o.started < stopping);
        console.log(
          `[faults] ${mode} restart: ${outcomes.length} requests, ${failed.length} failed (${inFlight.length} in flight at the stop), ` +
            `${acknowledged.size} writes acknowledged, recovered ${recovered} ms after PostgreSQL was back`,
        );
        // Failures only while PostgreSQL was away, and every one of them clean.
        expect(failed.length).toBeGreaterThan(0);
        for (const o of failed) {
          expect(o.ended).toBeGreaterThanOrEqual(stopping);
          expect(o.started).toBeLessThanOrEqual(back + recovered);
          // The rename too, though authorized by a rule that reads the database: never FORBIDDEN or NOT_FOUND for an outage.
          expectCleanFailure(o, UNAVAILABLE);
        }
        expect(new Set(failed.map((o) => o.kind))).toEqual(new Set(['write', 'read organization', 'read viewer', 'rename', 'newcomer']));
        // Before the stop and after the recovery, everything succeeded.
        expect(outcomes.filter((o) => o.ended < stopping).every(succeeded)).toBe(true);
        expect(outcomes.filter((o) => o.started > back + recovered).every(succeeded)).toBe(true);
        expect(outcomes.filter((o) => o.started > back + recovered).length).toBeGreaterThan(10);
        // Readiness: 503 the whole time PostgreSQL was down, 200 once it is back.
        const whileDown = probes.filter((p) => p.started >= down && p.ended <= restarting);
        expect(whileDown.length).toBeGreaterThanOrEqual(5);
        expect(whileDown.every((p) => p.status === 503)).toBe(true);
        expect(probes.filter((p) => p.started > back + recovered).some((p) => p.status === 200)).toBe(true);
        // By itself, without a restart of the server, and quickly.
        expect(recovered).toBeLessThan(5000);
        // The mail worker's polls failed too, and it kept going.
        expect(server.output()).toMatch(/mail worker pass failed/);
        expect(server.process.exitCode).toBeNull();

        // Every write the server acknowledged is there, whole (with its OWNER and subscription).
        const rows = await sql<{ slug: string; id: string; owners: number; subscriptions: number }>(
          `SELECT o.slug, o.id,
                  (SELECT count(*)::int FROM memberships m WHERE m.organization_id = o.id AND m.role = 'OWNER') AS owners,
                  (SELECT count(*)::int FROM subscriptions s WHERE s.organization_id = o.id) AS subscriptions
             FROM organizations o WHERE o.slug = ANY($1)`,
          [[...acknowledged.keys()]],
        );
        expect(rows.length).toBe(acknowledged.size);
        for (const row of rows) expect(row).toEqual({ slug: row.slug, id: acknowledged.get(row.slug), owners: 1, subscriptions: 1 });
        // And nothing was half-written by the requests that failed.
        expect(await sql(`SELECT id FROM organizations o WHERE kind = 'TEAM' AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = o.id AND m.role = 'OWNER')`)).toEqual([]);
      },
      90_000,
    );
  });

  describe('a pool whose every connection is held', () => {
    const POOL_TIMEOUT_MS = 1000;
    let server: RunningServer;
    beforeAll(async () => {
      // Operations enough for all of the test's at once: here it is the pool that runs out (the next block: the operations' turns).
      server = await startServer({ DATABASE_URL: url, DATABASE_POOL_SIZE: '2', DATABASE_POOL_TIMEOUT_MS: String(POOL_TIMEOUT_MS), GRAPHQL_CONCURRENCY: '10', MIGRATIONS_RUN: 'false' });
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
      server = await startServer({ DATABASE_URL: url, GRAPHQL_CONCURRENCY: '2', DATABASE_POOL_TIMEOUT_MS: String(TURN_TIMEOUT_MS), MIGRATIONS_RUN: 'false' });
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
