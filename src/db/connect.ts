import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { createDataSource } from './data-source';
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
  const dataSource = createDataSource({ url, poolSize: config.env.DATABASE_POOL_SIZE, logger });
  try {
    await dataSource.initialize();
    if (options.runMigrations) {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      if (applied.length) logger.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
    }
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await stopEmbedded?.();
    throw error;
  }
  return {
    dataSource,
    embedded: stopEmbedded !== undefined,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await stopEmbedded?.();
    },
  };
}
