import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './wait';

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

let started = 0;

/**
 * The subgraph as users run it (`src/main.ts`), in its own process, with `env` on top of the test
 * defaults, once it answers /health/ready. Its log goes to a file in TEST_LOG_DIR (the run's log
 * folder: test/support/global-setup.ts), named after the test file.
 */
export async function startServer(env: Record<string, string | undefined>): Promise<RunningServer> {
  const testPath = typeof expect === 'undefined' ? undefined : expect.getState().testPath;
  const logFile = path.join(process.env.TEST_LOG_DIR ?? os.tmpdir(), `${path.basename(testPath ?? 'server', '.test.ts')}-${process.pid}-${++started}.log`);
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
      // Any free port, picked by the kernel as the server binds it: a port picked beforehand could be taken by another process in between.
      PORT: '0',
      ...env,
    },
    // The IPC channel is how src/main.ts tells us the port it bound.
    stdio: ['ignore', log, log, 'ipc'],
  });
  fs.closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const output = () => fs.readFileSync(logFile, 'utf8');
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };

  let timer: NodeJS.Timeout | undefined;
  const port = await new Promise<number | undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), 60_000);
    child.once('message', (message: { port?: number }) => resolve(message.port));
    void exited.then(() => resolve(undefined));
  });
  clearTimeout(timer);
  if (child.connected) child.disconnect();
  if (!port) {
    await stop('SIGKILL');
    throw new Error(`server did not start (exit code ${child.exitCode}, log ${logFile}):\n${output()}`);
  }
  const server: RunningServer = { url: `http://127.0.0.1:${port}`, port, process: child, logFile, output, stop };
  try {
    await waitFor('/health/ready to answer 200', () => fetch(`${server.url}/health/ready`).then((res) => res.status === 200, () => false));
  } catch (error) {
    await stop('SIGKILL');
    throw new Error(`server did not become ready (${(error as Error).message}, log ${logFile}):\n${output()}`);
  }
  return server;
}
