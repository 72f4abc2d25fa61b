/**
 * SCIM provisioning, measured (issue 22): what a directory's two hot requests cost.
 *
 *   npm run bench:scim [-- --seconds 10 --connections 10 --members 50000]
 *
 * Starts PostgreSQL (embedded, or on DATABASE_URL's server) with a fresh database and the subgraph
 * on it as users run it, then writes straight into it an organization of `--members` members, each
 * a SCIM User bound to its membership, and a directory token. Measured with autocannon (in this
 * process; the server is a process of its own):
 *
 * - Lookup: `GET /Users?filter=userName eq "…"` (what Okta sends before every create), a random
 *   member each request.
 * - Deactivate: `PATCH /Users/{id}` with `{"op":"replace","value":{"active":false}}` (and back to
 *   true), a random member each request. Every SCIM write takes the organization's lock, so the
 *   writes of one organization run one after another whatever the connections.
 *
 * Statements per request (X-SQL-Statements) are read for both at the full size and in an
 * organization of 10 members: they must be the same.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startServer, type RunningServer } from '../test/support/servers';
import { freshDatabase, POOL_SIZE } from './database';

// autocannon ships no types; what is used of it is below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<{
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}>;

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const SECONDS = Number(arg('seconds', '10'));
const CONNECTIONS = Number(arg('connections', '10'));
const MEMBERS = Number(arg('members', '50000'));

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface Directory {
  organizationId: string;
  secret: string;
  users: { id: string; userName: string }[];
}

/** An organization of `members` members, each a SCIM User bound to its membership, and its token: set-based SQL. */
async function directoryOf(db: Client, name: string, members: number): Promise<Directory> {
  const [{ id: organizationId }] = (
    await db.query(`INSERT INTO organizations (slug, kind, name) VALUES ($1, 'TEAM', $1) RETURNING id`, [name])
  ).rows;
  await db.query(`INSERT INTO subscriptions (organization_id, plan, seats) VALUES ($1, 'ENTERPRISE', $2)`, [organizationId, members + 10]);
  await db.query(
    `INSERT INTO users (id, email, email_verified, name) SELECT $1 || '-' || g, $1 || '-' || g || '@bench.test', true, 'Member ' || g FROM generate_series(1, $2) g`,
    [name, members],
  );
  await db.query(
    `INSERT INTO memberships (organization_id, user_id, role) SELECT $1, $2 || '-' || g, CASE WHEN g = 1 THEN 'OWNER' ELSE 'VIEWER' END FROM generate_series(1, $3) g`,
    [organizationId, name, members],
  );
  await db.query(
    `INSERT INTO directory_users (organization_id, user_name, external_id, display_name, emails, membership_id)
     SELECT m.organization_id, u.email, 'ext-' || u.id, u.name, jsonb_build_array(jsonb_build_object('value', u.email, 'type', 'work', 'primary', true)), m.id
     FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1`,
    [organizationId],
  );
  const secret = `scim_${randomBytes(32).toString('base64url')}`;
  await db.query(`INSERT INTO directory_tokens (organization_id, name, prefix, secret_hash) VALUES ($1, 'Bench', $2, $3)`, [
    organizationId,
    secret.slice(0, 13),
    createHash('sha256').update(secret).digest('hex'),
  ]);
  // Not the OWNER: the last OWNER cannot be deactivated.
  const users = (
    await db.query(
      `SELECT d.id, d.user_name FROM directory_users d JOIN memberships m ON m.id = d.membership_id WHERE d.organization_id = $1 AND m.role <> 'OWNER'`,
      [organizationId],
    )
  ).rows.map((r) => ({ id: r.id as string, userName: r.user_name as string }));
  return { organizationId, secret, users };
}

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)];
const lookupPath = (userName: string) => `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`;
const patchBody = (active: boolean) => JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active } }] });

/** The statements one request ran, as the server counts them. */
async function statements(server: RunningServer, directory: Directory, method: 'GET' | 'PATCH'): Promise<number> {
  const user = pick(directory.users);
  const res = await fetch(`${server.url}${method === 'GET' ? lookupPath(user.userName) : `/scim/v2/Users/${user.id}`}`, {
    method,
    headers: { authorization: `Bearer ${directory.secret}`, 'content-type': 'application/scim+json' },
    body: method === 'PATCH' ? patchBody(false) : undefined,
  });
  if (!res.ok) throw new Error(`${method} answered ${res.status}: ${await res.text()}`);
  return Number(res.headers.get('x-sql-statements'));
}

async function measure(server: RunningServer, directory: Directory, method: 'GET' | 'PATCH'): Promise<string> {
  const result = await autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { authorization: `Bearer ${directory.secret}`, 'content-type': 'application/scim+json' },
    requests: [
      {
        method,
        setupRequest: (request: Record<string, unknown>) => {
          const user = pick(directory.users);
          return method === 'GET'
            ? { ...request, path: lookupPath(user.userName) }
            : { ...request, path: `/scim/v2/Users/${user.id}`, body: patchBody(Math.random() < 0.5) };
        },
      },
    ],
  });
  const errors = result.errors + result.non2xx + result.timeouts;
  return `${result.requests.average.toFixed(0)} | ${result.latency.p50} | ${result.latency.p99} | ${errors}`;
}

async function main(): Promise<void> {
  const database = await freshDatabase('orgs_bench_scim');
  const server = await startServer({ DATABASE_URL: database.url, LOG_LEVEL: 'warn', NODE_ENV: 'development', DATABASE_POOL_SIZE: String(POOL_SIZE) });
  const db = new Client({ connectionString: database.url });
  try {
    await db.connect();
    const big = await directoryOf(db, 'bench-scim-big', MEMBERS);
    const small = await directoryOf(db, 'bench-scim-small', 10);
    await db.query('ANALYZE');
    const counts = {
      lookup: [await statements(server, big, 'GET'), await statements(server, small, 'GET')],
      deactivate: [await statements(server, big, 'PATCH'), await statements(server, small, 'PATCH')],
    };
    const lookup = await measure(server, big, 'GET');
    const deactivate = await measure(server, big, 'PATCH');
    console.log(
      [
        `SCIM, one server, an organization of ${MEMBERS} members (all SCIM Users), ${CONNECTIONS} connections, ${SECONDS} s per row:`,
        '',
        '| request | rps | p50 ms | p99 ms | errors | statements (this organization / one of 10 members) |',
        '|---|---:|---:|---:|---:|---|',
        `| GET /Users?filter=userName eq … | ${lookup} | ${counts.lookup.join(' / ')} |`,
        `| PATCH /Users/{id} active false/true | ${deactivate} | ${counts.deactivate.join(' / ')} |`,
      ].join('\n'),
    );
  } finally {
    await db.end();
    await server.stop();
    await database.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
