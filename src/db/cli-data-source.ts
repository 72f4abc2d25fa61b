import 'reflect-metadata';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { connectDatabase } from './connect';
import { createDataSource } from './data-source';

/**
 * The data source of the TypeORM CLI (npm run migration:run / migration:generate).
 * DATABASE_URL, or else the embedded PostgreSQL in DATA_DIR, started for the command and
 * stopped when it exits. Pending migrations are applied first, so that `migration:generate`
 * diffs the entities against what the existing migrations build.
 */
async function cliDataSource() {
  const config = loadConfig();
  const logger = createLogger(config.env.LOG_LEVEL);
  const database = await connectDatabase(config, logger, { runMigrations: true });
  const url = (database.dataSource.options as { url: string }).url;
  await database.dataSource.destroy();
  // The CLI initializes the data source itself, so it gets a fresh one on the same server.
  return createDataSource({ url, poolSize: 2, logger });
}

export const dataSource = cliDataSource();
