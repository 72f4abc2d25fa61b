import { QueryFailedError, QueryRunnerAlreadyReleasedError, type DataSource, type EntityTarget, type ObjectLiteral, type QueryRunner } from 'typeorm';

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

/** Names of prepared statements by their text, the same on every connection (each prepares a name once). */
const statementNames = new Map<string, string>();

/** The tenant each pooled connection was last told about, so it is told again only when that changes. */
const connectionTenants = new WeakMap<object, string>();

const SET_TENANT = `SELECT set_config('tenant.kind', $1, false), set_config('tenant.user_id', $2, false),
  set_config('tenant.organization_id', $3, false), set_config('tenant.email', $4, false)`;

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
 * A request's way into PostgreSQL. Outside a transaction each statement takes a pooled
 * connection for itself; `transaction` pins one connection and every statement of the
 * callback goes through it. Rows come back as entity-shaped objects (`mapRows`). A handle made
 * for a request counts its statements (`forRequest`): every statement of a request goes
 * through its handle, so the count is exact without tracking async context.
 */
export class Database {
  constructor(
    readonly dataSource: DataSource,
    private readonly runner?: QueryRunner,
    readonly tally: StatementTally = { statements: 0 },
    readonly tenant: Tenant = SYSTEM,
  ) {}

  /** A handle on the same pool that counts the statements of one request. */
  forRequest(): Database {
    return new Database(this.dataSource, undefined, { statements: 0 }, this.tenant);
  }

  /** The same request's handle, its statements seen as `tenant` sees. Not inside a transaction: it has one tenant. */
  as(tenant: Tenant): Database {
    if (this.runner) throw new Error('A transaction keeps the tenant it started with');
    return new Database(this.dataSource, undefined, this.tally, tenant);
  }

  /** Takes a pooled connection, telling it who asks when it last served someone else; never inside a transaction, so a rollback cannot undo it. */
  private async connect(): Promise<QueryRunner> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const connection = (await runner.connect()) as PgClient;
      const settings = tenantSettings(this.tenant);
      const key = settings.join('\u0000');
      if (connectionTenants.get(connection) !== key) {
        await send(connection, { text: SET_TENANT, values: settings });
        connectionTenants.set(connection, key);
      }
      return runner;
    } catch (error) {
      await runner.release();
      throw error;
    }
  }

  get inTransaction(): boolean {
    return this.runner !== undefined;
  }

  /**
   * Raw rows, column names as PostgreSQL returns them. `prepare`: a statement the server keeps
   * per connection, parsed and rewritten (row-level security) once instead of on every
   * execution, and after five executions possibly planned once too; for the few statement
   * texts the loaders build, whose result columns are named (with `*`, a migration adding a
   * column would make it fail: "cached plan must not change result type").
   */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = [], options: { prepare?: boolean } = {}): Promise<T[]> {
    this.tally.statements += 1;
    if (this.runner) return (await this.run(this.runner, sql, params, options.prepare)) as T[];
    let prepare = options.prepare;
    for (;;) {
      const runner = await this.connect();
      try {
        return (await this.run(runner, sql, params, prepare)) as T[];
      } catch (error) {
        // A migration changed what the statement returns (a column's type): its connection is
        // dropped (below), and the statement runs again unprepared, which no other pooled
        // connection's outdated copy can fail.
        if (!prepare || !staleConnections.has(runner)) throw error;
        prepare = false;
        this.tally.statements += 1;
      } finally {
        await release(runner);
      }
    }
  }

  /**
   * One statement on the pg client behind TypeORM's runner, with TypeORM's logging and errors.
   * Not TypeORM's `query` nor pg's promise form: pg's promise form kept every result alive
   * through a young-generation collection (20 rows: 6 KB of 17 allocated, against nothing with a
   * callback), so a dashboard's rows, and all they were joined to, were copied and promoted.
   */
  private async run(runner: QueryRunner, sql: string, params: unknown[], prepare = false): Promise<unknown[]> {
    if (runner.isReleased) throw new QueryRunnerAlreadyReleasedError();
    const logger = this.dataSource.logger;
    const client = (await runner.connect()) as PgClient;
    let name: string | undefined;
    if (prepare) {
      name = statementNames.get(sql);
      if (!name) statementNames.set(sql, (name = `organizations_${statementNames.size + 1}`));
    }
    logger.logQuery(sql, params, runner);
    const started = Date.now();
    try {
      const rows = await send(client, { name, text: sql, values: params });
      const took = Date.now() - started;
      const slow = (this.dataSource.options as { maxQueryExecutionTime?: number }).maxQueryExecutionTime;
      if (slow && took > slow) logger.logQuerySlow(took, sql, params, runner);
      return rows;
    } catch (error) {
      logger.logQueryError(error as Error, sql, params, runner);
      if (prepare && isStalePlan(error)) staleConnections.add(runner);
      throw new QueryFailedError(sql, params, error as Error);
    }
  }

  /** Rows of `entity`'s table, with their properties named as the entity names them. */
  async select<T extends ObjectLiteral>(entity: EntityTarget<T>, sql: string, params: unknown[] = [], options: { prepare?: boolean } = {}): Promise<T[]> {
    return mapRows(this.dataSource, entity, await this.query(sql, params, options));
  }

  async selectOne<T extends ObjectLiteral>(entity: EntityTarget<T>, sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.select(entity, sql, params))[0];
  }

  /** One transaction around `work`; already inside one, `work` joins it. */
  async transaction<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    if (this.runner) return work(this);
    const runner = await this.connect();
    try {
      await runner.startTransaction();
      this.tally.statements += 1;
      const result = await work(new Database(this.dataSource, runner, this.tally, this.tenant));
      await runner.commitTransaction();
      this.tally.statements += 1;
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await release(runner);
    }
  }
}

