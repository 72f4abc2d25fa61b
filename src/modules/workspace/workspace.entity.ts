import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { WorkspaceRole } from '../../authz/permissions';
import { MembershipEntity } from '../membership/membership.entity';
import { OrganizationEntity } from '../organization/organization.entity';

@Entity('workspaces')
@Unique('workspaces_organization_slug_key', ['organizationId', 'slug'])
@Index('workspaces_organization_id_idx', ['organizationId', 'id'])
export class WorkspaceEntity {
  // Defaults to uuid_generate_v7() (see the Init migration), which TypeORM reads as a generated uuid.
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'workspaces_organization_fk' })
  organization?: OrganizationEntity;

  /** Unique within its organization, stored lower-case. */
  @Column({ type: 'text' })
  slug!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  /** Kept when its creator leaves: what a member created stays with the organization. */
  @Column({ name: 'created_by_id', type: 'text', nullable: true })
  createdById!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** A member assigned to a workspace, optionally with a role of its own there. */
@Entity('workspace_access')
@Unique('workspace_access_workspace_membership_key', ['workspaceId', 'membershipId'])
@Index('workspace_access_membership_id_idx', ['membershipId'])
@Index('workspace_access_organization_id_idx', ['organizationId', 'workspaceId'])
@Check('workspace_access_role_override_check', `"role_override" IN ('ADMIN', 'DEVELOPER', 'VIEWER')`)
export class WorkspaceAccessEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId!: string;

  @ManyToOne(() => WorkspaceEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'workspace_access_workspace_fk' })
  workspace?: WorkspaceEntity;

  @Column({ name: 'membership_id', type: 'uuid' })
  membershipId!: string;

  @ManyToOne(() => MembershipEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'membership_id', foreignKeyConstraintName: 'workspace_access_membership_fk' })
  membership?: MembershipEntity;

  @Column({ name: 'role_override', type: 'text', nullable: true })
  roleOverride!: WorkspaceRole | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
