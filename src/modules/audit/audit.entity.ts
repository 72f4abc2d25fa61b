import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export enum ActorType {
  USER = 'USER',
  SERVICE = 'SERVICE',
  API_KEY = 'API_KEY',
  SYSTEM = 'SYSTEM',
}

/**
 * One change in an organization. No foreign key to the organization: a deleted
 * organization's events stay until retention removes them.
 */
@Entity('audit_events')
@Index('audit_events_organization_id_idx', ['organizationId', 'id'])
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
}