/** The pg client behind a TypeORM runner. */
interface PgClient {
  query(config: { name?: string; text: string; values: unknown[] }, callback: (error: Error | null, result: { rows: unknown[] }) => void): void;
}

/** A statement in pg's callback form (see `Database.run`): its rows, or its error. */
function send(client: PgClient, config: { name?: string; text: string; values: unknown[] }): Promise<unknown[]> {
  return new Promise((resolve, reject) => client.query(config, (error, result) => (error ? reject(error) : resolve(result.rows))));
}

/** A prepared statement whose result a migration changed (PostgreSQL's own words: its code 0A000 covers more). */
const isStalePlan = (error: unknown): boolean => {
  const { code, message } = error as { code?: string; message?: string };
  return code === '0A000' && message === 'cached plan must not change result type';
};

/** Connections holding a prepared statement whose plan a migration outdated: closed instead of pooled again. */
const staleConnections = new WeakSet<QueryRunner>();

async function release(runner: QueryRunner): Promise<void> {
  if (!staleConnections.has(runner)) return runner.release();
  // TypeORM's PostgresQueryRunner: with an error, pg-pool closes the connection instead of keeping it.
  await (runner as unknown as { releasePostgresConnection(error: Error): Promise<void> }).releasePostgresConnection(new Error('stale prepared statement'));
}

const columnMaps = new WeakMap<object, [string, string][]>();

/** Renames raw columns (`organization_id`) to entity properties (`organizationId`), on instances of the entity class. */
export function mapRows<T extends ObjectLiteral>(dataSource: DataSource, entity: EntityTarget<T>, rows: Record<string, unknown>[]): T[] {
  const metadata = dataSource.getMetadata(entity);
  let columns = columnMaps.get(metadata);
  if (!columns) {
    columns = metadata.columns.map((c) => [c.databaseName, c.propertyName]);
    columnMaps.set(metadata, columns);
  }
  // Instances of the entity class: type-graphql hands `@Root()` an instance as it is, a plain object it copies on every field.
  const prototype = (metadata.target as { prototype?: object }).prototype ?? Object.prototype;
  return rows.map((row) => {
    const mapped: Record<string, unknown> = Object.create(prototype);
    for (const [column, property] of columns) if (column in row) mapped[property] = row[column];
    return mapped as T;
  });
}

/** An entity read along with another table's rows under a prefix (`o."id" AS "__o.id"`), and taken off such a row again. */
export interface JoinedEntity<T> {
  /** The select list: named columns, as a prepared statement needs. */
  select: string;
  /** The entity `row` carries, or null when the outer join found none. */
  from(row: Record<string, unknown>): T | null;
}

const joinedEntities = new WeakMap<object, Map<string, JoinedEntity<ObjectLiteral>>>();

/** `entity`'s columns under `alias`, read as `prefix.column`: worked out once per process, not per request. */
export function joinedEntity<T extends ObjectLiteral>(dataSource: DataSource, entity: EntityTarget<T>, alias: string, prefix: string): JoinedEntity<T> {
  const metadata = dataSource.getMetadata(entity);
  let byPrefix = joinedEntities.get(metadata);
  if (!byPrefix) joinedEntities.set(metadata, (byPrefix = new Map()));
  const name = `${alias} ${prefix}`;
  let joined = byPrefix.get(name);
  if (!joined) {
    const columns = metadata.columns.map((c) => [`${prefix}.${c.databaseName}`, c.propertyName] as const);
    const id = `${prefix}.id`;
    const prototype = (metadata.target as { prototype?: object }).prototype ?? Object.prototype;
    joined = {
      select: metadata.columns.map((c) => `${alias}."${c.databaseName}" AS "${prefix}.${c.databaseName}"`).join(', '),
      from(row) {
        if (row[id] === null || row[id] === undefined) return null;
        const found: Record<string, unknown> = Object.create(prototype);
        for (const [key, property] of columns) found[property] = row[key];
        return found;
      },
    };
    byPrefix.set(name, joined);
  }
  return joined as JoinedEntity<T>;
}

/** The PostgreSQL error code and constraint behind a failed statement, if any. */
export function postgresError(error: unknown): { code?: string; constraint?: string } {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })?.driverError;
  return driverError ?? (error as { code?: string; constraint?: string }) ?? {};
}

export const isUniqueViolation = (error: unknown, constraint?: string): boolean => {
  const e = postgresError(error);
  return e.code === '23505' && (constraint === undefined || e.constraint === constraint);
};
