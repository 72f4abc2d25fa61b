import { lockOrganization } from '../../authz/locks';
import { Permission } from '../../authz/permissions';
import { normalizeEmail } from '../../common/email';
import { isUuid } from '../../common/ids';
import { keyVersion, open, seal, sealingKeys } from '../../common/sealing';
import type { Config } from '../../config';
import type { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { badInput, failedPrecondition, notFound } from '../../errors';
import { recordAudit } from '../audit/audit.service';
import { OrganizationEntity } from '../organization/organization.entity';
import { SsoConnectionEntity, SsoProtocol } from './sso.entity';
import { discover, type OidcDiscovery } from './sso.oidc';
import { readIdpMetadata, type SamlIdp } from './sso.saml';
import { domainOfEmail } from '../domain/domain-names';
import { SsoConfiguration, SsoConnection, SsoConnectionStatus, SsoServiceProvider, type SetSsoConnectionInput, type SsoRoute } from './sso.types';

const MAX_CLIENT_ID = 255;
const MAX_CLIENT_SECRET = 1000;
const MAX_ISSUER = 2000;

/** What the admin pastes into the IdP for this organization (config: SSO_SP_ENTITY_ID, SSO_ACS_URL, SSO_OIDC_REDIRECT_URI). */
export function serviceProviderOf(config: Config, organizationId: string): SsoServiceProvider {
  const fill = (template: string) => template.replaceAll('{organizationId}', organizationId);
  return { entityId: fill(config.sso.spEntityId), acsUrl: fill(config.sso.acsUrl), oidcRedirectUri: fill(config.sso.oidcRedirectUri) };
}

/** ACTIVE, or INVALID with why: a SAML signing certificate that expired since the metadata was saved. */
function statusOf(row: SsoConnectionEntity, now = new Date()): { status: SsoConnectionStatus; statusReason: string | null } {
  if (row.protocol === SsoProtocol.SAML && row.samlCertificateExpiresAt && row.samlCertificateExpiresAt <= now) {
    return { status: SsoConnectionStatus.INVALID, statusReason: `The IdP's signing certificate expired on ${row.samlCertificateExpiresAt.toISOString()}: upload its new metadata` };
  }
  return { status: SsoConnectionStatus.ACTIVE, statusReason: null };
}

/** The connection as an OWNER sees it: everything but the client secret. */
export function connectionView(config: Config, row: SsoConnectionEntity, enforced: boolean): SsoConnection {
  return {
    id: row.id,
    organizationId: row.organizationId,
    protocol: row.protocol,
    enforced,
    ...statusOf(row),
    issuer: row.oidcIssuer,
    clientId: row.oidcClientId,
    idpEntityId: row.samlEntityId,
    idpSsoUrl: row.samlSsoUrl,
    idpSsoBinding: row.samlSsoBinding,
    certificateExpiresAt: row.samlCertificateExpiresAt,
    serviceProvider: serviceProviderOf(config, row.organizationId),
    checkedAt: row.checkedAt,
    updatedAt: row.updatedAt,
  };
}

type Checked =
  | { protocol: SsoProtocol.OIDC; issuer: string; clientId: string; clientSecret: string | null; discovery: OidcDiscovery }
  | { protocol: SsoProtocol.SAML; metadata: string; idp: SamlIdp };

/** Validates the input and checks the IdP (its discovery document, or its metadata). Messages name the field, never the secret. */
async function check(ctx: RequestContext, input: SetSsoConnectionInput): Promise<Checked> {
  if (input.protocol === SsoProtocol.OIDC) {
    if (input.metadataXml != null) throw badInput('metadataXml', 'metadataXml is for SAML connections');
    const issuer = (input.issuer ?? '').trim();
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw badInput('issuer', 'issuer must be an absolute https URL');
    }
    const { requireHttps, allowPrivateNetworks } = ctx.config.webhooks;
    if (issuer.length > MAX_ISSUER) throw badInput('issuer', `issuer must be at most ${MAX_ISSUER} characters`);
    if (url.protocol !== 'https:' && (requireHttps || url.protocol !== 'http:')) throw badInput('issuer', requireHttps ? 'issuer must start with https://' : 'issuer must start with https:// or http://');
    if (url.username || url.password || url.search || url.hash) throw badInput('issuer', 'issuer may not carry a user name, password, query or fragment');
    const clientId = (input.clientId ?? '').trim();
    if (!clientId || clientId.length > MAX_CLIENT_ID) throw badInput('clientId', `clientId is required, at most ${MAX_CLIENT_ID} characters`);
    const clientSecret = input.clientSecret == null ? null : input.clientSecret.trim();
    if (clientSecret !== null && (!clientSecret || clientSecret.length > MAX_CLIENT_SECRET)) throw badInput('clientSecret', `clientSecret must be 1 to ${MAX_CLIENT_SECRET} characters`);
    let discovery: OidcDiscovery;
    try {
      discovery = await discover(issuer, { timeoutMs: ctx.config.sso.discoveryTimeoutMs, allowPrivate: allowPrivateNetworks });
    } catch (error) {
      throw badInput('issuer', `The issuer was refused: ${(error as Error).message}`);
    }
    return { protocol: SsoProtocol.OIDC, issuer, clientId, clientSecret, discovery };
  }
  for (const field of ['issuer', 'clientId', 'clientSecret'] as const) if (input[field] != null) throw badInput(field, `${field} is for OIDC connections`);
  const metadata = input.metadataXml ?? '';
  try {
    return { protocol: SsoProtocol.SAML, metadata: metadata.trim(), idp: readIdpMetadata(metadata) };
  } catch (error) {
    throw badInput('metadataXml', `The IdP metadata was refused: ${(error as Error).message}`);
  }
}

