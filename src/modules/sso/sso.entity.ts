import { Check, Column, CreateDateColumn, Entity, JoinColumn, OneToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { OrganizationEntity } from '../organization/organization.entity';

export enum SsoProtocol {
  OIDC = 'OIDC',
  SAML = 'SAML',
}

/**
 * An organization's identity provider (one at most). OIDC: issuer, client id and the client
 * secret sealed with ENCRYPTION_KEY (src/common/sealing.ts), with the endpoints its discovery
 * document named when saved. SAML: the IdP's metadata as given and what was read from it.
 * Whether members must come through it is the organization's `sso_enforced`.
 */
@Entity('sso_connections')
@Unique('sso_connections_organization_key', ['organizationId'])
@Check('sso_connections_protocol_check', `"protocol" IN ('OIDC', 'SAML')`)
export class SsoConnectionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @OneToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'sso_connections_organization_fk' })
  organization?: OrganizationEntity;

  @Column({ type: 'text' })
  protocol!: SsoProtocol;

  @Column({ name: 'oidc_issuer', type: 'text', nullable: true })
  oidcIssuer!: string | null;

  @Column({ name: 'oidc_client_id', type: 'text', nullable: true })
  oidcClientId!: string | null;

  /** The client secret, sealed; which ENCRYPTION_KEY sealed it. */
  @Column({ name: 'oidc_client_secret_box', type: 'text', nullable: true })
  oidcClientSecretBox!: string | null;

  @Column({ name: 'key_version', type: 'text', nullable: true })
  keyVersion!: string | null;

  /** What the discovery document said when the connection was saved. */
  @Column({ name: 'oidc_authorization_endpoint', type: 'text', nullable: true })
  oidcAuthorizationEndpoint!: string | null;

  @Column({ name: 'oidc_token_endpoint', type: 'text', nullable: true })
  oidcTokenEndpoint!: string | null;

  @Column({ name: 'oidc_jwks_uri', type: 'text', nullable: true })
  oidcJwksUri!: string | null;

  @Column({ name: 'saml_metadata', type: 'text', nullable: true })
  samlMetadata!: string | null;

  @Column({ name: 'saml_entity_id', type: 'text', nullable: true })
  samlEntityId!: string | null;

  @Column({ name: 'saml_sso_url', type: 'text', nullable: true })
  samlSsoUrl!: string | null;

  @Column({ name: 'saml_sso_binding', type: 'text', nullable: true })
  samlSsoBinding!: string | null;

  /** The IdP's signing certificate, PEM. */
  @Column({ name: 'saml_certificate', type: 'text', nullable: true })
  samlCertificate!: string | null;

  @Column({ name: 'saml_certificate_expires_at', type: 'timestamptz', nullable: true })
  samlCertificateExpiresAt!: Date | null;

  @Column({ name: 'checked_at', type: 'timestamptz' })
  checkedAt!: Date;

  @Column({ name: 'updated_by_id', type: 'text', nullable: true })
  updatedById!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
