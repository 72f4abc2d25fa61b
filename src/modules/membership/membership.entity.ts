import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import type { Assignment, OrganizationRole } from '../../authz/permissions';
import { OrganizationEntity } from '../organization/organization.entity';
import { UserEntity } from '../user/user.entity';

@Entity('memberships')
@Unique('memberships_organization_user_key', ['organizationId', 'userId'])
@Index('memberships_organization_id_idx', ['organizationId', 'id'])
@Index('memberships_user_id_idx', ['userId', 'id'])
// GIN, written by the CustomRoles migration (TypeORM cannot declare its kind).
@Index('memberships_role_ids_idx', { synchronize: false })
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
  /** Custom roles held (roles.id), sorted. */
  @Column({ name: 'role_ids', type: 'uuid', array: true, default: () => "'{}'" })
  roleIds!: string[];

  /**
   * The union of the permission keys of `roleIds`, kept by every write that changes a role or
   * who holds it (role.service.ts, in its transaction): what makes a custom role count wherever
   * a membership row is read, for no statement more.
   */
  @Column({ name: 'role_permissions', type: 'text', array: true, default: () => "'{}'" })
  rolePermissions!: string[];

  @Column({ name: 'invited_by_id', type: 'text', nullable: true })
  invitedById!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  joinedAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** The member's email (verified or not) and name, when the statement that read this row joined its user (a members page). */
  profile?: MemberProfile;

  /**
   * Whether its organization enforces SSO (organizations.sso_enforced), when the statement that
   * read this row joined it: every read of the asker's own membership does (src/authz/access.ts).
   */
  organizationSsoEnforced?: boolean;
}

export interface MemberProfile {
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}
