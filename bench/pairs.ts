import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../src/db/embedded';
import { prepareBaseline } from './baseline';
import { freshDatabase } from './database';
import { generateDataset } from './generate';
import { cpuMsOf, postgresCpuMs } from './proc';
import { BENCH_SECRET, benchUserToken, userToken } from './tokens';

/**
 * npm run bench:pairs -- --baseline <git ref> [--op CreateOrganization|InviteMembers] [--requests 2000]
 * A small difference between two builds, measured request by request: ours and the baseline
 * (run.ts's `--baseline`: a temporary worktree, the same database) answer in alternation, the
 * order swapped every pair, one request at a time, so that the machine's drift lands on both
 * alike. Reports each build's mean and median latency and its server's and PostgreSQL's CPU per
 * request (from /proc around each request). run.ts's slices of seconds vary by ±5% between two
 * runs of the same build; these pairs settle a few percent (the outbox's cost on writes: bench/RESULTS.md).
 */
const ROOT = path.resolve(__dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const baselineRef = arg('baseline', '');
const op = arg('op', 'CreateOrganization');
const requests = Number(arg('requests', '2000'));
const WARMUP = 200;

interface Server {
  child: ChildProcess;
  port: number;
}

/** A compiled build serving `url`, as run.ts starts its variants. */
async function serve(url: string, cwd: string, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort(0);
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '-r', path.join(ROOT, 'dist/bench/graphql-production.js'), 'dist/src/main.js'], {
    cwd,
    env: { PATH: process.env.PATH, NODE_ENV: 'development', LOG_LEVEL: 'warn', DATABASE_URL: url, PORT: String(port), JWT_SECRET: BENCH_SECRET, MAIL_WORKER: 'false', DATABASE_POOL_SIZE: '4', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) return { child, port };
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server in ${cwd} did not start within 60 s`);
}

async function ask(server: Server, bearer: string, query: string, variables: object = {}): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${server.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: Record<string, { id: string }>; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 300));
  return body.data;
}

async function main(): Promise<void> {
  if (!baselineRef) throw new Error('--baseline <git ref> is required');
  if (!['CreateOrganization', 'InviteMembers'].includes(op)) throw new Error('--op is CreateOrganization or InviteMembers');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const cleanups: (() => Promise<void>)[] = [];
  const database = await freshDatabase('orgs_pairs');
  const servers: Server[] = [];
  try {
    const ours = await serve(database.url, ROOT); // applies the migrations
    servers.push(ours);
    const db = new Client({ connectionString: database.url });
    await db.connect();
    const dataset = await generateDataset(db, 0.05);
    await db.query('VACUUM (ANALYZE)');
    const baseline = await prepareBaseline(ROOT, baselineRef, (remove) => cleanups.push(remove));
    const theirs = await serve(database.url, baseline.dir, { MIGRATIONS_RUN: 'false' });
    servers.push(theirs);
    const viewer = userToken(dataset.viewerId, 'viewer@bench.test', 'Bench Viewer');
    // As in run.ts: organizations created by the dataset's users in turn; invitations to a team of the viewer's, with seats for all.
    const team = op === 'InviteMembers' ? ((await ask(ours, viewer, 'mutation { createOrganization(input: { name: "Pairs" }) { id } }')) as { createOrganization: { id: string } }).createOrganization.id : '';
    if (team) await db.query('UPDATE subscriptions SET seats = 1000000 WHERE organization_id = $1', [team]);
    const figures = new Map<Server, { ms: number[]; serverMs: number; postgresMs: number }>([ours, theirs].map((s) => [s, { ms: [], serverMs: 0, postgresMs: 0 }]));
    for (let i = 0; i < WARMUP + requests; i++) {
      for (const server of i % 2 ? [ours, theirs] : [theirs, ours]) {
        const [bearer, query, variables] =
          op === 'InviteMembers'
            ? [viewer, 'mutation InviteMembers($id: ID!, $email: String!) { inviteMembers(input: { organizationId: $id, emails: [$email] }) { id } }', { id: team, email: `pair-${server.port}-${i}@bench.test` }]
            : [benchUserToken(2 + (i % (dataset.users - 1))), 'mutation CreateOrganization($name: String!) { createOrganization(input: { name: $name }) { id slug } }', { name: `Pair ${server.port} ${i}` }];
        const cpu = cpuMsOf(server.child.pid!);
        const postgres = postgresCpuMs(database.dataDir!);
        const start = process.hrtime.bigint();
        await ask(server, bearer, query, variables);
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (i < WARMUP) continue;
        const f = figures.get(server)!;
        f.ms.push(ms);
        f.serverMs += cpuMsOf(server.child.pid!) - cpu;
        f.postgresMs += postgresCpuMs(database.dataDir!) - postgres;
      }
      // Settled as run.ts settles a write's slices.
      if (i % 500 === 499) await db.query('VACUUM (ANALYZE)');
    }
    await db.end();
    const summary = (name: string, server: Server) => {
      const f = figures.get(server)!;
      const sorted = [...f.ms].sort((a, b) => a - b);
      const mean = f.ms.reduce((a, b) => a + b, 0) / f.ms.length;
      console.log(`${name.padEnd(24)} mean ${mean.toFixed(2)} ms  median ${sorted[sorted.length >> 1].toFixed(2)} ms  CPU per request: server ${(f.serverMs / f.ms.length).toFixed(2)} ms, PostgreSQL ${(f.postgresMs / f.ms.length).toFixed(2)} ms`);
      return mean;
    };
    console.log(`${op}, ${requests} requests each, in alternation (${baseline.ref} = ${baseline.commit} "${baseline.subject}")`);
    const ourMean = summary('ours', ours);
    const theirMean = summary(`baseline ${baseline.ref}`, theirs);
    console.log(`ours takes ${((ourMean / theirMean) * 100 - 100).toFixed(1)}% longer per request than the baseline (ours/baseline in requests per second: ${((theirMean / ourMean) * 100).toFixed(1)}%)`);
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
    for (const cleanup of cleanups) await cleanup();
    await database.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
