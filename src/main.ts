import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config';
import { Database } from './db/database';
import { connectDatabase, type DatabaseHandle } from './db/connect';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import { MailWorker } from './modules/mail/mail.worker';
import { buildGuardedSchema } from './schema';
import { createHttpServer, type HttpServer } from './server';

/** config → database → server; SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the pool, stop PostgreSQL. */
async function main(): Promise<void> {
  const started = Date.now();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.env.LOG_LEVEL);
  let database: DatabaseHandle | undefined;
  let http: HttpServer | undefined;
  let mailer: MailWorker | undefined;
  let stopping = false;

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await http?.close();
      await mailer?.stop();
      await database?.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'unclean shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    database = await connectDatabase(config, logger, { runMigrations: config.env.MIGRATIONS_RUN });
    const db = new Database(database.dataSource);
    const schema = await buildGuardedSchema();
    if (config.env.MAIL_WORKER) {
      mailer = new MailWorker(db, config, logger);
      mailer.start();
    }
    http = await createHttpServer({ config, logger, db, mailer }, schema, createMetrics());
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    await mailer?.stop().catch(() => undefined);
    await database?.close().catch(() => undefined);
    process.exit(1);
  }
  const { port } = http.server.address() as AddressInfo;
  const url = `http://localhost:${port}/graphql`;
  logger.info(
    { url, database: database.embedded ? `embedded PostgreSQL in ${config.dataDir}` : 'DATABASE_URL', startupMs: Date.now() - started },
    `organizations subgraph ready at ${url}`,
  );
  if (!config.isProduction) {
    logger.info(`Apollo Sandbox: open ${url}; a token for it: npm run token -- ada@example.com --name "Ada Lovelace"`);
  }
}

void main();
