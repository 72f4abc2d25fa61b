import 'reflect-metadata';
import pino from 'pino';
import { APP_ROLE } from '../src/db/data-source';
import { Database, type Tenant } from '../src/db/database';
import { createOrganization, newUser, ok, sql, touch } from './support/client';

/** The server's own pool, switched to the app role at connection start. */
const openAsApp = (poolSize: number) =>
  Database.open({ url: process.env.TEST_DATABASE_URL!, poolSize, poolTimeoutMs: 10_000, logger: pino({ level: 'silent' }), asRole: APP_ROLE, applicationName: 'tenant-wall-test' });

/**
 * The tenant wall in PostgreSQL: row-level security holds even where the application forgets
 * its organization filter. These statements go through the server's own connection code
 * (Database's pool in the app role, with a tenant) with no WHERE clause at all.
 */
describe('row-level security on every table that carries organization_id', () => {
  let db: Database;
  let walled: string[];
  const mine = { user: newUser('Wall Owner'), org: '' };
  const victim = { user: newUser('Wall Victim'), org: '', secretWorkspace: 'Victim Secret Workspace' };

  beforeAll(async () => {
    db = await openAsApp(2);
    walled = (
      await sql<{ table_name: string }>(
        `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'organization_id' ORDER BY 1`,
      )
    ).map((r) => r.table_name);

    // The victim has a row in as many walled tables as the API can reach.
    victim.org = (await createOrganization(victim.user, 'Victim Wall Corp')).id;
    await ok('mutation($id: ID!, $n: String!) { createWorkspace(input: { organizationId: $id, name: $n }) { id } }', { id: victim.org, n: victim.secretWorkspace }, victim.user);
    await ok('mutation($id: ID!) { createApiKey(input: { organizationId: $id, name: "Victim wall key", scopes: [MEMBERS_READ] }) { secret } }', { id: victim.org }, victim.user);
    await ok('mutation($id: ID!) { inviteMembers(input: { organizationId: $id, emails: ["wall-invitee@example.test"] }) { id } }', { id: victim.org }, victim.user);
    mine.org = (await createOrganization(mine.user, 'My Wall Corp')).id;
    await touch(victim.user);
  });

  afterAll(async () => {
    await db?.close();
  });

  const rowsOf = (tenant: Tenant, table: string) => db.as(tenant).query<{ organization_id: string | null }>(`SELECT organization_id FROM "${table}"`);
  const asMe: Tenant = { kind: 'user', userId: mine.user.id, verifiedEmail: mine.user.email };

  it('holds for prepared statements, whichever tenant their connection served before', async () => {
    const one = await openAsApp(1);
    try {
      const asVictim: Tenant = { kind: 'user', userId: victim.user.id, verifiedEmail: victim.user.email };
      // More turns than PostgreSQL's five custom plans, on one connection and one prepared statement.
      for (let i = 0; i < 8; i++) {
        for (const [tenant, own, other] of [
          [asMe, mine.org, victim.org],
          [asVictim, victim.org, mine.org],
        ] as const) {
          const rows = await one.as(tenant).query<{ organization_id: string }>('SELECT organization_id FROM memberships', [], { prepare: true });
          const organizations = rows.map((r) => r.organization_id);
          expect(organizations).toContain(own);
          expect(organizations).not.toContain(other);
        }
      }
    } finally {
      await one.close();
    }
  });

  it('covers every such table, and the app role can bypass none of it', async () => {
    expect(walled.length).toBeGreaterThanOrEqual(12);
    const tables = await sql<{ relname: string; relrowsecurity: boolean; policies: string }>(
      `SELECT c.relname, c.relrowsecurity, (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
       FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1)`,
      [walled],
    );
    expect(tables).toHaveLength(walled.length);
    for (const t of tables) expect({ table: t.relname, rls: t.relrowsecurity, policies: Number(t.policies) }).toEqual({ table: t.relname, rls: true, policies: 1 });
    const [role] = await sql(`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1`, [APP_ROLE]);
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false });
    const owned = await sql(`SELECT relname FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = $1)`, [APP_ROLE]);
    expect(owned).toEqual([]);
    const [{ current_user: current }] = await db.as(asMe).query<{ current_user: string }>('SELECT current_user');
    expect(current).toBe(APP_ROLE);
  });

  it('the server logs in as that role, so no statement can RESET ROLE out of it', async () => {
    await touch(mine.user);
    const sessions = await sql<{ usename: string }>(
      `SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'organizations-subgraph'`,
    );
    expect(sessions.map((s) => s.usename)).toEqual([APP_ROLE]);
  });

  it('a read without its organization filter sees only the asker\'s organizations', async () => {
    const myOrganizations = (await sql<{ organization_id: string }>('SELECT organization_id FROM memberships WHERE user_id = $1', [mine.user.id])).map((r) => r.organization_id);
    expect(myOrganizations).toContain(mine.org);
    const everywhere = new Set<string>();
    for (const table of walled) {
      for (const row of await rowsOf({ kind: 'system' }, table)) if (row.organization_id === victim.org) everywhere.add(table);
      const foreign = (await rowsOf(asMe, table)).filter((r) => !myOrganizations.includes(r.organization_id!));
      expect({ table, foreign }).toEqual({ table, foreign: [] });
    }
    // The victim really has rows there, so the wall is what hid them.
    for (const table of ['memberships', 'workspaces', 'api_keys', 'invitations', 'audit_events', 'audit_chain_heads', 'subscriptions', 'mail_outbox']) {
      expect(everywhere).toContain(table);
    }
  });

  it('an API key sees its organization only, and nobody sees anything without saying who asks', async () => {
    const key: Tenant = { kind: 'apiKey', organizationId: mine.org };
    for (const table of walled) {
      expect((await rowsOf(key, table)).every((r) => r.organization_id === mine.org)).toBe(true);
      expect(await rowsOf({ kind: 'anonymous' }, table)).toEqual([]);
    }
    const workspaces = await db.as({ kind: 'service' }).query<{ name: string }>('SELECT name FROM workspaces WHERE organization_id = $1', [victim.org]);
    expect(workspaces.map((w) => w.name)).toContain(victim.secretWorkspace);
  });

  it('writes without a filter change nothing of another tenant, and cannot add rows to it', async () => {
    const before = await sql('SELECT name, updated_at FROM workspaces WHERE organization_id = $1 ORDER BY id', [victim.org]);
    await db.as(asMe).query(`UPDATE workspaces SET name = 'Overwritten'`);
    await db.as(asMe).query('DELETE FROM api_keys');
    expect(await sql('SELECT name, updated_at FROM workspaces WHERE organization_id = $1 ORDER BY id', [victim.org])).toEqual(before);
    expect(await sql('SELECT count(*)::int AS n FROM api_keys WHERE organization_id = $1', [victim.org])).toEqual([{ n: 1 }]);
    await expect(
      db.as(asMe).query(`INSERT INTO workspaces (organization_id, slug, name) VALUES ($1, 'planted', 'Planted')`, [victim.org]),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it('a connection that served one tenant forgets it before serving the next', async () => {
    // Pool of two: alternating tenants reuse the same connections.
    for (let i = 0; i < 4; i++) {
      const victimRows = await db.as({ kind: 'user', userId: victim.user.id, verifiedEmail: victim.user.email }).query('SELECT 1 FROM workspaces WHERE organization_id = $1', [victim.org]);
      expect(victimRows.length).toBeGreaterThan(0);
      expect(await db.as(asMe).query('SELECT 1 FROM workspaces WHERE organization_id = $1', [victim.org])).toEqual([]);
      await db.as(asMe).transaction(async (tx) => {
        expect(await tx.query('SELECT 1 FROM workspaces WHERE organization_id = $1', [victim.org])).toEqual([]);
        throw new Error('roll back');
      }).catch(() => undefined);
    }
  });
});
