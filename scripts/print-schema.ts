import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/paths';
import { subgraphSdl } from '../src/schema';

/** npm run schema — writes schema.graphql; with --check, fails when the file differs from the code. */
async function main(): Promise<void> {
  const file = path.join(PROJECT_ROOT, 'schema.graphql');
  const sdl = await subgraphSdl();
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current !== sdl) {
      console.error('schema.graphql differs from the schema the code builds: run `npm run schema` and commit it.');
      process.exit(1);
    }
    console.log('schema.graphql matches the code.');
    return;
  }
  fs.writeFileSync(file, sdl);
  console.log(`Wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
