import 'reflect-metadata';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { postgresServer } from './connect';
import { createDataSource, runMigrations } from './data-source';

/**
 * The data source of the TypeORM CLI (npm run migration:run / migration:generate), as the
 * owner of the tables. DATABASE_URL, or else the embedded PostgreSQL in DATA_DIR, started for
 * the command and stopped when it exits. Pending migrations are applied first, so that
 * `migration:generate` diffs the entities against what the existing migrations build.
 */
async function cliDataSource() {
  const config = loadConfig();
  const logger = createLogger(config.env.LOG_LEVEL);
  const { url } = await postgresServer(config, logger);
  const migrator = createDataSource({ url, poolSize: 1, logger });
  await migrator.initialize();
  try {
    await runMigrations(migrator, logger);
  } finally {
    await migrator.destroy();
  }
  // The CLI initializes the data source itself, so it gets a fresh one on the same server.
  return createDataSource({ url, poolSize: 2, logger });
}

export const dataSource = cliDataSource();
