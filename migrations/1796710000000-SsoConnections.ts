import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SSO connections (API.md, Enterprise identity): one per organization, OIDC or SAML, the OIDC
 * client secret sealed with ENCRYPTION_KEY. Enforcement is a column of the organization, read
 * with every member's access without another statement (src/authz/access.ts).
 */
export class SsoConnections1796710000000 implements MigrationInterface {
  name = 'SsoConnections1796710000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "organizations" ADD "sso_enforced" boolean NOT NULL DEFAULT false`);
    await q.query(`
      CREATE TABLE "sso_connections" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "protocol" text NOT NULL,
        "oidc_issuer" text,
        "oidc_client_id" text,
        "oidc_client_secret_box" text,
        "key_version" text,
        "oidc_authorization_endpoint" text,
        "oidc_token_endpoint" text,
        "oidc_jwks_uri" text,
        "saml_metadata" text,
        "saml_entity_id" text,
        "saml_sso_url" text,
        "saml_sso_binding" text,
        "saml_certificate" text,
        "saml_certificate_expires_at" timestamptz,
        "checked_at" timestamptz NOT NULL,
        "updated_by_id" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "sso_connections_organization_key" UNIQUE ("organization_id"),
        CONSTRAINT "sso_connections_protocol_check" CHECK ("protocol" IN ('OIDC', 'SAML')),
        CONSTRAINT "sso_connections_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
    // The tenant wall (migrations/1764300000000-TenantWall.ts).
    const admits = `(SELECT tenant.sees_all()) OR organization_id = ANY ((SELECT tenant.organizations())::uuid[])`;
    await q.query(`ALTER TABLE "sso_connections" ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY tenant_wall ON "sso_connections" TO organizations_app USING (${admits}) WITH CHECK (${admits})`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "sso_connections"`);
    await q.query(`ALTER TABLE "organizations" DROP COLUMN "sso_enforced"`);
  }
}