/**
 * Whether enforcement may be turned on: a connection that works, and a VERIFIED domain (src/modules/domain),
 * so that the accounts service can route the members' addresses to it (ssoRoute).
 */
async function enforcementRefusal(tx: Database, row: SsoConnectionEntity): Promise<string | null> {
  const { status, statusReason } = statusOf(row);
  if (status !== SsoConnectionStatus.ACTIVE) return `Enforcement needs a working connection: ${statusReason}`;
  const [verified] = await tx.query(`SELECT 1 FROM organization_domains WHERE organization_id = $1 AND status = 'VERIFIED' LIMIT 1`, [row.organizationId]);
  if (!verified) return 'Enforcement needs a VERIFIED domain (addDomain, verifyDomain): it is how the accounts service sends your members to this connection';
  return null;
}

/** setSsoConnection: creates or replaces the organization's one connection (SSO_MANAGE), checked first, outside the lock. */
export async function setSsoConnection(ctx: RequestContext, input: SetSsoConnectionInput): Promise<SsoConnection> {
  const checked = await check(ctx, input);
  return ctx.write(async (tx) => {
    const { organization } = await lockOrganization(tx, ctx, input.organizationId, Permission.SSO_MANAGE);
    const previous = await tx.selectOne(SsoConnectionEntity, 'SELECT * FROM sso_connections WHERE organization_id = $1 FOR UPDATE', [organization.id]);
    const userId = ctx.principal?.kind === 'user' ? ctx.principal.userId : null;
    let values: Record<string, unknown>;
    if (checked.protocol === SsoProtocol.OIDC) {
      let sealed: { keyVersion: string | null; box: string | null };
      if (checked.clientSecret !== null) {
        const s = seal(checked.clientSecret, ctx.config.encryptionKeys.current, organization.id);
        sealed = { keyVersion: s.keyVersion, box: s.box };
      } else if (previous?.protocol === SsoProtocol.OIDC && previous.oidcClientSecretBox && previous.oidcIssuer === checked.issuer) {
        // Kept only for the same issuer: pointed at another, the accounts service would hand the stored secret to whoever runs it.
        sealed = { keyVersion: previous.keyVersion, box: previous.oidcClientSecretBox };
      } else {
        throw badInput('clientSecret', previous?.protocol === SsoProtocol.OIDC ? 'clientSecret is required when the issuer changes' : 'clientSecret is required for a new OIDC connection');
      }
      values = {
        oidc_issuer: checked.issuer,
        oidc_client_id: checked.clientId,
        oidc_client_secret_box: sealed.box,
        key_version: sealed.keyVersion,
        oidc_authorization_endpoint: checked.discovery.authorizationEndpoint,
        oidc_token_endpoint: checked.discovery.tokenEndpoint,
        oidc_jwks_uri: checked.discovery.jwksUri,
      };
    } else {
      values = {
        saml_metadata: checked.metadata,
        saml_entity_id: checked.idp.entityId,
        saml_sso_url: checked.idp.ssoUrl,
        saml_sso_binding: checked.idp.ssoBinding,
        saml_certificate: checked.idp.certificate,
        saml_certificate_expires_at: checked.idp.certificateExpiresAt,
      };
    }
    // Every protocol column is written: what the other protocol had stored goes.
    const all = [
      'oidc_issuer', 'oidc_client_id', 'oidc_client_secret_box', 'key_version', 'oidc_authorization_endpoint', 'oidc_token_endpoint', 'oidc_jwks_uri',
      'saml_metadata', 'saml_entity_id', 'saml_sso_url', 'saml_sso_binding', 'saml_certificate', 'saml_certificate_expires_at',
    ];
    const params = [organization.id, checked.protocol, userId, ...all.map((c) => values[c] ?? null)];
    const row = (await tx.selectOne(
      SsoConnectionEntity,
      `INSERT INTO sso_connections (organization_id, protocol, updated_by_id, checked_at, ${all.join(', ')})
       VALUES ($1, $2, $3, now(), ${all.map((_, i) => `$${i + 4}`).join(', ')})
       ON CONFLICT (organization_id) DO UPDATE SET protocol = excluded.protocol, updated_by_id = excluded.updated_by_id, checked_at = now(), updated_at = now(),
         ${all.map((c) => `${c} = excluded.${c}`).join(', ')}
       RETURNING *`,
      params,
    ))!;
    const enforced = input.enforced ?? organization.ssoEnforced;
    if (enforced && !organization.ssoEnforced) {
      const refusal = await enforcementRefusal(tx, row);
      if (refusal) throw failedPrecondition(refusal);
    }
    if (enforced !== organization.ssoEnforced) await tx.query('UPDATE organizations SET sso_enforced = $2 WHERE id = $1', [organization.id, enforced]);
    const target = { type: 'Organization', id: organization.id, display: organization.name };
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: previous ? 'sso.connection_updated' : 'sso.connection_created',
      target,
      metadata: {
        protocol: row.protocol,
        ...(row.protocol === SsoProtocol.OIDC
          ? { issuer: row.oidcIssuer, clientId: row.oidcClientId, clientSecretChanged: checked.protocol === SsoProtocol.OIDC && checked.clientSecret !== null }
          : { idpEntityId: row.samlEntityId, idpSsoUrl: row.samlSsoUrl, certificateExpiresAt: row.samlCertificateExpiresAt?.toISOString() }),
      },
    });
    if (enforced !== organization.ssoEnforced) {
      await recordAudit(tx, ctx, { organizationId: organization.id, action: enforced ? 'sso.enforcement_enabled' : 'sso.enforcement_disabled', target, metadata: { connectionId: row.id } });
    }
    return connectionView(ctx.config, row, enforced);
  });
}

