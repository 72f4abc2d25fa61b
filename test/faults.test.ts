import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { newUser, unique } from './support/client';
import { CREATE, call, expectCleanFailure, LEAK, READ_ORG, READ_VIEWER, ready, RENAME, succeeded, UNAVAILABLE, type Outcome } from './support/outcomes';
import { startPostgresProcess, type PostgresProcess } from './support/postgres-process';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';

/**
 * PostgreSQL stopped and started again under a running server, idle and under load. This file
 * runs a PostgreSQL of its own (own data folder, own port): the one the other test files share
 * is never touched. A pool whose every connection is held: test/pool-exhaustion.test.ts.
 */

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
      await waitFor('the server to log the lost connections', () => /idle database connection lost/.test(server.output()));
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
});
