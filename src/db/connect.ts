import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { createHash } from 'node:crypto';
import { APP_ROLE, createDataSource } from './data-source';
import { startEmbeddedPostgres } from './embedded';

export interface DatabaseHandle {
  dataSource: DataSource;
  /** True when this process started its own PostgreSQL server. */
  embedded: boolean;
  close(): Promise<void>;
}

/** DATABASE_URL when set, otherwise an embedded PostgreSQL under DATA_DIR; then the migrations. */
export async function connectDatabase(
  config: Config,
  logger: Logger,
  options: { runMigrations: boolean },
): Promise<DatabaseHandle> {
  let url = config.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    logger.info({ dataDir: config.dataDir }, 'starting embedded PostgreSQL');
    const embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.env.EMBEDDED_POSTGRES_PORT,
      onLog: (line) => logger.debug({ postgres: line }),
    });
    url = embedded.url;
    stopEmbedded = embedded.stop;
  }
  let dataSource: DataSource | undefined;
  try {
    // Migrations run as the owner of the tables; requests log in as the role the tenant wall holds.
    const owner = createDataSource({ url, poolSize: 1, logger, applicationName: 'organizations-subgraph-owner' });
    await owner.initialize();
    let appUrl: string;
    try {
      if (options.runMigrations) {
        const applied = await owner.runMigrations({ transaction: 'each' });
        if (applied.length) logger.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
      }
      appUrl = config.env.BENCH_UNWALLED ? url : await appRoleUrl(owner, url, logger);
    } finally {
      await owner.destroy();
    }
    const asRole = config.env.BENCH_UNWALLED ? undefined : APP_ROLE;
    if (!asRole) logger.warn('BENCH_UNWALLED: row-level security is OFF (benchmark only)');
    dataSource = createDataSource({ url: appUrl, poolSize: config.env.DATABASE_POOL_SIZE, poolTimeoutMs: config.env.DATABASE_POOL_TIMEOUT_MS, logger, asRole });
    await dataSource.initialize();
  } catch (error) {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await stopEmbedded?.();
    throw error;
  }
  return {
    dataSource,
    embedded: stopEmbedded !== undefined,
    async close() {
      if (dataSource!.isInitialized) await dataSource!.destroy();
      await stopEmbedded?.();
    },
  };
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
