import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Usage per monthly period, partner idempotency keys, and sealed BYOK credentials. */
export class BillingUsageByok1764000000000 implements MigrationInterface {
  name = 'BillingUsageByok1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "usage_periods" (
        "organization_id" uuid NOT NULL,
        "period_start" date NOT NULL,
        "credits_used" bigint NOT NULL DEFAULT 0,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "usage_periods_pkey" PRIMARY KEY ("organization_id", "period_start"),
        CONSTRAINT "usage_periods_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE "idempotency_keys" (
        "client_id" text NOT NULL,
        "operation" text NOT NULL,
        "key" text NOT NULL,
        "request_hash" text NOT NULL,
        "response" jsonb,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("client_id", "operation", "key")
      )`);
    await q.query(`CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys" ("created_at")`);
    await q.query(`
      CREATE TABLE "byok_credentials" (
        "organization_id" uuid PRIMARY KEY,
        "provider" text NOT NULL,
        "access_key_id_last4" text NOT NULL,
        "region" text NOT NULL,
        "key_version" text NOT NULL,
        "box" text NOT NULL,
        "updated_by_id" text,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "byok_credentials_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "byok_credentials"`);
    await q.query(`DROP TABLE "idempotency_keys"`);
    await q.query(`DROP TABLE "usage_periods"`);
  }
}
