import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { OrganizationRole } from '../../authz/permissions';
import { OrganizationEntity } from '../organization/organization.entity';
import { UserEntity } from '../user/user.entity';

export enum JoinRequestStatus {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  DENIED = 'DENIED',
  CANCELED = 'CANCELED',
}

@Entity('join_requests')
@Index('join_requests_organization_id_idx', ['organizationId', 'id'])
@Index('join_requests_user_id_idx', ['userId', 'id'])
// One pending request per user and organization.
@Index('join_requests_pending_key', ['organizationId', 'userId'], { unique: true, where: `"status" = 'PENDING'` })
@Check('join_requests_status_check', `"status" IN ('PENDING', 'APPROVED', 'DENIED', 'CANCELED')`)
export class JoinRequestEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'join_requests_organization_fk' })
  organization?: OrganizationEntity;

  @Column({ name: 'user_id', type: 'text' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'join_requests_user_fk' })
  user?: UserEntity;

  @Column({ type: 'text', nullable: true })
  message!: string | null;

  @Column({ type: 'text' })
  status!: JoinRequestStatus;

  /** The role given on approval. */
  @Column({ type: 'text', nullable: true })
  role!: OrganizationRole | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt!: Date | null;

  @Column({ name: 'decided_by_id', type: 'text', nullable: true })
  decidedById!: string | null;
}
