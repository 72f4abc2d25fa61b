import { Check, Column, CreateDateColumn, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { OrganizationEntity } from '../organization/organization.entity';

export enum Plan {
  STARTER = 'STARTER',
  PRO = 'PRO',
  TEAM = 'TEAM',
  BUSINESS = 'BUSINESS',
  ENTERPRISE = 'ENTERPRISE',
}

/** Every organization's plan and seats; created with the organization. */
@Entity('subscriptions')
@Check('subscriptions_plan_check', `"plan" IN ('STARTER', 'PRO', 'TEAM', 'BUSINESS', 'ENTERPRISE')`)
@Check('subscriptions_seats_check', `"seats" >= 0`)
export class SubscriptionEntity {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @OneToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'subscriptions_organization_fk' })
  organization?: OrganizationEntity;

  @Column({ type: 'text' })
  plan!: Plan;

  @Column({ type: 'integer' })
  seats!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
