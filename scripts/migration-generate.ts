import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db/connect';
import { createLogger } from '../src/logger';
import { PROJECT_ROOT } from '../src/paths';

/**
 * npm run migration:generate -- <Name>   writes migrations/<timestamp>-<Name>.ts with the SQL
 *                                        that brings the migrated database to the entities.
 * npm run migration:generate -- --check  exits 1 when the entities and the migrations disagree.
 */
async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) throw new Error('usage: npm run migration:generate -- <Name> | --check');
  const config = loadConfig();
  const logger = createLogger(config.env.LOG_LEVEL === 'info' ? 'warn' : config.env.LOG_LEVEL);
  const db = await connectDatabase(config, logger, { runMigrations: true });
  try {
    const { upQueries, downQueries } = await db.dataSource.driver.createSchemaBuilder().log();
    if (arg === '--check') {
      if (upQueries.length) {
        console.error('The entities and the migrations disagree; a migration would run:');
        for (const q of upQueries) console.error(`  ${q.query}`);
        process.exitCode = 1;
      } else {
        console.log('Entities and migrations agree.');
      }
      return;
    }
    if (!upQueries.length) {
      console.log('No changes: the migrations already match the entities.');
      return;
    }
    const name = arg.replace(/[^A-Za-z0-9]/g, '');
    const timestamp = Date.now();
    const line = (q: { query: string; parameters?: unknown[] }) =>
      `    await q.query(${JSON.stringify(q.query)}${q.parameters?.length ? `, ${JSON.stringify(q.parameters)}` : ''});`;
    const file = path.join(PROJECT_ROOT, 'migrations', `${timestamp}-${name}.ts`);
    fs.writeFileSync(
      file,
      `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${name}${timestamp} implements MigrationInterface {
  name = '${name}${timestamp}';

  async up(q: QueryRunner): Promise<void> {
${upQueries.map(line).join('\n')}
  }

  async down(q: QueryRunner): Promise<void> {
${downQueries.reverse().map(line).join('\n')}
  }
}
`,
    );
    console.log(`Wrote ${path.relative(PROJECT_ROOT, file)}: read it before you commit it.`);
  } finally {
    await db.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