/** deleteSsoConnection: removes the connection and, with it, enforcement (SSO_MANAGE). True when there was one. */
export async function deleteSsoConnection(ctx: RequestContext, organizationId: string): Promise<boolean> {
  return ctx.write(async (tx) => {
    const { organization } = await lockOrganization(tx, ctx, organizationId, Permission.SSO_MANAGE);
    const [removed] = await tx.query<{ id: string; protocol: string }>('DELETE FROM sso_connections WHERE organization_id = $1 RETURNING id, protocol', [organization.id]);
    if (!removed) return false;
    if (organization.ssoEnforced) await tx.query('UPDATE organizations SET sso_enforced = false WHERE id = $1', [organization.id]);
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'sso.connection_deleted',
      target: { type: 'Organization', id: organization.id, display: organization.name },
      metadata: { connectionId: removed.id, protocol: removed.protocol, wasEnforced: organization.ssoEnforced },
    });
    return true;
  });
}

/** Organization.ssoConnection (SSO_MANAGE). */
export async function organizationConnection(ctx: RequestContext, organization: OrganizationEntity): Promise<SsoConnection | null> {
  const row = await ctx.loaders.ssoConnection.load(organization.id);
  return row ? connectionView(ctx.config, row, organization.ssoEnforced) : null;
}

