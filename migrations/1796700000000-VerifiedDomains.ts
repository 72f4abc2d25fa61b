import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Verified domains (API.md, "Enterprise identity"): the domains an organization claims, proven by
 * a TXT record, and how people at them join. A domain is VERIFIED by one organization at most
 * (organization_domains_verified_key, a partial unique index: in a race, one UPDATE wins and the
 * other fails on it). FAILED is not stored: a PENDING row past verification_expires_at reads as
 * FAILED. Invitations made by a domain's AUTOMATIC_INVITATION mode are marked `automatic`, so
 * that a person gets one once, declined or not. Behind the tenant wall like every table carrying
 * organization_id (migrations/1764300000000-TenantWall.ts); enrollment reads across it as the
 * system, for the person's verified address only (src/modules/domain/enrollment.ts).
 */
export class VerifiedDomains1796700000000 implements MigrationInterface {
  name = 'VerifiedDomains1796700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "organization_domains" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "domain" text NOT NULL,
        "status" text NOT NULL DEFAULT 'PENDING',
        "verification_token" text NOT NULL,
        "verification_expires_at" timestamptz NOT NULL,
        "verified_at" timestamptz,
        "last_checked_at" timestamptz,
        "unverified_since" timestamptz,
        "enrollment_mode" text NOT NULL DEFAULT 'MANUAL_INVITATION',
        "default_role" text NOT NULL DEFAULT 'VIEWER',
        "configured_by_id" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "organization_domains_organization_domain_key" UNIQUE ("organization_id", "domain"),
        CONSTRAINT "organization_domains_status_check" CHECK ("status" IN ('PENDING', 'VERIFIED')),
        CONSTRAINT "organization_domains_enrollment_mode_check" CHECK ("enrollment_mode" IN ('MANUAL_INVITATION', 'AUTOMATIC_INVITATION', 'AUTOMATIC_SUGGESTION')),
        CONSTRAINT "organization_domains_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX "organization_domains_verified_key" ON "organization_domains" ("domain") WHERE "status" = 'VERIFIED'`);
    await q.query(`CREATE INDEX "organization_domains_recheck_idx" ON "organization_domains" ("last_checked_at") WHERE "status" = 'VERIFIED'`);
    const admits = `(SELECT tenant.sees_all()) OR organization_id = ANY ((SELECT tenant.organizations())::uuid[])`;
    await q.query(`ALTER TABLE "organization_domains" ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY tenant_wall ON "organization_domains" TO organizations_app USING (${admits}) WITH CHECK (${admits})`);

    await q.query(`ALTER TABLE "invitations" ADD "automatic" boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "invitations" DROP COLUMN "automatic"`);
    await q.query(`DROP TABLE "organization_domains"`);
  }
}
