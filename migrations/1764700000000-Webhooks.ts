import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook endpoints and their deliveries (API.md, Events). An organization's endpoint has its
 * organization_id; a partner service's has none and names the service (owner_client_id) instead.
 * Every event is fanned out to the matching endpoints in the change's own statement
 * (webhooks_fan_out, called by src/modules/audit/audit.service.ts), so an endpoint gets exactly
 * the events committed while it existed, and a rollback sends nothing. The function runs as the
 * owner: a person's transaction sees only its organization's endpoints, and a service endpoint
 * must get the event all the same. So it trusts its caller with nothing but the event's id: the
 * organization and type are the event row's, and only an event of the calling transaction (or a
 * later one: its xid) is fanned out, so that no SQL run as the app can send another
 * organization's event to its own endpoint, nor an old event again (the worker, for its part,
 * sends a delivery only the event of its own organization). A deleted organization's endpoints
 * are retired (deleted_at) rather than removed, so that they still receive organization.deleted
 * and what was pending; the worker purges them once nothing is left to deliver.
 */
export class Webhooks1764700000000 implements MigrationInterface {
  name = 'Webhooks1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "webhook_endpoints" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid,
        "owner_client_id" text,
        "created_by_id" text,
        "url" text NOT NULL,
        "event_types" text[] NOT NULL DEFAULT '{}',
        "description" text,
        "enabled" boolean NOT NULL DEFAULT true,
        "disabled_reason" text,
        "key_version" text NOT NULL,
        "secret" text NOT NULL,
        "previous_key_version" text,
        "previous_secret" text,
        "previous_secret_expires_at" timestamptz,
        "failing_since" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz,
        CONSTRAINT "webhook_endpoints_owner_check" CHECK (("organization_id" IS NULL) = ("owner_client_id" IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX "webhook_endpoints_organization_id_idx" ON "webhook_endpoints" ("organization_id", "id")`);
    await q.query(`CREATE INDEX "webhook_endpoints_owner_client_id_idx" ON "webhook_endpoints" ("owner_client_id", "id")`);
    await q.query(`
      CREATE TABLE "webhook_deliveries" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "endpoint_id" uuid NOT NULL,
        "organization_id" uuid,
        "event_id" uuid NOT NULL,
        "event_type" text NOT NULL,
        "payload" jsonb,
        "status" text NOT NULL DEFAULT 'PENDING',
        "attempts" integer NOT NULL DEFAULT 0,
        "max_attempts" integer,
        "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
        "last_attempt_at" timestamptz,
        "response_status" integer,
        "response_excerpt" text,
        "last_error" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "finished_at" timestamptz,
        CONSTRAINT "webhook_deliveries_status_check" CHECK ("status" IN ('PENDING', 'SUCCEEDED', 'FAILED')),
        CONSTRAINT "webhook_deliveries_endpoint_fk" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" ("next_attempt_at") WHERE "status" = 'PENDING'`);
    await q.query(`CREATE INDEX "webhook_deliveries_endpoint_id_idx" ON "webhook_deliveries" ("endpoint_id", "id")`);
    await q.query(`CREATE INDEX "webhook_deliveries_finished_at_idx" ON "webhook_deliveries" ("finished_at")`);

    // The tenant wall (migrations/1764300000000-TenantWall.ts): a service endpoint and its
    // deliveries (no organization) are seen by services and the system only.
    const admits = `(SELECT tenant.sees_all()) OR organization_id = ANY ((SELECT tenant.organizations())::uuid[])`;
    for (const table of ['webhook_endpoints', 'webhook_deliveries']) {
      await q.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY tenant_wall ON "${table}" TO organizations_app USING (${admits}) WITH CHECK (${admits})`);
    }

    // A delivery per enabled endpoint subscribed to the event: the organization's and every service's.
    await q.query(`
      CREATE FUNCTION webhooks_fan_out(event_id uuid) RETURNS integer
      LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        WITH event AS (
          SELECT ev.id, ev.organization_id, ev.type FROM events ev
          WHERE ev.id = $1 AND ev.xid >= pg_current_xact_id()::text::bigint
        ), created AS (
          INSERT INTO webhook_deliveries (endpoint_id, organization_id, event_id, event_type)
          SELECT e.id, e.organization_id, event.id, event.type
          FROM event JOIN webhook_endpoints e ON e.organization_id = event.organization_id OR e.organization_id IS NULL
          WHERE e.enabled AND e.deleted_at IS NULL
            AND (cardinality(e.event_types) = 0 OR event.type = ANY (e.event_types)
              OR EXISTS (SELECT 1 FROM unnest(e.event_types) f WHERE right(f, 2) = '.*' AND starts_with(event.type, left(f, -1))))
          RETURNING 1
        )
        SELECT count(*)::integer FROM created
      $$`);
    await q.query(`REVOKE ALL ON FUNCTION webhooks_fan_out(uuid) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION webhooks_fan_out(uuid) TO organizations_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION webhooks_fan_out(uuid)`);
    await q.query(`DROP TABLE "webhook_deliveries"`);
    await q.query(`DROP TABLE "webhook_endpoints"`);
  }
}
