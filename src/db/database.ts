import { DatabaseError, Pool, type PoolClient } from 'pg';
import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { Logger } from '../logger';
import { entitiesOf, type RawRows } from './entity-rows';
import './timestamps';

/** The statements one request has sent. */
export interface StatementTally {
  statements: number;
}

/**
 * Who the row-level security policies (migrations/*-TenantWall.ts) let a statement see: a
 * user their organizations (plus their own memberships, invitations and join requests), an
 * API key its organization, a partner service or the process itself every organization,
 * anyone else nothing.
 */
export type Tenant =
  | { kind: 'user'; userId: string; verifiedEmail: string | null }
  | { kind: 'apiKey'; organizationId: string }
  | { kind: 'service' }
  | { kind: 'system' }
  | { kind: 'anonymous' };

export const SYSTEM: Tenant = { kind: 'system' };

export interface PoolOptions {
  url: string;
  poolSize: number;
  /** How long a statement waits for a free connection (DATABASE_POOL_TIMEOUT_MS) before it fails (DATABASE_BUSY). */
  poolTimeoutMs: number;
  applicationName: string;
  /** A role every connection switches to when it starts, for a URL that logs in as the owner (see connect.ts). */
  asRole?: string;
  logger: Logger;
}

/** What every handle on one pool shares. The pool is reachable through a `Database` only, so no statement runs without its tenant. */
interface Shared {
  pool: Pool;
  logger: Logger;
}

/** A statement slower than this is logged as slow (here and by TypeORM for migrations). */
export const SLOW_STATEMENT_MS = 1000;

/** Names of prepared statements by their text, the same on every connection (each prepares a name once). */
const statementNames = new Map<string, string>();

/** What each pooled connection was last told (tenant and plan mode), so it is told again only when that changes. */
const connectionSettings = new WeakMap<PoolClient, { key: string; planMode: PlanMode }>();

/** Connections holding a prepared statement whose plan a migration outdated: closed on release instead of pooled again. */
const staleConnections = new WeakSet<PoolClient>();

const SETTINGS = `SELECT set_config('tenant.kind', $1, false), set_config('tenant.user_id', $2, false),
  set_config('tenant.organization_id', $3, false), set_config('tenant.email', $4, false),
  set_config('plan_cache_mode', $5, false), set_config('enable_bitmapscan', $6, false)`;

/**
 * How PostgreSQL plans the next statements of a connection.
 *
 * `once`, for prepared statements (`prepare`): planned once per connection, without their values
 * (`force_generic_plan`). Left to choose, PostgreSQL re-planned every one whose array parameter
 * held one key, on every execution (a plan for an array of unknown length looks dearer): half of
 * its CPU per request on the members and audit pages (bench/RESULTS.md, eleventh session). A plan
 * made without the values must not depend on how many rows a key holds, so it walks an index and
 * stops at the page's LIMIT (no bitmap scans): estimating an organization at the average member
 * count (~1, with every user's personal organization), PostgreSQL otherwise read and sorted every
 * member of a big one for a page of 100 (1.6 ms instead of 0.3 at 1,000 members, and growing).
 *
 * `perValues`, for every other statement and every statement of a transaction: planned for its
 * values, PostgreSQL's default (a rare audit action is a sequential scan of 160 ms planned so, a
 * walk of the whole index of 960 ms planned without it).
 */
type PlanMode = 'once' | 'perValues';
const PLAN_SETTINGS: Record<PlanMode, { planCacheMode: string; bitmapScans: string }> = { once: { planCacheMode: 'force_generic_plan', bitmapScans: 'off' }, perValues: { planCacheMode: 'auto', bitmapScans: 'on' } };

/** A transaction plans per values for its own length (SET LOCAL), in the round trip that starts it: the connection's mode outside it stays. */
const START_TRANSACTION = `START TRANSACTION; SET LOCAL plan_cache_mode = ${PLAN_SETTINGS.perValues.planCacheMode}; SET LOCAL enable_bitmapscan = ${PLAN_SETTINGS.perValues.bitmapScans}`;

function tenantSettings(tenant: Tenant): string[] {
  switch (tenant.kind) {
    case 'user':
      return [tenant.kind, tenant.userId, '', tenant.verifiedEmail ?? ''];
    case 'apiKey':
      return [tenant.kind, '', tenant.organizationId, ''];
    default:
      return [tenant.kind, '', '', ''];
  }
}

