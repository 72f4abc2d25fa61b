import type { DataSource, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';

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
      const connection = (await runner.connect()) as { query(sql: string, params: unknown[]): Promise<unknown> };
      const settings = tenantSettings(this.tenant);
      const key = settings.join('\u0000');
      if (connectionTenants.get(connection) !== key) {
        await connection.query(SET_TENANT, settings);
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

  /** Raw rows, column names as PostgreSQL returns them. */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.tally.statements += 1;
    if (this.runner) return (await this.runner.query(sql, params, true)).records as T[];
    const runner = await this.connect();
    try {
      return (await runner.query(sql, params, true)).records as T[];
    } finally {
      await runner.release();
    }
  }

  /** Rows of `entity`'s table, with their properties named as the entity names them. */
  async select<T extends ObjectLiteral>(entity: EntityTarget<T>, sql: string, params: unknown[] = []): Promise<T[]> {
    return mapRows(this.dataSource, entity, await this.query(sql, params));
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
      await runner.release();
    }
  }
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

/** The PostgreSQL error code and constraint behind a failed statement, if any. */
export function postgresError(error: unknown): { code?: string; constraint?: string } {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })?.driverError;
  return driverError ?? (error as { code?: string; constraint?: string }) ?? {};
}

export const isUniqueViolation = (error: unknown, constraint?: string): boolean => {
  const e = postgresError(error);
  return e.code === '23505' && (constraint === undefined || e.constraint === constraint);
};
