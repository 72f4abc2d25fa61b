import 'reflect-metadata';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db/connect';
import { createLogger } from '../src/logger';

/** npm run migration:run — applies pending migrations to DATABASE_URL (or the embedded server) and exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.env.LOG_LEVEL);
  const db = await connectDatabase(config, logger, { runMigrations: true });
  const pending = await db.dataSource.showMigrations();
  logger.info({ pending }, 'migrations up to date');
  await db.close();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