/**
 * A request's way into PostgreSQL, over a `pg` pool of its own. Outside a transaction each
 * statement takes a pooled connection for itself; `transaction` pins one connection and every
 * statement of the callback goes through it. Rows come back raw (`query`) or as entities
 * (`select`). A handle made for a request counts its statements (`forRequest`): every
 * statement of a request goes through its handle, so the count is exact without tracking
 * async context.
 */
export class Database {
  private constructor(
    private readonly shared: Shared,
    private readonly client: PoolClient | undefined,
    readonly tally: StatementTally,
    readonly tenant: Tenant,
  ) {}

  /** The pool; fails here, not at the first request, when PostgreSQL refuses the login. */
  static async open(options: PoolOptions): Promise<Database> {
    const pool = new Pool({
      connectionString: options.url,
      max: options.poolSize,
      connectionTimeoutMillis: options.poolTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: options.applicationName,
      options: options.asRole ? `-c role=${options.asRole}` : undefined,
    });
    // An idle connection whose server went away: pg-pool drops it; unheard, the event would end the process.
    // Its words only: pg-pool hangs the whole client on the error.
    pool.on('error', (error) => options.logger.warn({ reason: error.message }, 'idle database connection lost'));
    try {
      (await pool.connect()).release();
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new Database({ pool, logger: options.logger }, undefined, { statements: 0 }, SYSTEM);
  }

  /** Closes the pool: for the process's shutdown, after the last request. */
  close(): Promise<void> {
    return this.shared.pool.end();
  }

  /** A handle on the same pool that counts the statements of one request. */
  forRequest(): Database {
    return new Database(this.shared, undefined, { statements: 0 }, this.tenant);
  }

  /** The same request's handle, its statements seen as `tenant` sees. Not inside a transaction: it has one tenant. */
  as(tenant: Tenant): Database {
    if (this.client) throw new Error('A transaction keeps the tenant it started with');
    return new Database(this.shared, undefined, this.tally, tenant);
  }

  get inTransaction(): boolean {
    return this.client !== undefined;
  }

  /**
   * Takes a pooled connection, telling it who asks and how to plan (PlanMode; unsaid, as it
   * last heard) when it last heard otherwise; never inside a transaction, so a rollback cannot undo it.
   */
  private async connect(planMode?: PlanMode): Promise<PoolClient> {
    const client = await this.shared.pool.connect();
    client.on('error', ignoreLostConnection);
    try {
      const told = connectionSettings.get(client);
      const mode = planMode ?? told?.planMode ?? 'perValues';
      const settings = [...tenantSettings(this.tenant), PLAN_SETTINGS[mode].planCacheMode, PLAN_SETTINGS[mode].bitmapScans];
      const key = settings.join('\u0000');
      if (told?.key !== key) {
        await client.query({ text: SETTINGS, values: settings });
        connectionSettings.set(client, { key, planMode: mode });
      }
      return client;
    } catch (error) {
      release(client, error as Error);
      throw error;
    }
  }

  /**
   * Raw rows, column names as PostgreSQL returns them. `prepare`: a statement the server keeps
   * per connection, parsed, rewritten (row-level security) and planned once (PlanMode) instead
   * of on every execution; for the few statement texts the loaders build and the statements
   * every write or a person's first request runs, whose result columns are named (with `*`, a
   * migration adding a column would make it fail: "cached plan must not change result type").
   * In a transaction: planned for its values five times, then generically if as cheap (auto).
   */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = [], options: { prepare?: boolean } = {}): Promise<T[]> {
    return (await this.statement(sql, params, options.prepare, false)).rows as T[];
  }

  /** The same, rows as arrays of values in column order (pg's `rowMode: 'array'`), for readers that build their own objects (db/entity-rows.ts). */
  async queryRows(sql: string, params: unknown[] = [], options: { prepare?: boolean } = {}): Promise<RawRows> {
    const { rows, fields } = await this.statement(sql, params, options.prepare, true);
    return { names: fields.map((field) => field.name), rows: rows as unknown[][] };
  }

