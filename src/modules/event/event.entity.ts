import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An event: an audit event as the rest of a SaaS reads it (the feed, webhooks), written in the
 * change's own transaction (migrations/1764600000000-Events.ts). `xid` and `position` are its
 * place in the feed; `data` is what a webhook's body carries (src/modules/event/event-data.ts).
 */
@Entity('events')
@Index('events_feed_idx', ['xid', 'position'])
@Index('events_organization_feed_idx', ['organizationId', 'xid', 'position'])
@Index('events_occurred_at_idx', ['occurredAt'])
export class EventEntity {
  /** The audit event's id. */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  /** The audit action, e.g. member.removed. */
  @Column({ type: 'text' })
  type!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ type: 'jsonb' })
  data!: Record<string, unknown>;

  /** The writing transaction's id (xid8), at least the organization's previous event's: bigint, so a string. */
  @Column({ type: 'bigint' })
  xid!: string;

  /** Orders the events of one xid: an identity, so a later insert is always larger whatever the clocks say. */
  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  position!: string;
}
