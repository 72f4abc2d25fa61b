import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded';

export const ROOT = path.resolve(__dirname, '..', '..');
export const TEST_JWT_SECRET = 'test-secret-for-the-integration-suite-0123456789';

export interface RunningServer {
  url: string;
  port: number;
  process: ChildProcess;
  logFile: string;
  /** Everything the process printed so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The subgraph as users run it (`src/main.ts`), in its own process, with `env` on top of the test defaults. */
export async function startServer(env: Record<string, string | undefined>, options: { waitReady?: boolean } = {}): Promise<RunningServer> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const logFile = path.join(os.tmpdir(), `orgs-server-${port}-${Date.now()}.log`);
  const log = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      JWT_SECRET: TEST_JWT_SECRET,
      // Other test files read invitation tokens from the outbox: only servers on a database of their own send (test/mail.test.ts).
      MAIL_WORKER: 'false',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const server: RunningServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    logFile,
    output: () => fs.readFileSync(logFile, 'utf8'),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (options.waitReady === false) return server;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${server.output()}`);
    try {
      const res = await fetch(`${server.url}/health/ready`);
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await server.stop('SIGKILL');
  throw new Error(`server did not become ready:\n${server.output()}`);
}