  private async statement(sql: string, params: unknown[], prepare: boolean | undefined, asArrays: boolean): Promise<Sent> {
    this.tally.statements += 1;
    if (this.client) return this.run(this.client, sql, params, prepare, asArrays);
    for (;;) {
      const client = await this.connect(prepare ? 'once' : 'perValues');
      try {
        return await this.run(client, sql, params, prepare, asArrays);
      } catch (error) {
        // A migration changed what the statement returns (a column's type): its connection is
        // dropped (below), and the statement runs again unprepared, which no other pooled
        // connection's outdated copy can fail.
        if (!prepare || !staleConnections.has(client)) throw error;
        prepare = false;
        this.tally.statements += 1;
      } finally {
        release(client);
      }
    }
  }

  /** One statement; a failed one is logged with its SQL (debug: the caller decides whether it is a fault), a slow one warned of. */
  private async run(client: PoolClient, sql: string, params: unknown[], prepare = false, asArrays = false): Promise<Sent> {
    let name: string | undefined;
    if (prepare) {
      name = statementNames.get(sql);
      if (!name) statementNames.set(sql, (name = `organizations_${statementNames.size + 1}`));
    }
    const started = Date.now();
    try {
      const result = await send(client, { name, text: sql, values: params, rowMode: asArrays ? 'array' : undefined });
      const took = Date.now() - started;
      if (took > SLOW_STATEMENT_MS) this.shared.logger.warn({ time: took, query: sql.slice(0, 500) }, 'slow sql');
      return result;
    } catch (error) {
      this.shared.logger.debug({ err: error, query: sql }, 'sql failed');
      if (prepare && isStalePlan(error)) staleConnections.add(client);
      throw error;
    }
  }

  /** Rows of `entity`'s table, with their properties named as the entity names them. */
  async select<T extends ObjectLiteral>(entity: EntityTarget<T>, sql: string, params: unknown[] = [], options: { prepare?: boolean } = {}): Promise<T[]> {
    return entitiesOf(entity, await this.queryRows(sql, params, options));
  }

  async selectOne<T extends ObjectLiteral>(entity: EntityTarget<T>, sql: string, params: unknown[] = [], options: { prepare?: boolean } = {}): Promise<T | undefined> {
    return (await this.select(entity, sql, params, options))[0];
  }

  /** One transaction around `work`; already inside one, `work` joins it. */
  async transaction<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    if (this.client) return work(this);
    const client = await this.connect();
    let open = false;
    let broken: Error | undefined;
    try {
      // Open from here: should a SET LOCAL of the start fail, the rollback ends what it began.
      open = true;
      await this.run(client, START_TRANSACTION, []);
      this.tally.statements += 1;
      const result = await work(new Database(this.shared, client, this.tally, this.tenant));
      await this.run(client, 'COMMIT', []);
      open = false;
      this.tally.statements += 1;
      return result;
    } catch (error) {
      // A connection that cannot roll back is not pooled again, in the middle of its transaction.
      if (open) await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
      throw error;
    } finally {
      release(client, broken);
    }
  }
}

/**
 * A checked-out connection whose server went away between two statements: its next statement
 * fails (DATABASE_UNAVAILABLE) and pg-pool drops it on release; unheard, the event would end the process.
 */
const ignoreLostConnection = () => undefined;

function release(client: PoolClient, error?: Error): void {
  client.removeListener('error', ignoreLostConnection);
  // With an error, pg-pool closes the connection instead of keeping it.
  client.release(error ?? (staleConnections.has(client) ? new Error('stale prepared statement') : undefined));
}

/** A prepared statement whose result a migration changed (PostgreSQL's own words: its code 0A000 covers more). */
const isStalePlan = (error: unknown): boolean =>
  error instanceof DatabaseError && error.code === '0A000' && error.message === 'cached plan must not change result type';

/** A unique constraint refused the row (`constraint`: that one). */
export const isUniqueViolation = (error: unknown, constraint?: string): boolean =>
  error instanceof DatabaseError && error.code === '23505' && (constraint === undefined || error.constraint === constraint);

interface Sent {
  rows: unknown[];
  fields: { name: string }[];
}

/**
 * A statement in pg's callback form. pg's promise form kept each result alive through a
 * young-generation collection (20 rows: 6 KB of 17 allocated; nothing with a callback), so a
 * dashboard's rows, and all they were joined to, were copied and promoted.
 */
function send(client: PoolClient, config: { name?: string; text: string; values: unknown[]; rowMode?: 'array' }): Promise<Sent> {
  return new Promise((resolve, reject) => client.query(config, (error: Error | null, result: Sent) => (error ? reject(error) : resolve(result))));
}
