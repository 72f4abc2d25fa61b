import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import type { OrganizationRole, WorkspaceRole } from '../../authz/permissions';
import { MembershipEntity } from '../membership/membership.entity';
import { OrganizationEntity } from '../organization/organization.entity';
import { WorkspaceEntity } from '../workspace/workspace.entity';

/**
 * A directory's (Okta, Entra…) bearer token for SCIM (`Bearer scim_…`), one organization's.
 * Only the SHA-256 of its secret is stored, as for API keys (api-key.service.ts hashSecret).
 */
@Entity('directory_tokens')
@Unique('directory_tokens_secret_hash_key', ['secretHash'])
@Index('directory_tokens_organization_id_idx', ['organizationId', 'id'])
export class DirectoryTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'directory_tokens_organization_fk' })
  organization?: OrganizationEntity;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  prefix!: string;

  @Column({ name: 'secret_hash', type: 'text' })
  secretHash!: string;

  @Column({ name: 'created_by_id', type: 'text', nullable: true })
  createdById!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;
}

/** One entry of a SCIM User's `emails`. */
export interface DirectoryEmail {
  value: string;
  type?: string;
  primary?: boolean;
}

/**
 * A SCIM User: a membership of the organization, provisioned by its directory. Until the person
 * first signs in with `user_name` as their verified email it is pending (`membership_id` null) and
 * already holds a seat when active; then it binds to their membership (directory.binding.ts).
 * Removing the membership removes the SCIM User too.
 */
@Entity('directory_users')
@Index('directory_users_organization_id_idx', ['organizationId', 'id'])
@Unique('directory_users_organization_user_name_key', ['organizationId', 'userName'])
@Index('directory_users_organization_external_id_idx', ['organizationId', 'externalId'])
@Index('directory_users_pending_user_name_idx', ['userName'], { where: '"membership_id" IS NULL' })
@Index('directory_users_pending_seats_idx', ['organizationId'], { where: '"membership_id" IS NULL AND "active"' })
@Unique('directory_users_membership_key', ['membershipId'])
export class DirectoryUserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'directory_users_organization_fk' })
  organization?: OrganizationEntity;

  /** The email the membership binds to, in the one form emails are stored in (src/common/email.ts normalizeEmail): unique per organization. */
  @Column({ name: 'user_name', type: 'text' })
  userName!: string;

  @Column({ name: 'external_id', type: 'text', nullable: true })
  externalId!: string | null;

  @Column({ name: 'display_name', type: 'text', nullable: true })
  displayName!: string | null;

  @Column({ name: 'given_name', type: 'text', nullable: true })
  givenName!: string | null;

  @Column({ name: 'family_name', type: 'text', nullable: true })
  familyName!: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  emails!: DirectoryEmail[];

  /** SCIM `active`: false suspends the membership (memberships.suspended_at) and frees its seat. */
  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @Column({ name: 'membership_id', type: 'uuid', nullable: true })
  membershipId!: string | null;

  @ManyToOne(() => MembershipEntity, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'membership_id', foreignKeyConstraintName: 'directory_users_membership_fk' })
  membership?: MembershipEntity | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** A SCIM Group, and what its members get here (setDirectoryGroupMapping). */
@Entity('directory_groups')
@Index('directory_groups_organization_id_idx', ['organizationId', 'id'])
@Unique('directory_groups_organization_display_name_key', ['organizationId', 'displayName'])
@Check('directory_groups_role_check', `"role" IS NULL OR "role" IN ('ADMIN', 'DEVELOPER', 'VIEWER', 'GUEST')`)
@Check('directory_groups_workspace_role_check', `"workspace_role" IS NULL OR "workspace_role" IN ('ADMIN', 'DEVELOPER', 'VIEWER')`)
export class DirectoryGroupEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'directory_groups_organization_fk' })
  organization?: OrganizationEntity;

  @Column({ name: 'display_name', type: 'text' })
  displayName!: string;

  @Column({ name: 'external_id', type: 'text', nullable: true })
  externalId!: string | null;

  /** The base role its members get (the highest of their groups'); never OWNER. */
  @Column({ type: 'text', nullable: true })
  role!: OrganizationRole | null;

  /** Custom roles (roles.id) its members hold, sorted; a deleted role leaves them (role.service.ts deleteRole). */
  @Column({ name: 'role_ids', type: 'uuid', array: true, default: () => "'{}'" })
  roleIds!: string[];

  @Column({ name: 'workspace_id', type: 'uuid', nullable: true })
  workspaceId!: string | null;

  @ManyToOne(() => WorkspaceEntity, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'directory_groups_workspace_fk' })
  workspace?: WorkspaceEntity | null;

  @Column({ name: 'workspace_role', type: 'text', nullable: true })
  workspaceRole!: WorkspaceRole | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

@Entity('directory_group_members')
@Index('directory_group_members_user_idx', ['directoryUserId'])
export class DirectoryGroupMemberEntity {
  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @ManyToOne(() => DirectoryGroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id', foreignKeyConstraintName: 'directory_group_members_group_fk' })
  group?: DirectoryGroupEntity;

  @PrimaryColumn({ name: 'directory_user_id', type: 'uuid' })
  directoryUserId!: string;

  @ManyToOne(() => DirectoryUserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'directory_user_id', foreignKeyConstraintName: 'directory_group_members_user_fk' })
  directoryUser?: DirectoryUserEntity;

  /** For the tenant wall. */
  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;
}
