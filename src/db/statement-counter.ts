import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from '../logger';

/** Counts the SQL statements of one request, wherever in the request they are issued. */
export interface StatementTally {
  statements: number;
}

export const statementTally = new AsyncLocalStorage<StatementTally>();

/** TypeORM calls logQuery for every statement it sends: we count it against the current request. */
export class CountingLogger implements TypeOrmLogger {
  constructor(private readonly logger: Logger) {}

  logQuery(query: string): void {
    const tally = statementTally.getStore();
    if (tally) tally.statements += 1;
    if (this.logger.isLevelEnabled('trace')) this.logger.trace({ query }, 'sql');
  }

  logQueryError(error: string | Error, query: string): void {
    this.logger.debug({ err: error, query }, 'sql failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ time, query: query.slice(0, 500) }, 'slow sql');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.info(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}
