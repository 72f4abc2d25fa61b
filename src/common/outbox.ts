import type { Database } from '../db/database';
import { databaseFailure } from '../errors';
import type { Logger } from '../logger';

/**
 * One transactional outbox mechanism for every kind of message (mail, webhooks): rows written
 * in the change's own transaction, claimed by a worker in each process with
 * `FOR UPDATE SKIP LOCKED`, sent outside any transaction, and retried with backoff.
 *
 * Claiming leases a row: its next_attempt_at moves past the lease and its attempts are counted
 * (so that a row whose outcome is never recorded, a sender that dies or a database that refuses
 * the outcome, still runs out of attempts), in a transaction that commits at once. The send runs with no transaction open (a slow receiver holds no connection
 * and no xid that would hold back the event feed's horizon); the sender then records the
 * outcome. A process that dies mid-send leaves the row to be claimed again once the lease
 * ends: at least once, never lost.
 */
export interface OutboxTable {
  /** The table; its rows have `id`, `next_attempt_at` and `attempts`. */
  table: string;
  /** SQL over the table's columns: the row still has to be sent. */
  pending: string;
  /** How long a claimed row is left to its sender before another worker may claim it again. */
  leaseMs: number;
}

export interface ClaimOptions {
  limit: number;
  /** Extra SQL condition on the rows, with `$3…` placeholders for `params`. */
  where?: string;
  params?: unknown[];
  /** At most `max` claimed rows per value of `column`, counting those `inFlight` already has (in this process: the cap is per process). */
  perKey?: { column: string; max: number; inFlight: ReadonlyMap<string, number> };
}

/** Leases up to `limit` due rows, oldest due first, skipping rows another worker holds; each comes back with this attempt counted. */
export async function claimDue<T>(db: Database, outbox: OutboxTable, options: ClaimOptions): Promise<T[]> {
  const extra = options.where ? ` AND (${options.where})` : '';
  const base = 2 + (options.params?.length ?? 0);
  let chosen = `SELECT id FROM ${outbox.table} WHERE ${outbox.pending} AND next_attempt_at <= now()${extra}
    ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`;
  const values: unknown[] = [outbox.leaseMs, options.limit, ...(options.params ?? [])];
  if (options.perKey) {
    const { column, max, inFlight } = options.perKey;
    const full = [...inFlight].filter(([, n]) => n >= max).map(([key]) => key);
    // Keys at their cap are left out of the rows locked: otherwise one key's backlog could fill the
    // window and a pass would claim nothing while other keys wait. The rows locked are ranked
    // within their key; a key's room is its cap less what is in flight. A key whose room is less
    // than its rows here is full at the next claim of the pass, and out of the window then.
    chosen = `SELECT ranked.id FROM (
        SELECT locked.id, locked.next_attempt_at, locked.${column} AS key,
               row_number() OVER (PARTITION BY locked.${column} ORDER BY locked.next_attempt_at, locked.id) AS n
        FROM (SELECT id, next_attempt_at, ${column} FROM ${outbox.table} WHERE ${outbox.pending} AND next_attempt_at <= now()${extra}
                AND NOT (${column}::text = ANY ($${base + 1}::text[]))
              ORDER BY next_attempt_at, id LIMIT $2 * 4 FOR UPDATE SKIP LOCKED) locked
      ) ranked
      LEFT JOIN unnest($${base + 2}::text[], $${base + 3}::int[]) AS busy(key, n) ON busy.key = ranked.key::text
      WHERE ranked.n <= $${base + 4} - coalesce(busy.n, 0)
      ORDER BY ranked.next_attempt_at, ranked.id LIMIT $2`;
    values.push(full, [...inFlight.keys()], [...inFlight.values()], max);
  }
  return db.transaction((tx) =>
    tx.query<T>(
      `UPDATE ${outbox.table} AS t SET next_attempt_at = now() + make_interval(secs => $1::double precision / 1000), attempts = t.attempts + 1
       FROM (${chosen}) AS due WHERE t.id = due.id RETURNING t.*`,
      values,
    ),
  );
}

/**
 * Ends the leases of rows whose send stopped on a database failure before recording an outcome,
 * so that they are due again now rather than when the lease ends (WEBHOOK_TIMEOUT_MS + 30 s):
 * only rows still to be sent, and only while the lease is still that claim's (attempts
 * unchanged: another worker that claimed the row since counted one more).
 */
