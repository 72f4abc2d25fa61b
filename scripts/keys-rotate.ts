import 'reflect-metadata';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db/connect';
import { createLogger } from '../src/logger';
import { SigningKeys } from '../src/modules/organization-token/signing-keys';

/**
 * npm run keys:rotate [-- --now]
 * A new signing key for organization tokens. It is published at once and signs after
 * ORGANIZATION_TOKEN_KEY_PUBLISH_AHEAD_SECONDS (so that verifiers' cached key sets hold it by
 * then), or at once with --now (a key that may have leaked). Running servers switch to it by
 * themselves; the previous key stays published until its last token has expired.
 */
async function main(): Promise<void> {
  const immediately = process.argv.includes('--now');
  const config = loadConfig();
  const logger = createLogger(config.env.LOG_LEVEL);
  const database = await connectDatabase(config, logger, { runMigrations: false });
  try {
    const rotation = await new SigningKeys(config, logger).rotate(database.db, { immediately });
    const when = rotation.activatedAt.toISOString();
    console.log(rotation.created ? `New signing key ${rotation.kid}: published now, signs from ${when}.` : `A rotation is already on its way: key ${rotation.kid} signs from ${when} (--now to switch at once).`);
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
