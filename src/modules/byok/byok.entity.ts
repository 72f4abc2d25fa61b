import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { OrganizationEntity } from '../organization/organization.entity';

/** An organization's model-provider credentials, sealed with AES-256-GCM; only the last 4 of the key id in clear. */
@Entity('byok_credentials')
export class ByokCredentialsEntity {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @OneToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'byok_credentials_organization_fk' })
  organization?: OrganizationEntity;

  @Column({ type: 'text' })
  provider!: string;

  @Column({ name: 'access_key_id_last4', type: 'text' })
  accessKeyIdLast4!: string;

  @Column({ type: 'text' })
  region!: string;

  /** Which ENCRYPTION_KEY sealed `box` (see encryption.ts). */
  @Column({ name: 'key_version', type: 'text' })
  keyVersion!: string;

  @Column({ type: 'text' })
  box!: string;

  @Column({ name: 'updated_by_id', type: 'text', nullable: true })
  updatedById!: string | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
