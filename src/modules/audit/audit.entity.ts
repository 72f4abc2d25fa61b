import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, Unique } from 'typeorm';

export enum ActorType {
  USER = 'USER',
  SERVICE = 'SERVICE',
  API_KEY = 'API_KEY',
  SYSTEM = 'SYSTEM',
  /** A SCIM client (an organization's directory token): actor id the token's, display its name. */
  DIRECTORY = 'DIRECTORY',
}

/**
 * One change in an organization. No foreign key to the organization: a deleted
 * organization's events stay until retention removes them.
 */
@Entity('audit_events')
@Index('audit_events_organization_id_idx', ['organizationId', 'id'])
@Index('audit_events_occurred_at_idx', ['occurredAt'])
@Unique('audit_events_organization_seq_key', ['organizationId', 'seq'])
export class AuditEventEntity {
  /** UUIDv7: ordered by time, so keyset pages over it are newest-first by `id DESC`. */
  // Defaults to uuid_generate_v7() (see the Init migration), which TypeORM reads as a generated uuid.
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz', default: () => 'now()' })
  occurredAt!: Date;

  @Column({ type: 'text' })
  action!: string;

  @Column({ name: 'actor_type', type: 'text' })
  actorType!: ActorType;

  @Column({ name: 'actor_id', type: 'text' })
  actorId!: string;

  @Column({ name: 'actor_display', type: 'text', nullable: true })
  actorDisplay!: string | null;

  @Column({ name: 'target_type', type: 'text', nullable: true })
  targetType!: string | null;

  @Column({ name: 'target_id', type: 'text', nullable: true })
  targetId!: string | null;

  @Column({ name: 'target_display', type: 'text', nullable: true })
  targetDisplay!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata!: Record<string, unknown>;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  /** Position in its organization's hash chain, from 1; bigint, so a string. */
  @Column({ type: 'bigint' })
  seq!: string;

  /** The previous event's hash (or the chain's anchor); empty for the first event. */
  @Column({ name: 'prev_hash', type: 'text' })
  prevHash!: string;

  /** SHA-256 of the event's canonical content and prevHash (see audit-chain.ts). */
  @Column({ type: 'text' })
  hash!: string;
}

/**
 * The end of an organization's chain. Writers lock this row, so events of one organization
 * are chained one after another under any concurrency. `anchor*` is the last purged event.
 */
@Entity('audit_chain_heads')
export class AuditChainHeadEntity {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @Column({ type: 'bigint', default: 0 })
  seq!: string;

  @Column({ name: 'head_hash', type: 'text', default: '' })
  headHash!: string;

  @Column({ name: 'anchor_seq', type: 'bigint', default: 0 })
  anchorSeq!: string;

  @Column({ name: 'anchor_hash', type: 'text', default: '' })
  anchorHash!: string;

  /** The feed key (events.xid) of the organization's latest event: the next one's is at least this, so the feed keeps each organization's order. */
  @Column({ name: 'event_xid', type: 'bigint', nullable: true })
  eventXid!: string | null;
}
