import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Custom roles (API.md, "Product permissions"): an organization's named sets of permission keys,
 * held by members (memberships.role_ids, with the union of their keys kept in
 * memberships.role_permissions) and granted by invitations (invitations.role_ids). Behind the
 * tenant wall (an invitation is accepted cross-tenant, as before).
 */
export class CustomRoles1796800000000 implements MigrationInterface {
  name = 'CustomRoles1796800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "roles" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "key" text NOT NULL,
        "name" text NOT NULL,
        "description" text,
        "permissions" text array NOT NULL DEFAULT '{}',
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "roles_organization_key_key" UNIQUE ("organization_id", "key"),
        CONSTRAINT "roles_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`ALTER TABLE "memberships" ADD "role_ids" uuid array NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE "memberships" ADD "role_permissions" text array NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE "invitations" ADD "role_ids" uuid array NOT NULL DEFAULT '{}'`);
    // memberCount and the holders a role change rewrites.
    await q.query(`CREATE INDEX "memberships_role_ids_idx" ON "memberships" USING gin ("role_ids")`);
    const admits = `(SELECT tenant.sees_all()) OR organization_id = ANY ((SELECT tenant.organizations())::uuid[])`;
    await q.query(`ALTER TABLE "roles" ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY tenant_wall ON "roles" TO organizations_app USING (${admits}) WITH CHECK (${admits})`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "memberships_role_ids_idx"`);
    await q.query(`ALTER TABLE "invitations" DROP COLUMN "role_ids"`);
    await q.query(`ALTER TABLE "memberships" DROP COLUMN "role_permissions"`);
    await q.query(`ALTER TABLE "memberships" DROP COLUMN "role_ids"`);
    await q.query(`DROP TABLE "roles"`);
  }
}
