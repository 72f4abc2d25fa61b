import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Invitations, join requests, and the mail outbox. */
export class InvitationsJoinRequestsMail1764100000000 implements MigrationInterface {
  name = 'InvitationsJoinRequestsMail1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "invitations" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "email" text NOT NULL,
        "role" text NOT NULL,
        "assignments" text[] NOT NULL DEFAULT '{}',
        "workspace_ids" uuid[] NOT NULL DEFAULT '{}',
        "invited_by_id" text,
        "token_hash" text NOT NULL,
        "status" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL,
        "last_sent_at" timestamptz NOT NULL,
        "send_count" integer NOT NULL DEFAULT 1,
        "sent_times" timestamptz[] NOT NULL DEFAULT '{}',
        "decided_at" timestamptz,
        "membership_id" uuid,
        CONSTRAINT "invitations_token_hash_key" UNIQUE ("token_hash"),
        CONSTRAINT "invitations_status_check" CHECK ("status" IN ('PENDING', 'ACCEPTED', 'DECLINED', 'CANCELED', 'EXPIRED')),
        CONSTRAINT "invitations_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "invitations_organization_id_idx" ON "invitations" ("organization_id", "id")`);
    await q.query(`CREATE INDEX "invitations_email_idx" ON "invitations" ("email", "status")`);
    await q.query(`CREATE UNIQUE INDEX "invitations_pending_email_key" ON "invitations" ("organization_id", "email") WHERE "status" = 'PENDING'`);

    await q.query(`
      CREATE TABLE "join_requests" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid NOT NULL,
        "user_id" text NOT NULL,
        "message" text,
        "status" text NOT NULL,
        "role" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "decided_at" timestamptz,
        "decided_by_id" text,
        CONSTRAINT "join_requests_status_check" CHECK ("status" IN ('PENDING', 'APPROVED', 'DENIED', 'CANCELED')),
        CONSTRAINT "join_requests_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE,
        CONSTRAINT "join_requests_user_fk" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "join_requests_organization_id_idx" ON "join_requests" ("organization_id", "id")`);
    await q.query(`CREATE INDEX "join_requests_user_id_idx" ON "join_requests" ("user_id", "id")`);
    await q.query(`CREATE UNIQUE INDEX "join_requests_pending_key" ON "join_requests" ("organization_id", "user_id") WHERE "status" = 'PENDING'`);

    await q.query(`
      CREATE TABLE "mail_outbox" (
        "id" uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        "organization_id" uuid,
        "topic" text NOT NULL,
        "key_version" text,
        "payload" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
        "sent_at" timestamptz,
        "last_error" text
      )`);
    await q.query(`CREATE INDEX "mail_outbox_due_idx" ON "mail_outbox" ("next_attempt_at") WHERE "sent_at" IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "mail_outbox"`);
    await q.query(`DROP TABLE "join_requests"`);
    await q.query(`DROP TABLE "invitations"`);
  }
}
