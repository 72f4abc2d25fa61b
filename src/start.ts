import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { Config } from './config';
import type { Database } from './db/database';
import { connectDatabase, type DatabaseHandle } from './db/connect';
import { createLogger, type Logger } from './logger';
import { purgeAuditEvents } from './modules/audit/audit.service';
import { createMetrics } from './metrics';
import { MailWorker } from './modules/mail/mail.worker';
import { SigningKeys } from './modules/organization-token/signing-keys';
import { WebhookWorker } from './modules/webhook/webhook.worker';
import { DomainWorker } from './modules/domain/domain.worker';
import { buildGuardedSchema } from './schema';
import { createHttpServer, type HttpServer } from './server';

/** database → server, for a configuration already checked; SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the pool, stop PostgreSQL. */
export async function start(config: Config, started: number): Promise<void> {
  const logger = createLogger(config.env.LOG_LEVEL);
  let database: DatabaseHandle | undefined;
  let http: HttpServer | undefined;
  let mailer: MailWorker | undefined;
  let webhooks: WebhookWorker | undefined;
  let domains: DomainWorker | undefined;
  let purge: NodeJS.Timeout | undefined;
  let keyRotation: NodeJS.Timeout | undefined;
  let stopping = false;

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      clearInterval(purge);
      clearInterval(keyRotation);
      await http?.close();
      await mailer?.stop();
      await webhooks?.stop();
      await domains?.stop();
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
    const { db } = database;
    const schema = await buildGuardedSchema({ unguarded: config.env.BENCH_UNGUARDED, authDirectives: config.env.FEDERATION_AUTH_DIRECTIVES });
    if (config.env.BENCH_UNGUARDED) logger.warn('BENCH_UNGUARDED: authorization rules are OFF (benchmark only)');
    if (config.env.MAIL_WORKER) {
      mailer = new MailWorker(db, config, logger);
      mailer.start();
    }
    const metrics = createMetrics(config.metrics.operationNames);
    if (config.env.WEBHOOK_WORKER) {
      webhooks = new WebhookWorker(db, config, logger, metrics);
      webhooks.start();
    }
    const signingKeys = new SigningKeys(config, logger);
    const services = { config, logger, db, signingKeys, mailer, webhooks };
    http = await createHttpServer(services, schema, metrics);
    if (config.env.DOMAIN_WORKER) {
      domains = new DomainWorker(services);
      domains.start();
    }
    keyRotation = signingKeys.schedule(db);
    purge = schedulePurge(db, config.env.AUDIT_RETENTION_DAYS, config.env.AUDIT_PURGE_INTERVAL_MINUTES, logger);
  } catch (error) {
    // The reason in the message itself, at any log level: the stack is in `err`.
    logger.fatal({ err: error }, `could not start: ${error instanceof Error ? error.message : String(error)}`);
    await mailer?.stop().catch(() => undefined);
    await webhooks?.stop().catch(() => undefined);
    await domains?.stop().catch(() => undefined);
    await database?.close().catch(() => undefined);
    process.exit(1);
  }
  const { port } = http.server.address() as AddressInfo;
  // A parent that started us with an IPC channel (the tests, with PORT=0) learns the port bound.
  process.send?.({ port });
  const url = `http://localhost:${port}/graphql`;
  logger.info(
    { url, database: database.embedded ? `embedded PostgreSQL in ${config.dataDir}` : 'DATABASE_URL', startupMs: Date.now() - started },
    `organizations subgraph ready at ${url}`,
  );
  if (!config.isProduction) {
    logger.info(`Apollo Sandbox: open ${url}; a token for it: bin/token ada@example.com --name "Ada Lovelace"`);
  }
  if (config.graphiql) logger.info(`GraphiQL (works offline): http://localhost:${port}/graphiql`);
}

/** Audit retention: a purge shortly after start, then every `minutes` (0: never; run `npm run audit:purge`). */
function schedulePurge(db: Database, retentionDays: number, minutes: number, logger: Logger): NodeJS.Timeout | undefined {
  if (minutes === 0) return undefined;
  const run = () =>
    purgeAuditEvents(db, retentionDays)
      .then((removed) => removed && logger.info({ removed, retentionDays }, 'audit events past retention purged'))
      .catch((error) => logger.error({ err: error }, 'audit purge failed'));
  setTimeout(run, 60_000).unref();
  const timer = setInterval(run, minutes * 60_000);
  timer.unref();
  return timer;
}

