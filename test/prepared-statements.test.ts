import { Client } from 'pg';
import { createOrganization, gql, newUser, ok } from './support/client';
import { startServer, type RunningServer } from './support/servers';

// The loaders' statements are prepared on each pooled connection. A replica of a newer release
// may add a column while this one runs: its prepared statements must go on answering, which a
// prepared `SELECT *` would not ("cached plan must not change result type").
describe('prepared statements', () => {
  const database = `orgs_prepared_${process.pid}_${Date.now()}`;
  const databaseUrl = Object.assign(new URL(process.env.TEST_POSTGRES_URL!), { pathname: `/${database}` }).toString();
  let server: RunningServer;
  const admin = async (statement: string, url = process.env.TEST_POSTGRES_URL) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${database}`);
    // One pooled connection: every statement below runs where the earlier ones were prepared.
    server = await startServer({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: '1' });
  });
  afterAll(async () => {
    await server?.stop();
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('keep answering after a migration adds columns to, or retypes a column of, the tables they read', async () => {
    const url = { url: server.url };
    const owner = newUser('Ada Lovelace');
    const org = await createOrganization(owner, 'Engines', url);
    await ok(`mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }`, { input: { organizationId: org.id, name: 'Analytical' } }, owner, url);
    const query = `query($id: ID!) { organization(id: $id) { name createdAt
      members(first: 5) { totalCount nodes { role email joinedAt assignments user { id } } }
      workspaces(first: 5) { totalCount nodes { name slug createdAt } } } viewer { memberships(first: 5) { nodes { role joinedAt } } } }`;
    const before = await ok(query, { id: org.id }, owner, url);
    // Past PostgreSQL's first executions of a prepared statement, so that its plan is the cached one.
    for (let i = 0; i < 6; i++) await ok(query, { id: org.id }, owner, url);

    for (const table of ['organizations', 'memberships', 'workspaces', 'users']) {
      await admin(`ALTER TABLE ${table} ADD COLUMN added_by_a_newer_release text DEFAULT 'x'`, databaseUrl);
    }
    expect(await ok(query, { id: org.id }, owner, url)).toEqual(before);
    // Or changes the type of one they read.
    await admin(`ALTER TABLE workspaces ALTER COLUMN slug TYPE varchar(100)`, databaseUrl);
    expect(await ok(query, { id: org.id }, owner, url)).toEqual(before);
    expect(before.organization.members.nodes).toHaveLength(1);
    expect(before.organization.workspaces.nodes[0].name).toBe('Analytical');
  });

  it('answer each tenant with its own rows on one connection', async () => {
    const url = { url: server.url };
    const [ada, grace] = [newUser('Ada'), newUser('Grace')];
    const adas = await createOrganization(ada, 'Ada Co', url);
    const graces = await createOrganization(grace, 'Grace Co', url);
    const members = `query($id: ID!) { organization(id: $id) { members(first: 5) { nodes { email } } } viewer { memberships(first: 5) { nodes { organization { name } } } } }`;
    const names = (data: any) => data.viewer.memberships.nodes.map((m: any) => m.organization.name).sort();
    for (let i = 0; i < 6; i++) {
      const asAda = await ok(members, { id: adas.id }, ada, url);
      expect(asAda.organization.members.nodes).toEqual([{ email: ada.email }]);
      expect(names(asAda)).toContain('Ada Co');
      expect(names(asAda)).not.toContain('Grace Co');
      const asGrace = await ok(members, { id: graces.id }, grace, url);
      expect(asGrace.organization.members.nodes).toEqual([{ email: grace.email }]);
      expect(names(asGrace)).toContain('Grace Co');
      expect(names(asGrace)).not.toContain('Ada Co');
      const across = await gql(members, { id: graces.id }, ada, url);
      expect(across.errors?.map((e) => e.extensions.code)).toEqual(['NOT_FOUND']);
    }
  });
});
