import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Workspaces and who may enter them, organization API keys, and every organization's plan. */
export class WorkspacesApiKeys1763900000000 implements MigrationInterface {
  name = 'WorkspacesApiKeys1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "subscriptions" (
        "organization_id" uuid PRIMARY KEY,
        "plan" text NOT NULL,
        "seats" integer NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "subscriptions_plan_check" CHECK ("plan" IN ('STARTER', 'PRO', 'TEAM', 'BUSINESS', 'ENTERPRISE')),
        CONSTRAINT "subscriptions_seats_check" CHECK ("seats" >= 0),
        CONSTRAINT "subscriptions_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
    // Organizations made before plans existed: personal ones on STARTER, teams on TEAM with 5 seats.
    await q.query(`
      INSERT INTO "subscriptions" ("organization_id", "plan", "seats")
      SELECT "id", CASE "kind" WHEN 'PERSONAL' THEN 'STARTER' ELSE 'TEAM' END, CASE "kind" WHEN 'PERSONAL' THEN 1 ELSE 5 END
      FROM "organizations"`);

    await q.query(`
      CREATE TABLE "workspaces" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "slug" text NOT NULL,
        "name" text NOT NULL,
        "description" text,
        "created_by_id" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "workspaces_organization_slug_key" UNIQUE ("organization_id", "slug"),
        CONSTRAINT "workspaces_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "workspaces_organization_id_idx" ON "workspaces" ("organization_id", "id")`);

    await q.query(`
      CREATE TABLE "workspace_access" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "workspace_id" uuid NOT NULL,
        "membership_id" uuid NOT NULL,
        "role_override" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "workspace_access_workspace_membership_key" UNIQUE ("workspace_id", "membership_id"),
        CONSTRAINT "workspace_access_role_override_check" CHECK ("role_override" IN ('ADMIN', 'DEVELOPER', 'VIEWER')),
        CONSTRAINT "workspace_access_workspace_fk" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE,
        CONSTRAINT "workspace_access_membership_fk" FOREIGN KEY ("membership_id") REFERENCES "memberships"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "workspace_access_membership_id_idx" ON "workspace_access" ("membership_id")`);
    await q.query(`CREATE INDEX "workspace_access_organization_id_idx" ON "workspace_access" ("organization_id", "workspace_id")`);

    await q.query(`
      CREATE TABLE "api_keys" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "workspace_id" uuid,
        "name" text NOT NULL,
        "prefix" text NOT NULL,
        "secret_hash" text NOT NULL,
        "scopes" text[] NOT NULL DEFAULT '{}',
        "created_by_id" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_used_at" timestamptz,
        "expires_at" timestamptz,
        "revoked_at" timestamptz,
        CONSTRAINT "api_keys_secret_hash_key" UNIQUE ("secret_hash"),
        CONSTRAINT "api_keys_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE,
        CONSTRAINT "api_keys_workspace_fk" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "api_keys_organization_id_idx" ON "api_keys" ("organization_id", "id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "api_keys"`);
    await q.query(`DROP TABLE "workspace_access"`);
    await q.query(`DROP TABLE "workspaces"`);
    await q.query(`DROP TABLE "subscriptions"`);
  }
}
