import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, organizations, memberships and the audit log. */
export class Init1763800000000 implements MigrationInterface {
  name = 'Init1763800000000';

  async up(q: QueryRunner): Promise<void> {
    // UUIDv7 (time-ordered) without PostgreSQL 18's uuidv7(): we support PostgreSQL 15 and up.
    await q.query(`
      CREATE OR REPLACE FUNCTION uuid_generate_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
        SELECT encode(
          set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
          'hex')::uuid
      $$`);

    await q.query(`
      CREATE TABLE "users" (
        "id" text PRIMARY KEY,
        "email" text,
        "email_verified" boolean NOT NULL DEFAULT false,
        "name" text,
        "claims_issued_at" timestamptz,
        "active_organization_id" uuid,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE "organizations" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "slug" text NOT NULL,
        "kind" text NOT NULL,
        "name" text NOT NULL,
        "description" text,
        "discoverable" boolean NOT NULL DEFAULT false,
        "personal_owner_id" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "organizations_slug_key" UNIQUE ("slug"),
        CONSTRAINT "organizations_personal_owner_key" UNIQUE ("personal_owner_id"),
        CONSTRAINT "organizations_kind_check" CHECK ("kind" IN ('PERSONAL', 'TEAM')),
        CONSTRAINT "organizations_personal_owner_check" CHECK (("kind" = 'PERSONAL') = ("personal_owner_id" IS NOT NULL)),
        CONSTRAINT "organizations_personal_owner_fk" FOREIGN KEY ("personal_owner_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);

    await q.query(`
      ALTER TABLE "users" ADD CONSTRAINT "users_active_organization_fk"
        FOREIGN KEY ("active_organization_id") REFERENCES "organizations"("id") ON DELETE SET NULL`);

    await q.query(`
      CREATE TABLE "memberships" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "user_id" text NOT NULL,
        "role" text NOT NULL,
        "assignments" text[] NOT NULL DEFAULT '{}',
        "invited_by_id" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "memberships_organization_user_key" UNIQUE ("organization_id", "user_id"),
        CONSTRAINT "memberships_role_check" CHECK ("role" IN ('OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER', 'GUEST')),
        CONSTRAINT "memberships_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE,
        CONSTRAINT "memberships_user_fk" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "memberships_organization_id_idx" ON "memberships" ("organization_id", "id")`);
    await q.query(`CREATE INDEX "memberships_user_id_idx" ON "memberships" ("user_id", "id")`);

    await q.query(`
      CREATE TABLE "audit_events" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "occurred_at" timestamptz NOT NULL DEFAULT now(),
        "action" text NOT NULL,
        "actor_type" text NOT NULL,
        "actor_id" text NOT NULL,
        "actor_display" text,
        "target_type" text,
        "target_id" text,
        "target_display" text,
        "metadata" jsonb NOT NULL DEFAULT '{}',
        "ip" text,
        "user_agent" text,
        "request_id" text
      )`);
    await q.query(`CREATE INDEX "audit_events_organization_id_idx" ON "audit_events" ("organization_id", "id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "audit_events"`);
    await q.query(`DROP TABLE "memberships"`);
    await q.query(`ALTER TABLE "users" DROP CONSTRAINT "users_active_organization_fk"`);
    await q.query(`DROP TABLE "organizations"`);
    await q.query(`DROP TABLE "users"`);
    await q.query(`DROP FUNCTION uuid_generate_v7()`);
  }
}
