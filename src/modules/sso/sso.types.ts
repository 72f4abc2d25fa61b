import { Directive, Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import { SsoProtocol } from './sso.entity';

export { SsoProtocol };

registerEnumType(SsoProtocol, { name: 'SsoProtocol', description: 'How the identity provider speaks to the accounts service.' });

export enum SsoConnectionStatus {
  ACTIVE = 'ACTIVE',
  INVALID = 'INVALID',
}

registerEnumType(SsoConnectionStatus, { name: 'SsoConnectionStatus', description: 'ACTIVE: checked and usable; INVALID: see statusReason (an IdP certificate that expired since).' });

@ObjectType({ simpleResolvers: true, description: 'What the admin pastes into the identity provider: the accounts service as a SAML service provider or an OpenID client.' })
export class SsoServiceProvider {
  @Field(() => String, { description: 'SAML: the Audience / SP Entity ID (Okta), Identifier (Entra).' })
  entityId!: string;

  @Field(() => String, { description: 'SAML: the Single sign-on URL (Okta), Reply URL (Entra): the assertion consumer service.' })
  acsUrl!: string;

  @Field(() => String, { description: 'OIDC: the sign-in redirect URI to register with the client.' })
  oidcRedirectUri!: string;
}

@ObjectType({ simpleResolvers: true, description: 'An organization\'s identity provider. The OIDC client secret never leaves the server here.' })
export class SsoConnection {
  @Field(() => ID)
  id!: string;

  organizationId!: string;

  @Field(() => SsoProtocol)
  protocol!: SsoProtocol;

  @Field(() => Boolean, { description: 'Members must sign in through this connection to reach the organization (token claim sso_org_id); OWNERs keep access without it, audited.' })
  enforced!: boolean;

  @Field(() => SsoConnectionStatus)
  status!: SsoConnectionStatus;

  @Field(() => String, { nullable: true, description: 'Why the connection is INVALID.' })
  statusReason!: string | null;

  @Field(() => String, { nullable: true, description: 'OIDC: the issuer, as its discovery document names it.' })
  issuer!: string | null;

  @Field(() => String, { nullable: true, description: 'OIDC.' })
  clientId!: string | null;

  @Field(() => String, { nullable: true, description: 'SAML: the IdP\'s entity id, read from its metadata.' })
  idpEntityId!: string | null;

  @Field(() => String, { nullable: true, description: 'SAML: where sign-ins are sent.' })
  idpSsoUrl!: string | null;

  @Field(() => String, { nullable: true, description: 'SAML: the binding of idpSsoUrl (HTTP-Redirect or HTTP-POST URN).' })
  idpSsoBinding!: string | null;

  @Field(() => Date, { nullable: true, description: 'SAML: when the IdP\'s signing certificate expires.' })
  certificateExpiresAt!: Date | null;

  @Field(() => SsoServiceProvider)
  serviceProvider!: SsoServiceProvider;

  @Field(() => Date, { description: 'When the discovery document or metadata was last checked.' })
  checkedAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'The decrypted configuration of a connection, for the accounts service (scope sso:read).' })
export class SsoConfiguration {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  organizationId!: string;

  @Field(() => SsoProtocol)
  protocol!: SsoProtocol;

  @Field(() => Boolean)
  enforced!: boolean;

  @Field(() => SsoConnectionStatus)
  status!: SsoConnectionStatus;

  @Field(() => String, { nullable: true })
  statusReason!: string | null;

  @Field(() => String, { nullable: true })
  issuer!: string | null;

  @Field(() => String, { nullable: true })
  clientId!: string | null;

  @Field(() => String, { nullable: true, description: 'OIDC: the client secret, decrypted.' })
  clientSecret!: string | null;

  @Field(() => String, { nullable: true })
  authorizationEndpoint!: string | null;

  @Field(() => String, { nullable: true })
  tokenEndpoint!: string | null;

  @Field(() => String, { nullable: true })
  jwksUri!: string | null;

  @Field(() => String, { nullable: true })
  idpEntityId!: string | null;

  @Field(() => String, { nullable: true })
  idpSsoUrl!: string | null;

  @Field(() => String, { nullable: true })
  idpSsoBinding!: string | null;

  @Field(() => String, { nullable: true, description: 'SAML: the IdP\'s signing certificate, PEM.' })
  idpCertificate!: string | null;

  @Field(() => Date, { nullable: true })
  certificateExpiresAt!: Date | null;

  @Field(() => SsoServiceProvider)
  serviceProvider!: SsoServiceProvider;
}

@ObjectType({ simpleResolvers: true, description: 'Where the accounts service sends an address to sign in: the organization holding its domain VERIFIED, and that organization\'s connection (scope sso:read).' })
export class SsoRoute {
  @Field(() => Organization)
  organization!: OrganizationEntity;

  @Field(() => String, { description: 'The address\'s domain, as verified.' })
  domain!: string;

  @Directive('@requiresScopes(scopes: [["sso:read"]])')
  @Field(() => SsoConfiguration)
  connection!: SsoConfiguration;
}

@InputType({ description: 'OIDC: issuer, clientId and clientSecret (kept when left out and the connection already has one). SAML: metadataXml.' })
export class SetSsoConnectionInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => SsoProtocol)
  protocol!: SsoProtocol;

  @Field(() => String, { nullable: true, description: 'OIDC: the issuer URL; its /.well-known/openid-configuration must name it exactly.' })
  issuer?: string | null;

  @Field(() => String, { nullable: true })
  clientId?: string | null;

  @Field(() => String, { nullable: true, description: 'Stored encrypted; never shown again.' })
  clientSecret?: string | null;

  @Field(() => String, { nullable: true, description: 'SAML: the IdP metadata XML (Okta: "Identity Provider metadata"; Entra: "Federation Metadata XML").' })
  metadataXml?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Require members to sign in through this connection. Left out: unchanged (false for a new connection).' })
  enforced?: boolean | null;
}
