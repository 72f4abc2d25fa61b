import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { APP_ROLE, createDataSource, runMigrations } from './data-source';
import { Database } from './database';
import { startEmbeddedPostgres } from './embedded';
import { learnEntities } from './entity-rows';

export interface DatabaseHandle {
  /** The requests' way in: a pool of its own, logged in as the app role. */
  db: Database;
  /** True when this process started its own PostgreSQL server. */
  embedded: boolean;
  close(): Promise<void>;
}

/** DATABASE_URL when set, otherwise an embedded PostgreSQL under DATA_DIR (`stop` then stops it). */
export async function postgresServer(config: Config, logger: Logger): Promise<{ url: string; stop?: () => Promise<void> }> {
  if (config.env.DATABASE_URL) return { url: config.env.DATABASE_URL };
  logger.info({ dataDir: config.dataDir }, 'starting embedded PostgreSQL');
  const embedded = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.env.EMBEDDED_POSTGRES_PORT,
    onLog: (line) => logger.debug({ postgres: line }),
  });
  return { url: embedded.url, stop: embedded.stop };
}

/** The server (`postgresServer`), then the migrations as the owner of the tables, then the requests' pool as the app role. */
export async function connectDatabase(config: Config, logger: Logger, options: { runMigrations: boolean }): Promise<DatabaseHandle> {
  const { url, stop } = await postgresServer(config, logger);
  try {
    // TypeORM serves the owner's connection: migrations, and the entities' columns (read once here).
    const owner = createDataSource({ url, poolSize: 1, logger, applicationName: 'organizations-subgraph-owner' });
    await owner.initialize();
    let appUrl: string;
    try {
      if (options.runMigrations) await runMigrations(owner, logger);
      learnEntities(owner);
      appUrl = config.env.BENCH_UNWALLED ? url : await appRoleUrl(owner, url, logger);
    } finally {
      await owner.destroy();
    }
    const asRole = config.env.BENCH_UNWALLED ? undefined : APP_ROLE;
    if (!asRole) logger.warn('BENCH_UNWALLED: row-level security is OFF (benchmark only)');
    const db = await Database.open({
      url: appUrl,
      poolSize: config.env.DATABASE_POOL_SIZE,
      poolTimeoutMs: config.env.DATABASE_POOL_TIMEOUT_MS,
      applicationName: 'organizations-subgraph',
      asRole,
      logger,
    });
    return {
      db,
      embedded: stop !== undefined,
      async close() {
        await db.close();
        await stop?.();
      },
    };
  } catch (error) {
    await stop?.();
    throw error;
  }
}

/**
 * DATABASE_URL's server, logged in as the app role, so that no statement of a request can
 * `RESET ROLE` back to the owner. Its password is derived from DATABASE_URL's server and
 * owner: every replica, and every database of that server, sets the same one. An owner not allowed to give the role a login keeps connecting as itself
 * and switches to the role at connection start (the wall holds, but only against mistakes).
 */
async function appRoleUrl(owner: DataSource, url: string, logger: Logger): Promise<string> {
  // Roles belong to the server, not to one database: derive from the server and owner only.
  const server = new URL(url);
  const password = createHash('sha256').update(`${server.host}\u0000${server.username}\u0000${server.password}\u0000${APP_ROLE}`).digest('base64url');
  try {
    await owner.transaction(async (manager) => {
      // Replicas starting together would otherwise race on the same catalog row.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('organizations_app login'))`);
      // base64url has no quote to escape; ALTER ROLE takes no parameters.
      await manager.query(`ALTER ROLE ${APP_ROLE} LOGIN PASSWORD '${password}'`);
    });
  } catch (error) {
    logger.warn({ err: error }, `cannot give ${APP_ROLE} a login: requests connect as the owner and SET ROLE ${APP_ROLE}`);
    return url;
  }
  const login = new URL(url);
  login.username = APP_ROLE;
  login.password = password;
  return login.toString();
}
