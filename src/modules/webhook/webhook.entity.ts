import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

export enum WebhookDeliveryStatus {
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}

/**
 * Where events are sent (migrations/1764700000000-Webhooks.ts): an organization's endpoint, or a
 * partner service's (no organization: every organization's events). Secrets are sealed with
 * ENCRYPTION_KEY; during a rotation the previous one still signs until it expires.
 */
@Entity('webhook_endpoints')
@Check('webhook_endpoints_owner_check', `("organization_id" IS NULL) = ("owner_client_id" IS NOT NULL)`)
@Index('webhook_endpoints_organization_id_idx', ['organizationId', 'id'])
@Index('webhook_endpoints_owner_client_id_idx', ['ownerClientId', 'id'])
export class WebhookEndpointEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid', nullable: true })
  organizationId!: string | null;

  /** The partner service that owns a service endpoint. */
  @Column({ name: 'owner_client_id', type: 'text', nullable: true })
  ownerClientId!: string | null;

  /** The member who made an organization's endpoint: it streams only while they may (disableEndpointsBeyondCreator). */
  @Column({ name: 'created_by_id', type: 'text', nullable: true })
  createdById!: string | null;

  @Column({ type: 'text' })
  url!: string;

  @Column({ name: 'event_types', type: 'text', array: true, default: () => "'{}'" })
  eventTypes!: string[];

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason!: string | null;

  @Column({ name: 'key_version', type: 'text' })
  keyVersion!: string;

  @Column({ type: 'text' })
  secret!: string;

  @Column({ name: 'previous_key_version', type: 'text', nullable: true })
  previousKeyVersion!: string | null;

  @Column({ name: 'previous_secret', type: 'text', nullable: true })
  previousSecret!: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt!: Date | null;

  /** Since when every delivery has failed; null after a success. */
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  /** Retired with its organization: it still gets what was queued for it, then the worker purges it. */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;
}

/** One event for one endpoint: the outbox row the webhook worker claims. */
@Entity('webhook_deliveries')
@Check('webhook_deliveries_status_check', `"status" IN ('PENDING', 'SUCCEEDED', 'FAILED')`)
@Index('webhook_deliveries_due_idx', ['nextAttemptAt'], { where: `"status" = 'PENDING'` })
@Index('webhook_deliveries_endpoint_id_idx', ['endpointId', 'id'])
@Index('webhook_deliveries_finished_at_idx', ['finishedAt'])
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @ManyToOne(() => WebhookEndpointEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id', foreignKeyConstraintName: 'webhook_deliveries_endpoint_fk' })
  endpoint?: WebhookEndpointEntity;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  /** The endpoint's organization (the tenant wall's column); null for a service endpoint. */
  @Column({ name: 'organization_id', type: 'uuid', nullable: true })
  organizationId!: string | null;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: string;

  /** A test event's data; an event's is read from `events`. */
  @Column({ type: 'jsonb', nullable: true })
  payload!: Record<string, unknown> | null;

  @Column({ type: 'text', default: WebhookDeliveryStatus.PENDING })
  status!: WebhookDeliveryStatus;

  /** Counted when the worker claims the delivery, so that attempts whose outcome was never recorded count too. */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  /** The attempts it may take: null for the retry schedule's (its first and a retry per step); a retry by hand allows one more. */
  @Column({ name: 'max_attempts', type: 'integer', nullable: true })
  maxAttempts!: number | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt!: Date | null;

  @Column({ name: 'response_status', type: 'integer', nullable: true })
  responseStatus!: number | null;

  /** The first 200 characters of the receiver's answer, no more. */
  @Column({ name: 'response_excerpt', type: 'text', nullable: true })
  responseExcerpt!: string | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
