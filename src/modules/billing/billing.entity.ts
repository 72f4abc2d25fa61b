import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { OrganizationEntity } from '../organization/organization.entity';

/** Credits used by an organization in one monthly period (UTC). */
@Entity('usage_periods')
export class UsagePeriodEntity {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'usage_periods_organization_fk' })
  organization?: OrganizationEntity;

  @PrimaryColumn({ name: 'period_start', type: 'date' })
  periodStart!: string;

  /** bigint: a busy organization outgrows 32 bits; pg returns it as a string. */
  @Column({ name: 'credits_used', type: 'bigint', default: 0 })
  creditsUsed!: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/**
 * A partner call's idempotency key: the same key with the same input returns the stored
 * result; with different input it is CONFLICT. Kept for at least 24 hours.
 */
@Entity('idempotency_keys')
@Index('idempotency_keys_created_at_idx', ['createdAt'])
export class IdempotencyKeyEntity {
  @PrimaryColumn({ name: 'client_id', type: 'text' })
  clientId!: string;

  @PrimaryColumn({ type: 'text' })
  operation!: string;

  @PrimaryColumn({ type: 'text' })
  key!: string;

  @Column({ name: 'request_hash', type: 'text' })
  requestHash!: string;

  @Column({ type: 'jsonb', nullable: true })
  response!: unknown;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
