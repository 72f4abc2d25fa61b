import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../src/db/embedded';
import { freshDatabase, POOL_SIZE } from './database';
import { memoryMb } from './memory';
import { generateDataset } from './generate';

/**
 * npm run soak [-- --minutes 10] [--connections 50] [--scale 0.1]
 * The compiled server under mixed reads and writes from many users (autocannon, in its own
 * process) for a fixed time. Counts every answer that is not 200 with data and no errors,
 * samples the server's memory every 5 s, then checks the database invariants. Writes
 * bench/SOAK.md and exits non-zero when any check fails.
 */
// autocannon ships no types; this is the one call made of it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: object) => Promise<{ errors: number; timeouts: number }>;
const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'bench', '.out');
const SECRET = 'soak-secret-soak-secret-soak-secret-0123456';
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

function token(sub: string, email: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, email, email_verified: true, iat: now, exp: now + 86_400 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

interface LoadPlan {
  url: string;
  connections: number;
  seconds: number;
  /** Bearer tokens of the users the load acts as. */
  tokens: string[];
  bigOrganizationId: string;
  teamId: string;
}

interface LoadResult {
  requests: number;
  failures: number;
  samples: string[];
  byOperation: Record<string, number>;
}

/** The load process: a cycle of reads and writes per connection, each as a random user. */
async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const pick = () => plan.tokens[Math.floor(Math.random() * plan.tokens.length)];
  let n = 0;
  const unique = () => `${process.pid}-${Date.now().toString(36)}-${(n++).toString(36)}`;
  const body = (operationName: string, query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ operationName, query, variables });
  const steps: { name: string; body: () => string; bearer: () => string }[] = [
    {
      name: 'Dashboard',
      bearer: pick,
      body: () =>
        body('Dashboard', `query Dashboard { viewer { memberships(first: 20) { nodes { role organization { id name workspaces(first: 10) { nodes { id name } } members(first: 20) { nodes { role displayName user { id } } } } } } } }`),
    },
    { name: 'CreateOrganization', bearer: pick, body: () => body('CreateOrganization', `mutation CreateOrganization($n: String!) { createOrganization(input: { name: $n }) { id slug } }`, { n: `Soak ${unique()}` }) },
    { name: 'MembersPage', bearer: () => plan.tokens[0], body: () => body('MembersPage', `query MembersPage($id: ID!) { organization(id: $id) { members(first: 100) { nodes { id role email } } } }`, { id: plan.bigOrganizationId }) },
    {
      name: 'InviteMembers',
      bearer: () => plan.tokens[0],
      body: () => body('InviteMembers', `mutation InviteMembers($id: ID!, $e: String!) { inviteMembers(input: { organizationId: $id, emails: [$e] }) { id } }`, { id: plan.teamId, e: `soak-${unique()}@soak.test` }),
    },
    { name: 'AuditFirst', bearer: () => plan.tokens[0], body: () => body('AuditFirst', `query AuditFirst($id: ID!) { organization(id: $id) { auditEvents(first: 50) { nodes { id action } } } }`, { id: plan.bigOrganizationId }) },
  ];
  const result: LoadResult = { requests: 0, failures: 0, samples: [], byOperation: {} };
  const summary = await autocannon({
    url: plan.url,
    connections: plan.connections,
    duration: plan.seconds,
    requests: steps.map((step) => ({
      method: 'POST',
      setupRequest: (request: Record<string, unknown>) => ({
        ...request,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${step.bearer()}` },
        body: step.body(),
      }),
      onResponse: (status: number, responseBody: string) => {
        result.requests += 1;
        result.byOperation[step.name] = (result.byOperation[step.name] ?? 0) + 1;
        if (status !== 200 || responseBody.includes('"errors"') || !responseBody.includes('"data"')) {
          result.failures += 1;
          if (result.samples.length < 5) result.samples.push(`${step.name} ${status} ${responseBody.slice(0, 300)}`);
        }
      },
    })),
  });
  result.failures += summary.errors + summary.timeouts;
  return result;
}

/** What must hold however the load interleaved. Each query returns the offending rows. */
const INVARIANTS: Record<string, string> = {
  'every organization has an owner': `SELECT o.id FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = o.id AND m.role = 'OWNER')`,
  'at most one personal organization per user': `SELECT personal_owner_id FROM organizations WHERE kind = 'PERSONAL' GROUP BY 1 HAVING count(*) > 1`,
  'every organization has a subscription': `SELECT o.id FROM organizations o LEFT JOIN subscriptions s ON s.organization_id = o.id WHERE s.organization_id IS NULL`,
  // Plans whose member limit is the seats bought (src/modules/billing/plans.ts); GUESTs take none.
  'seats respected': `SELECT s.organization_id FROM subscriptions s JOIN memberships m ON m.organization_id = s.organization_id AND m.role <> 'GUEST'
     WHERE s.plan IN ('PRO', 'TEAM', 'BUSINESS') GROUP BY s.organization_id, s.seats HAVING count(*) > s.seats`,
  'each audit chain head counts its events': `SELECT h.organization_id FROM audit_chain_heads h
     WHERE h.seq <> (SELECT count(*) FROM audit_events e WHERE e.organization_id = h.organization_id) + h.anchor_seq`,
};

async function main(): Promise<void> {
  if (process.argv[2] === '--load') {
    const result = await runLoad(JSON.parse(process.argv[3]) as LoadPlan);
    process.stdout.write(JSON.stringify(result));
    return;
  }
  const minutes = Number(arg('minutes', '10'));
  const connections = Number(arg('connections', '50'));
  const scale = Number(arg('scale', '0.1'));
  fs.mkdirSync(OUT, { recursive: true });
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });

  const { url: databaseUrl, stop: stopPostgres } = await freshDatabase('orgs_soak');

  const port = await freePort();
  const server = spawn(process.execPath, ['--max-semi-space-size=64', '-r', './dist/bench/graphql-production.js', 'dist/src/main.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'development', LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, PORT: String(port), JWT_SECRET: SECRET, MAIL_WORKER: 'false', DATABASE_POOL_SIZE: String(POOL_SIZE) },
    stdio: ['ignore', fs.openSync(path.join(OUT, 'soak-server.log'), 'w'), 'inherit'],
  });
  const lines: string[] = [];
  let failed = false;
  try {
    for (let i = 0; ; i++) {
      if (i > 600) throw new Error('server did not start');
      if (await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok).catch(() => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    const dataset = await generateDataset(db, scale);
    const users = Math.min(200, dataset.users);
    const tokens = [token(dataset.viewerId, 'viewer@bench.test'), ...Array.from({ length: users }, (_, i) => token(`bench-user-${i + 1}`, `bench-user-${i + 1}@bench.test`))];
    // Invitations go to a team of the viewer's own.
    const created = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` },
      body: JSON.stringify({ query: 'mutation { createOrganization(input: { name: "Soak invitations" }) { id } }' }),
    }).then((r) => r.json() as Promise<{ data: { createOrganization: { id: string } } }>);
    const plan: LoadPlan = { url: `http://127.0.0.1:${port}/graphql`, connections, seconds: minutes * 60, tokens, bigOrganizationId: dataset.bigOrganizationId, teamId: created.data.createOrganization.id };

    const samples: { at: number; mb: number }[] = [];
    const started = Date.now();
    const sampler = setInterval(() => samples.push({ at: (Date.now() - started) / 1000, mb: memoryMb(server) }), 5000);
    const loader = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, '--load', JSON.stringify(plan)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    loader.stdout!.on('data', (chunk) => (output += chunk));
    await new Promise((resolve) => loader.once('exit', resolve));
    clearInterval(sampler);
    const result = JSON.parse(output) as LoadResult;

    // Memory: after a warm-up (JIT, caches, the pool filling), the last tenth's average against the tenth after the warm-up.
    const window = (from: number, to: number) => {
      const inWindow = samples.filter((s) => s.at >= from && s.at < to).map((s) => s.mb);
      return inWindow.reduce((a, b) => a + b, 0) / Math.max(1, inWindow.length);
    };
    const total = minutes * 60;
    const warmUp = Math.min(60, total / 5);
    const early = window(warmUp, warmUp + total / 10);
    const late = window(total - total / 10, total + 5);
    const growth = (late - early) / early;

    const broken: string[] = [];
    for (const [name, query] of Object.entries(INVARIANTS)) {
      const rows = (await db.query(query)).rows;
      if (rows.length) broken.push(`${name}: ${rows.length} rows, e.g. ${JSON.stringify(rows[0])}`);
    }
    await db.end();

    failed = result.failures > 0 || broken.length > 0 || growth > 0.1;
    lines.push(
      '# Soak results',
      '',
      `- date: ${new Date().toISOString()}`,
      `- machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      `- command: \`npm run soak -- ${process.argv.slice(2).join(' ')}\` (${minutes} min, ${connections} connections, ${tokens.length} users, dataset scale ${scale})`,
      `- requests: ${result.requests} (${(result.requests / total).toFixed(0)}/s): ${Object.entries(result.byOperation).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `- failures (not 200, or GraphQL errors, or timeouts): ${result.failures}${result.samples.length ? ` — e.g. ${result.samples.join(' | ')}` : ''}`,
      `- server RSS (MB), sampled every 5 s: min ${Math.min(...samples.map((s) => s.mb))}, max ${Math.max(...samples.map((s) => s.mb))}; after warm-up ${early.toFixed(0)}, at the end ${late.toFixed(0)} (${(growth * 100).toFixed(1)}%; more than 10% counts as growth)`,
      `- RSS over time: ${samples.filter((_, i) => i % 6 === 0).map((s) => s.mb).join(' ')}`,
      `- invariants: ${broken.length ? broken.join('; ') : `all hold (${Object.keys(INVARIANTS).join('; ')})`}`,
      '',
      failed ? 'Verdict: FAILED' : 'Verdict: passed',
      '',
    );
    fs.writeFileSync(path.join(ROOT, 'bench', 'SOAK.md'), lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    await stopPostgres();
  }
  if (failed) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
