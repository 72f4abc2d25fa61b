import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { Assignment, OrganizationRole } from '../../authz/permissions';
import { OrganizationEntity } from '../organization/organization.entity';

export enum InvitationStatus {
  PENDING = 'PENDING',
  ACCEPTED = 'ACCEPTED',
  DECLINED = 'DECLINED',
  CANCELED = 'CANCELED',
  EXPIRED = 'EXPIRED',
}

/** An invitation by email. Only the SHA-256 of its token is stored. */
@Entity('invitations')
@Unique('invitations_token_hash_key', ['tokenHash'])
@Index('invitations_organization_id_idx', ['organizationId', 'id'])
@Index('invitations_email_idx', ['email', 'status'])
// One pending invitation per organization and email.
@Index('invitations_pending_email_key', ['organizationId', 'email'], { unique: true, where: `"status" = 'PENDING'` })
@Check('invitations_status_check', `"status" IN ('PENDING', 'ACCEPTED', 'DECLINED', 'CANCELED', 'EXPIRED')`)
export class InvitationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'invitations_organization_fk' })
  organization?: OrganizationEntity;

  /** Trimmed and lower-cased. */
  @Column({ type: 'text' })
  email!: string;

  @Column({ type: 'text' })
  role!: OrganizationRole;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  assignments!: Assignment[];

  /** Workspaces to assign on acceptance; those deleted meanwhile are skipped. */
  @Column({ name: 'workspace_ids', type: 'uuid', array: true, default: () => "'{}'" })
  workspaceIds!: string[];

  /** Custom roles granted on acceptance (roles.id); those deleted meanwhile are skipped. */
  @Column({ name: 'role_ids', type: 'uuid', array: true, default: () => "'{}'" })
  roleIds!: string[];

  @Column({ name: 'invited_by_id', type: 'text', nullable: true })
  invitedById!: string | null;

  @Column({ name: 'token_hash', type: 'text' })
  tokenHash!: string;

  /** As stored; a PENDING invitation past its expiry reads as EXPIRED. */
  @Column({ type: 'text' })
  status!: InvitationStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'last_sent_at', type: 'timestamptz' })
  lastSentAt!: Date;

  @Column({ name: 'send_count', type: 'integer', default: 1 })
  sendCount!: number;

  /** When the last sends happened, newest last: at most 5 within 24 hours. */
  @Column({ name: 'sent_times', type: 'timestamptz', array: true, default: () => "'{}'" })
  sentTimes!: Date[];

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt!: Date | null;

  @Column({ name: 'membership_id', type: 'uuid', nullable: true })
  membershipId!: string | null;

  /** Made by a verified domain's AUTOMATIC_INVITATION mode (src/modules/domain/enrollment.ts): at most once per organization and address. */
  @Column({ type: 'boolean', default: false })
  automatic!: boolean;
}
