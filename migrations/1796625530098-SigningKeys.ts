import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The keys that sign organization tokens (API.md, "Organization tokens"). They belong to the
 * service, not to a tenant: no organization_id and no tenant wall; the private half is sealed.
 * A handful of rows, read whole (src/modules/organization-token/signing-keys.ts).
 */
export class SigningKeys1796625530098 implements MigrationInterface {
  name = 'SigningKeys1796625530098';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "signing_keys" (
        "kid" text PRIMARY KEY,
        "algorithm" text NOT NULL DEFAULT 'ES256',
        "public_jwk" jsonb NOT NULL,
        "key_version" text NOT NULL,
        "private_key" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "activated_at" timestamptz NOT NULL,
        "retired_at" timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "signing_keys"`);
  }
}