export async function releaseLeases(db: Database, outbox: OutboxTable, rows: readonly { id: string; attempts: number }[]): Promise<void> {
  await db.query(
    `UPDATE ${outbox.table} AS t SET next_attempt_at = now() FROM unnest($1::uuid[], $2::int[]) AS r(id, attempts)
     WHERE t.id = r.id AND t.attempts = r.attempts AND t.next_attempt_at > now() AND ${outbox.pending}`,
    [rows.map((r) => r.id), rows.map((r) => r.attempts)],
  );
}

/**
 * The delay before attempt `attempts + 1` after `attempts` failed ones: the schedule's step
 * (its last step again past its end), spread by ±`jitter` so that retries of a burst do not
 * arrive together; never sooner than `notBeforeMs` (a receiver's Retry-After).
 */
export function retryDelay(schedule: readonly number[], attempts: number, options: { jitter?: number; notBeforeMs?: number; random?: () => number } = {}): number {
  const step = schedule[Math.min(Math.max(attempts - 1, 0), schedule.length - 1)];
  const jitter = options.jitter ?? 0.1;
  const spread = step * jitter * (2 * (options.random ?? Math.random)() - 1);
  return Math.max(Math.round(step + spread), options.notBeforeMs ?? 0);
}

export interface OutboxWorkerOptions<T extends { id: string; attempts: number }> {
  name: string;
  logger: Logger;
  pollIntervalMs: number;
  /** Rows sent at once by this process. */
  concurrency: number;
  /** Leases up to `limit` due rows (claimDue). */
  claim(limit: number): Promise<T[]>;
  /** Sends one claimed row and records its outcome; a throw is logged, and the lease retries it. */
  send(row: T): Promise<void>;
  /** releaseLeases: rows whose send failed on the database are due again once it answers. */
  release(rows: readonly T[]): Promise<void>;
  /** Runs now and then between passes (retention). */
  housekeeping?: { everyMs: number; run(): Promise<void> };
}

/**
 * The worker loop every outbox shares: polls, or is nudged after a commit; keeps up to
 * `concurrency` sends running, claiming more as each ends; stops after the sends under way.
 */
export class OutboxWorker<T extends { id: string; attempts: number }> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Rows whose send failed on the database (a restart of PostgreSQL): released by the next pass. */
  private unreleased: T[] = [];
  private lastHousekeeping = 0;

  constructor(private readonly options: OutboxWorkerOptions<T>) {}

  start(): void {
    this.timer = setInterval(() => this.nudge(), this.options.pollIntervalMs);
    this.timer.unref();
    this.nudge();
  }

  /** Look for due rows now (and again after the current pass, if one is running). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((error) => this.options.logger.error({ err: error }, `${this.options.name} worker pass failed`))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.nudge();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    await Promise.allSettled([...this.inFlight]);
  }

  private async pass(): Promise<void> {
    const { housekeeping } = this.options;
    if (housekeeping && Date.now() - this.lastHousekeeping >= housekeeping.everyMs) {
      this.lastHousekeeping = Date.now();
      await housekeeping.run().catch((error) => this.options.logger.error({ err: error }, `${this.options.name} housekeeping failed`));
    }
    if (this.unreleased.length) {
      const rows = this.unreleased;
      this.unreleased = [];
      await this.options.release(rows).catch((error) => {
        this.unreleased.push(...rows);
        throw error;
      });
    }
    while (!this.stopped) {
      const room = this.options.concurrency - this.inFlight.size;
      if (room <= 0) {
        // Claim again as soon as one send ends.
        await Promise.race(this.inFlight);
        continue;
      }
      const rows = await this.options.claim(room);
      if (!rows.length) return;
      for (const row of rows) {
        const sending: Promise<void> = this.options
          .send(row)
          .catch((error) => {
            // On a database failure the row is due again as soon as the database answers; on anything else, when its lease ends.
            if (databaseFailure(error)) this.unreleased.push(row);
            this.options.logger.error({ err: error, id: row.id }, `${this.options.name} send failed; retried ${databaseFailure(error) ? 'once the database answers' : 'once its lease ends'}`);
          })
          .finally(() => {
            this.inFlight.delete(sending);
            // A send that ended may have freed the room another row was waiting for.
            if (!this.running) this.nudge();
          });
        this.inFlight.add(sending);
      }
    }
  }
}
