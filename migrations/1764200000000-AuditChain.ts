import type { MigrationInterface, QueryRunner } from 'typeorm';
import { eventHash } from '../src/modules/audit/audit-chain';

/**
 * The audit log as a hash chain per organization, append-only in the database itself.
 * Existing events are chained here in id order, with the same hash the application computes.
 */
export class AuditChain1764200000000 implements MigrationInterface {
  name = 'AuditChain1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "audit_events" ADD "seq" bigint, ADD "prev_hash" text, ADD "hash" text`);
    await q.query(`
      CREATE TABLE "audit_chain_heads" (
        "organization_id" uuid PRIMARY KEY,
        "seq" bigint NOT NULL DEFAULT 0,
        "head_hash" text NOT NULL DEFAULT '',
        "anchor_seq" bigint NOT NULL DEFAULT 0,
        "anchor_hash" text NOT NULL DEFAULT ''
      )`);

    const organizations: { organization_id: string }[] = await q.query(`SELECT DISTINCT organization_id FROM audit_events`);
    for (const { organization_id: organizationId } of organizations) {
      let prevHash = '';
      let seq = 0;
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const rows = await q.query(`SELECT * FROM audit_events WHERE organization_id = $1 AND id > $2 ORDER BY id LIMIT 1000`, [organizationId, after]);
        if (!rows.length) break;
        for (const r of rows) {
          seq += 1;
          const hash = eventHash({
            id: r.id,
            organizationId,
            seq: String(seq),
            occurredAt: r.occurred_at,
            action: r.action,
            actorType: r.actor_type,
            actorId: r.actor_id,
            actorDisplay: r.actor_display,
            targetType: r.target_type,
            targetId: r.target_id,
            targetDisplay: r.target_display,
            metadata: r.metadata,
            ip: r.ip,
            userAgent: r.user_agent,
            requestId: r.request_id,
            prevHash,
          });
          // The stored timestamp is cut to milliseconds: the hash covers exactly what is read back.
          await q.query(`UPDATE audit_events SET seq = $2, prev_hash = $3, hash = $4, occurred_at = $5 WHERE id = $1`, [r.id, seq, prevHash, hash, r.occurred_at]);
          prevHash = hash;
        }
        after = rows[rows.length - 1].id;
      }
      await q.query(`INSERT INTO audit_chain_heads (organization_id, seq, head_hash) VALUES ($1, $2, $3)`, [organizationId, seq, prevHash]);
    }

    await q.query(`ALTER TABLE "audit_events" ALTER "seq" SET NOT NULL, ALTER "prev_hash" SET NOT NULL, ALTER "hash" SET NOT NULL`);
    await q.query(`ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_organization_seq_key" UNIQUE ("organization_id", "seq")`);
    await q.query(`CREATE INDEX "audit_events_occurred_at_idx" ON "audit_events" ("occurred_at")`);

    // Append-only: only the retention purge deletes, and it says so for its own transaction.
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('audit.allow_purge', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER audit_events_no_truncate ON audit_events`);
    await q.query(`DROP TRIGGER audit_events_append_only ON audit_events`);
    await q.query(`DROP FUNCTION audit_events_append_only()`);
    await q.query(`DROP INDEX "audit_events_occurred_at_idx"`);
    await q.query(`ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_organization_seq_key"`);
    await q.query(`DROP TABLE "audit_chain_heads"`);
    await q.query(`ALTER TABLE "audit_events" DROP "seq", DROP "prev_hash", DROP "hash"`);
  }
}