/** The decrypted configuration, for the accounts service (sso:read). */
export function configurationOf(ctx: RequestContext, row: SsoConnectionEntity, enforced: boolean): SsoConfiguration {
  let clientSecret: string | null = null;
  if (row.oidcClientSecretBox && row.keyVersion) {
    const keys = sealingKeys(ctx.config);
    if (!keys.some((key) => keyVersion(key) === row.keyVersion)) {
      throw failedPrecondition('This client secret was encrypted with a key this server no longer has: set ENCRYPTION_KEY_PREVIOUS to it, or set the connection again');
    }
    clientSecret = open({ keyVersion: row.keyVersion, box: row.oidcClientSecretBox }, keys, row.organizationId);
  }
  // What an OWNER sees, and what only the accounts service may: the secret and the IdP's endpoints and certificate.
  return Object.assign(connectionView(ctx.config, row, enforced), {
    clientSecret,
    authorizationEndpoint: row.oidcAuthorizationEndpoint,
    tokenEndpoint: row.oidcTokenEndpoint,
    jwksUri: row.oidcJwksUri,
    idpCertificate: row.samlCertificate,
  });
}

/** ssoConnection(organizationId), sso:read: null when the organization has none; NOT_FOUND when there is no such organization. */
export async function ssoConnection(ctx: RequestContext, organizationId: string): Promise<SsoConfiguration | null> {
  const organization = isUuid(organizationId) ? await ctx.loaders.organization.load(organizationId) : null;
  if (!organization) throw notFound('Organization');
  const row = await ctx.loaders.ssoConnection.load(organization.id);
  return row ? configurationOf(ctx, row, organization.ssoEnforced) : null;
}

/**
 * ssoRoute(email), sso:read: the organization holding the address's domain VERIFIED (one at most:
 * src/modules/domain) and its connection, or null when none does or it has no connection. The
 * domain is the part after the address's last `@`, matched exactly (`eu.acme.com` is not
 * `acme.com`'s), as verified domains match addresses.
 */
export async function ssoRoute(ctx: RequestContext, email: string): Promise<SsoRoute | null> {
  const address = email.length <= 320 ? normalizeEmail(email) : null;
  const domain = address ? domainOfEmail(address) : null;
  if (!domain) throw badInput('email', 'email is not an email address');
  const [found] = await ctx.db.query<{ organization_id: string }>(
    `SELECT d.organization_id FROM organization_domains d JOIN sso_connections s ON s.organization_id = d.organization_id
     WHERE d.domain = $1 AND d.status = 'VERIFIED'`,
    [domain],
  );
  if (!found) return null;
  const [organization, row] = await Promise.all([ctx.loaders.organization.load(found.organization_id), ctx.loaders.ssoConnection.load(found.organization_id)]);
  if (!organization || !row) return null;
  // The service may read the organization's id, slug and name in this answer (accessLoaders).
  ctx.showToService(organization.id);
  return { organization, domain, connection: configurationOf(ctx, row, organization.ssoEnforced) };
}
