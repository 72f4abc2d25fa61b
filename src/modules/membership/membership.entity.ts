import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import type { Assignment, OrganizationRole } from '../../authz/permissions';
import { OrganizationEntity } from '../organization/organization.entity';
import { UserEntity } from '../user/user.entity';

@Entity('memberships')
@Unique('memberships_organization_user_key', ['organizationId', 'userId'])
@Index('memberships_organization_id_idx', ['organizationId', 'id'])
@Index('memberships_user_id_idx', ['userId', 'id'])
@Check('memberships_role_check', `"role" IN ('OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER', 'GUEST')`)
export class MembershipEntity {
  // Defaults to uuid_generate_v7() (see the Init migration), which TypeORM reads as a generated uuid.
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'memberships_organization_fk' })
  organization?: OrganizationEntity;

  @Column({ name: 'user_id', type: 'text' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'memberships_user_fk' })
  user?: UserEntity;

  @Column({ type: 'text' })
  role!: OrganizationRole;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  assignments!: Assignment[];

  /** Suspended by the organization's directory (SCIM `active: false`): no access, no seat, still listed. */
  @Column({ name: 'suspended_at', type: 'timestamptz', nullable: true })
  suspendedAt!: Date | null;

  @Column({ name: 'invited_by_id', type: 'text', nullable: true })
  invitedById!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  joinedAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** The member's email (verified or not) and name, when the statement that read this row joined its user (a members page). */
  profile?: MemberProfile;
}

export interface MemberProfile {
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}
