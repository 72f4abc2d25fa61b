import 'reflect-metadata';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db/connect';
import { createLogger } from '../src/logger';
import { purgeAuditEvents } from '../src/modules/audit/audit.service';

/**
 * npm run audit:purge [-- --before <ISO date>] [--organization <id>]
 * Removes audit events older than AUDIT_RETENTION_DAYS (or than --before), of every organization
 * or of one, keeping each chain verifiable from its first kept event.
 */
async function main(): Promise<void> {
  const option = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const before = option('before') ? new Date(option('before')!) : undefined;
  if (before && Number.isNaN(before.getTime())) throw new Error('--before takes an ISO date-time');
  const config = loadConfig();
  const logger = createLogger(config.env.LOG_LEVEL);
  const database = await connectDatabase(config, logger, { runMigrations: false });
  try {
    const removed = await purgeAuditEvents(database.db, config.env.AUDIT_RETENTION_DAYS, { before, organizationId: option('organization') });
    console.log(`Removed ${removed} audit events older than ${before?.toISOString() ?? `${config.env.AUDIT_RETENTION_DAYS} days`}.`);
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
