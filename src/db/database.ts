import type { DataSource, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';

/** The statements one request has sent. */
export interface StatementTally {
  statements: number;
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
  ) {}

  /** A handle on the same pool that counts the statements of one request. */
  forRequest(): Database {
    return new Database(this.dataSource, undefined, { statements: 0 });
  }

  get inTransaction(): boolean {
    return this.runner !== undefined;
  }

  /** Raw rows, column names as PostgreSQL returns them. */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.tally.statements += 1;
    if (this.runner) return (await this.runner.query(sql, params, true)).records as T[];
    const runner = this.dataSource.createQueryRunner();
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
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      this.tally.statements += 1;
      const result = await work(new Database(this.dataSource, runner, this.tally));
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

/** Renames raw columns (`organization_id`) to entity properties (`organizationId`). */
export function mapRows<T extends ObjectLiteral>(dataSource: DataSource, entity: EntityTarget<T>, rows: Record<string, unknown>[]): T[] {
  const metadata = dataSource.getMetadata(entity);
  let columns = columnMaps.get(metadata);
  if (!columns) {
    columns = metadata.columns.map((c) => [c.databaseName, c.propertyName]);
    columnMaps.set(metadata, columns);
  }
  return rows.map((row) => {
    const mapped: Record<string, unknown> = {};
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
