import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import type { OrganizationRole } from '../../authz/permissions';
import { OrganizationEntity } from '../organization/organization.entity';

/** Stored states: FAILED is read, never stored (a PENDING domain past `verificationExpiresAt`: see domain.service.ts statusOf). */
export enum StoredDomainStatus {
  PENDING = 'PENDING',
  VERIFIED = 'VERIFIED',
}

/**
 * A domain an organization claims (API.md, "Enterprise identity"), proven by a TXT record.
 * Lower-case, exactly as the part after the `@` of an address: `acme.com` does not cover
 * `eu.acme.com` (README, "Verified domains").
 */
@Entity('organization_domains')
@Unique('organization_domains_organization_domain_key', ['organizationId', 'domain'])
// A domain is VERIFIED by one organization at most: a second one fails on this index, even in a race.
@Index('organization_domains_verified_key', ['domain'], { unique: true, where: `"status" = 'VERIFIED'` })
@Index('organization_domains_recheck_idx', ['lastCheckedAt'], { where: `"status" = 'VERIFIED'` })
@Check('organization_domains_status_check', `"status" IN ('PENDING', 'VERIFIED')`)
@Check('organization_domains_enrollment_mode_check', `"enrollment_mode" IN ('MANUAL_INVITATION', 'AUTOMATIC_INVITATION', 'AUTOMATIC_SUGGESTION')`)
export class OrganizationDomainEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'organization_domains_organization_fk' })
  organization?: OrganizationEntity;

  @Column({ type: 'text' })
  domain!: string;

  @Column({ type: 'text', default: 'PENDING' })
  status!: StoredDomainStatus;

  /** The value of the TXT record to publish (random; not a secret: anyone can read DNS). */
  @Column({ name: 'verification_token', type: 'text' })
  verificationToken!: string;

  /** A PENDING domain not verified by then reads as FAILED; adding it again restarts the window. */
  @Column({ name: 'verification_expires_at', type: 'timestamptz' })
  verificationExpiresAt!: Date;

  @Column({ name: 'verified_at', type: 'timestamptz', nullable: true })
  verifiedAt!: Date | null;

  /** When the record was last looked up (verifyDomain or the periodic re-check). */
  @Column({ name: 'last_checked_at', type: 'timestamptz', nullable: true })
  lastCheckedAt!: Date | null;

  /** Since when a VERIFIED domain's record is no longer found; null while it is. */
  @Column({ name: 'unverified_since', type: 'timestamptz', nullable: true })
  unverifiedSince!: Date | null;

  @Column({ name: 'enrollment_mode', type: 'text', default: 'MANUAL_INVITATION' })
  enrollmentMode!: string;

  @Column({ name: 'default_role', type: 'text', default: 'VIEWER' })
  defaultRole!: OrganizationRole;

  /**
   * Who last set the enrollment mode or default role: the inviter of automatic invitations and
   * the approver of automatic join requests, so they grant only what this member still could.
   */
  @Column({ name: 'configured_by_id', type: 'text', nullable: true })
  configuredById!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
