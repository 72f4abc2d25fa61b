import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events: every audit event is also an event, written in the change's own transaction
 * (src/modules/audit/audit.service.ts). Besides its content, each row carries its feed key:
 * the writing transaction's id (`pg_current_xact_id()`, the 64-bit xid8, kept as a bigint), raised to the organization's
 * previous key so that one organization's events never sort before one committed earlier,
 * and a position (an identity) ordering the events of one key. The event feed shows only
 * events below the oldest transaction still running, in (xid, position) order: an event that
 * commits late is never behind a cursor that went past (src/modules/event/event.service.ts).
 * Events written before this migration are in the audit log only.
 */
export class Events1764600000000 implements MigrationInterface {
  name = 'Events1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "events" (
        "id" uuid PRIMARY KEY,
        "organization_id" uuid NOT NULL,
        "type" text NOT NULL,
        "occurred_at" timestamptz NOT NULL,
        "data" jsonb NOT NULL,
        "xid" bigint NOT NULL,
        "position" bigint GENERATED ALWAYS AS IDENTITY
      )`);
    await q.query(`CREATE INDEX "events_feed_idx" ON "events" ("xid", "position")`);
    await q.query(`CREATE INDEX "events_organization_feed_idx" ON "events" ("organization_id", "xid", "position")`);
    await q.query(`CREATE INDEX "events_occurred_at_idx" ON "events" ("occurred_at")`);
    // The feed key of the organization's latest event: the next one's is at least this.
    await q.query(`ALTER TABLE "audit_chain_heads" ADD "event_xid" bigint`);
    // The tenant wall, as on audit_events (migrations/1764300000000-TenantWall.ts).
    const admits = `(SELECT tenant.sees_all()) OR organization_id = ANY ((SELECT tenant.organizations())::uuid[])`;
    await q.query(`ALTER TABLE "events" ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY tenant_wall ON "events" TO organizations_app USING (${admits}) WITH CHECK (${admits})`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "audit_chain_heads" DROP "event_xid"`);
    await q.query(`DROP TABLE "events"`);
  }
}
