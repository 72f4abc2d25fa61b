import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SCIM 2.0 provisioning (API.md, "Enterprise identity"): directory tokens (only their SHA-256
 * stored), directory users (a SCIM User: pending until the person signs in with that verified
 * email, then bound to their membership), groups with what their members get, and who is in
 * which. A membership suspended by the directory (`suspended_at`) grants nothing: the tenant
 * wall's tenant.organizations() leaves its organization out (the member still sees their own
 * row), as src/authz/access.ts accessOfMember does in the application. Every new table carries
 * organization_id behind the wall (migrations/1764300000000-TenantWall.ts).
 */
export class ScimProvisioning1796900000000 implements MigrationInterface {
  name = 'ScimProvisioning1796900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "memberships" ADD "suspended_at" timestamptz`);
    await q.query(`
      CREATE TABLE "directory_tokens" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "name" text NOT NULL,
        "prefix" text NOT NULL,
        "secret_hash" text NOT NULL,
        "created_by_id" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "revoked_at" timestamptz,
        "last_used_at" timestamptz,
        CONSTRAINT "directory_tokens_secret_hash_key" UNIQUE ("secret_hash"),
        CONSTRAINT "directory_tokens_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "directory_tokens_organization_id_idx" ON "directory_tokens" ("organization_id", "id")`);
    await q.query(`
      CREATE TABLE "directory_users" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "user_name" text NOT NULL,
        "external_id" text,
        "display_name" text,
        "given_name" text,
        "family_name" text,
        "emails" jsonb NOT NULL DEFAULT '[]',
        "active" boolean NOT NULL DEFAULT true,
        "membership_id" uuid,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "directory_users_membership_key" UNIQUE ("membership_id"),
        CONSTRAINT "directory_users_organization_user_name_key" UNIQUE ("organization_id", "user_name"),
        CONSTRAINT "directory_users_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE,
        CONSTRAINT "directory_users_membership_fk" FOREIGN KEY ("membership_id") REFERENCES "memberships"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "directory_users_organization_id_idx" ON "directory_users" ("organization_id", "id")`);
    await q.query(`CREATE INDEX "directory_users_organization_external_id_idx" ON "directory_users" ("organization_id", "external_id")`);
    // A person's first sign-in looks for the directory users waiting for their address.
    await q.query(`CREATE INDEX "directory_users_pending_user_name_idx" ON "directory_users" ("user_name") WHERE "membership_id" IS NULL`);
    // Seats count the pending active users of an organization (billing.loaders.ts planFacts): not all its users.
    await q.query(`CREATE INDEX "directory_users_pending_seats_idx" ON "directory_users" ("organization_id") WHERE "membership_id" IS NULL AND "active"`);
    await q.query(`
      CREATE TABLE "directory_groups" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "display_name" text NOT NULL,
        "external_id" text,
        "role" text,
        "role_ids" uuid array NOT NULL DEFAULT '{}',
        "workspace_id" uuid,
        "workspace_role" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "directory_groups_organization_display_name_key" UNIQUE ("organization_id", "display_name"),
        CONSTRAINT "directory_groups_role_check" CHECK ("role" IS NULL OR "role" IN ('ADMIN', 'DEVELOPER', 'VIEWER', 'GUEST')),
        CONSTRAINT "directory_groups_workspace_role_check" CHECK ("workspace_role" IS NULL OR "workspace_role" IN ('ADMIN', 'DEVELOPER', 'VIEWER')),
        CONSTRAINT "directory_groups_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE,
        CONSTRAINT "directory_groups_workspace_fk" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE SET NULL
      )`);
    await q.query(`CREATE INDEX "directory_groups_organization_id_idx" ON "directory_groups" ("organization_id", "id")`);
    await q.query(`
      CREATE TABLE "directory_group_members" (
        "group_id" uuid NOT NULL,
        "directory_user_id" uuid NOT NULL,
        "organization_id" uuid NOT NULL,
        CONSTRAINT "directory_group_members_pkey" PRIMARY KEY ("group_id", "directory_user_id"),
        CONSTRAINT "directory_group_members_group_fk" FOREIGN KEY ("group_id") REFERENCES "directory_groups"("id") ON DELETE CASCADE,
        CONSTRAINT "directory_group_members_user_fk" FOREIGN KEY ("directory_user_id") REFERENCES "directory_users"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "directory_group_members_user_idx" ON "directory_group_members" ("directory_user_id")`);

    const admits = `(SELECT tenant.sees_all()) OR organization_id = ANY ((SELECT tenant.organizations())::uuid[])`;
    for (const table of ['directory_tokens', 'directory_users', 'directory_groups', 'directory_group_members']) {
      await q.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY tenant_wall ON "${table}" TO organizations_app USING (${admits}) WITH CHECK (${admits})`);
    }
    await this.organizationsOfTenant(q, 'AND suspended_at IS NULL');
  }

  /** tenant.organizations() as the TenantWall migration wrote it, a user's memberships narrowed by `memberships`. */
  private async organizationsOfTenant(q: QueryRunner, memberships: string): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION tenant.organizations() RETURNS uuid[] LANGUAGE sql STABLE SECURITY DEFINER
      SET search_path = pg_catalog, public AS $$
        SELECT CASE coalesce(current_setting('tenant.kind', true), '')
          WHEN 'user' THEN ARRAY(SELECT organization_id FROM public.memberships WHERE user_id = nullif(current_setting('tenant.user_id', true), '') ${memberships})
          WHEN 'apiKey' THEN ARRAY[nullif(current_setting('tenant.organization_id', true), '')::uuid]
          ELSE '{}'::uuid[]
        END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await this.organizationsOfTenant(q, '');
    await q.query(`DROP TABLE "directory_group_members"`);
    await q.query(`DROP TABLE "directory_groups"`);
    await q.query(`DROP TABLE "directory_users"`);
    await q.query(`DROP TABLE "directory_tokens"`);
    await q.query(`ALTER TABLE "memberships" DROP COLUMN "suspended_at"`);
  }
}
