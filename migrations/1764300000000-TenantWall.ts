import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every table that carries organization_id, and who else may see a row of it. */
const WALLED: Record<string, string> = {
  memberships: 'OR user_id = tenant.user_id()',
  invitations: 'OR email = tenant.verified_email()',
  join_requests: 'OR user_id = tenant.user_id()',
  workspaces: '',
  workspace_access: '',
  api_keys: '',
  subscriptions: '',
  usage_periods: '',
  byok_credentials: '',
  audit_events: '',
  audit_chain_heads: '',
  mail_outbox: '',
};

/**
 * A tenant wall in PostgreSQL itself. The application connects as `organizations_app`, a role
 * that owns nothing and cannot bypass row-level security; each connection says who is asking
 * (`tenant.kind`, `tenant.user_id`, `tenant.organization_id`, `tenant.email`, set by
 * src/db/database.ts) and the policies admit only rows of the organizations that principal
 * belongs to. Partner services and the process's own workers ask as `service`/`system` and
 * see every organization; migrations and operator scripts run as the owner.
 */
export class TenantWall1764300000000 implements MigrationInterface {
  name = 'TenantWall1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // Roles belong to the cluster: another database of it may have created this one already.
    await q.query(`
      DO $$ BEGIN
        CREATE ROLE organizations_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    // A non-superuser owner must be a member to connect with role=organizations_app.
    await q.query(`
      DO $$ BEGIN
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
          EXECUTE format('GRANT organizations_app TO %I', current_user);
        END IF;
      END $$`);
    await q.query(`GRANT USAGE ON SCHEMA public TO organizations_app`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO organizations_app`);
    await q.query(`REVOKE ALL ON TABLE migrations FROM organizations_app`);
    await q.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO organizations_app`);
    // Tables of later migrations are the app's to use too (their policies come with them).
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO organizations_app`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO organizations_app`);

    await q.query(`CREATE SCHEMA tenant`);
    await q.query(`GRANT USAGE ON SCHEMA tenant TO organizations_app`);
    await q.query(`
      CREATE FUNCTION tenant.user_id() RETURNS text LANGUAGE sql STABLE AS $$
        SELECT nullif(current_setting('tenant.user_id', true), '')
      $$`);
    await q.query(`
      CREATE FUNCTION tenant.verified_email() RETURNS text LANGUAGE sql STABLE AS $$
        SELECT nullif(current_setting('tenant.email', true), '')
      $$`);
    await q.query(`
      CREATE FUNCTION tenant.sees_all() RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT coalesce(current_setting('tenant.kind', true), '') IN ('service', 'system')
      $$`);
    // Runs as the owner (SECURITY DEFINER), so reading memberships here is not itself walled.
    await q.query(`
      CREATE FUNCTION tenant.organizations() RETURNS uuid[] LANGUAGE sql STABLE SECURITY DEFINER
      SET search_path = pg_catalog, public AS $$
        SELECT CASE coalesce(current_setting('tenant.kind', true), '')
          WHEN 'user' THEN ARRAY(SELECT organization_id FROM public.memberships WHERE user_id = nullif(current_setting('tenant.user_id', true), ''))
          WHEN 'apiKey' THEN ARRAY[nullif(current_setting('tenant.organization_id', true), '')::uuid]
          ELSE '{}'::uuid[]
        END
      $$`);
    await q.query(`REVOKE ALL ON FUNCTION tenant.organizations() FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION tenant.organizations() TO organizations_app`);

    for (const [table, alsoVisible] of Object.entries(WALLED)) {
      // The sub-SELECTs become init plans: evaluated once per statement, not once per row.
      const admits = `(SELECT tenant.sees_all()) OR organization_id = ANY ((SELECT tenant.organizations())::uuid[]) ${alsoVisible}`;
      await q.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY tenant_wall ON "${table}" TO organizations_app USING (${admits}) WITH CHECK (${admits})`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of Object.keys(WALLED)) {
      await q.query(`DROP POLICY tenant_wall ON "${table}"`);
      await q.query(`ALTER TABLE "${table}" DISABLE ROW LEVEL SECURITY`);
    }
    await q.query(`DROP SCHEMA tenant CASCADE`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM organizations_app`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM organizations_app`);
    await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM organizations_app`);
    await q.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM organizations_app`);
    await q.query(`REVOKE ALL ON SCHEMA public FROM organizations_app`);
    // The role stays: other databases of the cluster may use it.
  }
}
