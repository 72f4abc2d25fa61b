import { Client } from 'pg';
import { Database } from '../src/db/database';
import { createLogger } from '../src/logger';
import { createOrganization, newUser, ok } from './support/client';
import { startServer, type RunningServer } from './support/servers';

// The loaders' statements, and those every write runs, are prepared on each pooled connection. A
// replica of a newer release may migrate the schema while this one runs: its prepared statements
// must go on answering.
describe('prepared statements under a migration of a newer release', () => {
  const database = `orgs_prepared_${process.pid}_${Date.now()}`;
  const databaseUrl = Object.assign(new URL(process.env.TEST_POSTGRES_URL!), { pathname: `/${database}` }).toString();
  let server: RunningServer;
  const admin = async <T = Record<string, unknown>>(statement: string, url = process.env.TEST_POSTGRES_URL): Promise<T[]> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(statement)).rows as T[];
    } finally {
      await client.end();
    }
  };
  /** The server's own connections to its database. */
  const backends = async () =>
    (await admin<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = '${database}' AND usename = 'organizations_app' ORDER BY pid`)).map((r) => r.pid);

  const query = `query($id: ID!) { organization(id: $id) { name createdAt
    members(first: 5) { totalCount nodes { role email joinedAt assignments user { id } } }
    workspaces(first: 5) { totalCount nodes { name slug createdAt } } } viewer { memberships(first: 5) { nodes { role joinedAt } } } }`;
  const owner = newUser('Ada Lovelace');
  let organizationId: string;
  let before: unknown;
  /** Four requests at a time, so that both pooled connections prepare the statements. */
  const burst = () => Promise.all([1, 2, 3, 4].map(() => ok(query, { id: organizationId }, owner, { url: server.url })));
  /** A write whose statements are prepared too: the organization's lock, the asker's membership, the invitation, its mail and audit event. */
  let invited = 0;
  const invite = () =>
    ok<{ inviteMembers: { email: string }[] }>(
      `mutation($input: InviteMembersInput!) { inviteMembers(input: $input) { email } }`,
      { input: { organizationId, emails: [`invitee-${++invited}@example.test`] } },
      owner,
      { url: server.url },
    );

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${database}`);
    server = await startServer({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: '2' });
    const url = { url: server.url };
    organizationId = (await createOrganization(owner, 'Engines', url)).id;
    await ok(`mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }`, { input: { organizationId, name: 'Analytical' } }, owner, url);
    before = await ok(query, { id: organizationId }, owner, url);
    // Past PostgreSQL's first five executions, after which it may keep a generic plan as well.
    for (let i = 0; i < 4; i++) await burst();
    // Two at once: each holds one of the two connections for its transaction, so both prepare them.
    await Promise.all([invite(), invite()]);
  });
  afterAll(async () => {
    await server?.stop();
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('read and write on, on the same connections, after columns are added to the tables they use', async () => {
    const connections = await backends();
    expect(connections).toHaveLength(2);
    for (const table of ['organizations', 'memberships', 'workspaces', 'users', 'invitations', 'audit_events']) {
      await admin(`ALTER TABLE ${table} ADD COLUMN added_by_a_newer_release text DEFAULT 'x'`, databaseUrl);
    }
    for (const answer of await burst()) expect(answer).toEqual(before);
    for (const answer of await Promise.all([invite(), invite()])) expect(answer.inviteMembers).toHaveLength(1);
    // A prepared `*` would have failed there ("cached plan must not change result type") and its connection been replaced.
    expect(await backends()).toEqual(connections);
  });

  it('read on after a column they read changes its type, each connection with an outdated plan replaced', async () => {
    const connections = await backends();
    await admin(`ALTER TABLE workspaces ALTER COLUMN slug TYPE varchar(100)`, databaseUrl);
    for (let i = 0; i < 3; i++) for (const answer of await burst()) expect(answer).toEqual(before);
    expect(await backends()).not.toEqual(connections);
    expect((before as { organization: { workspaces: { nodes: { name: string }[] } } }).organization.workspaces.nodes[0].name).toBe('Analytical');
  });
});

// PostgreSQL's default (plan_cache_mode auto) re-planned a prepared statement with an array
// parameter on every execution: its generic plan, for an array of unknown length, looked dearer
// than a plan for the one key the batch held. src/db/database.ts asks for one plan instead.
describe('how PostgreSQL plans our statements', () => {
  let db: Database;
  beforeAll(async () => {
    db = await Database.open({ url: process.env.TEST_POSTGRES_URL!, poolSize: 1, poolTimeoutMs: 10_000, applicationName: 'plan-test', logger: createLogger('silent') });
  });
  afterAll(() => db?.close());

  it('plans a prepared statement once per connection, and every other statement for its values', async () => {
    const byIds = `SELECT relname FROM pg_class WHERE oid = ANY($1::oid[])`;
    for (let i = 0; i < 8; i++) expect(await db.query(byIds, [[1259]], { prepare: true })).toEqual([{ relname: 'pg_class' }]);
    // One pooled connection: this statement sees the prepared one of the same session.
    const [plans] = await db.query<{ generic_plans: string; custom_plans: string }>(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1`, [byIds]);
    expect(plans).toEqual({ generic_plans: '8', custom_plans: '0' });
    // Planned without their values, prepared statements walk indexes (no bitmap scan reading every row of a big organization).
    const mode = `SELECT current_setting('plan_cache_mode') AS mode, current_setting('enable_bitmapscan') AS bitmaps`;
    expect(await db.query(mode)).toEqual([{ mode: 'auto', bitmaps: 'on' }]);
    expect(await db.query(mode, [], { prepare: true })).toEqual([{ mode: 'force_generic_plan', bitmaps: 'off' }]);
    // A transaction plans per values for its own length, and leaves the connection as it was.
    expect(await db.transaction((tx) => tx.query(mode, [], { prepare: true }))).toEqual([{ mode: 'auto', bitmaps: 'on' }]);
    expect(await db.query(mode, [], { prepare: true })).toEqual([{ mode: 'force_generic_plan', bitmaps: 'off' }]);
  });
});
