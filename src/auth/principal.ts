
/** `aud` of every organization token this service issues: what a verifier checks so that no other token of the issuer passes for one. */
export const ORGANIZATION_TOKEN_AUDIENCE = 'organization-token';

/** Who is asking. Built once per request from its bearer token. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** `iat` of the token, so that older tokens never overwrite newer claims. */
  issuedAt: Date | null;
  /** Claim `sso_org_id`: the organization through whose identity provider the accounts service signed the person in (SSO enforcement, src/authz/access.ts). */
  ssoOrgId: string | null;
}

/** A partner service: a JWT whose `sub` is a client id, with scopes and no `email` claim at all (src/auth/tokens.ts). */
export interface ServicePrincipal {
  kind: 'service';
  clientId: string;
  scopes: ReadonlySet<string>;
}

/** An organization's API key (`Authorization: Bearer ok_…`): acts inside its organization with its scopes. */
export interface ApiKeyPrincipal {
  kind: 'apiKey';
  keyId: string;
  organizationId: string;
  /** When set, the key acts only inside this workspace. */
  workspaceId: string | null;
  /** Permission keys: built-in names and catalog keys. */
  scopes: ReadonlySet<string>;
  name: string;
  prefix: string;
}

/** An organization's directory (`Authorization: Bearer scim_…` on /scim/v2): provisions its members, nothing else. */
export interface DirectoryPrincipal {
  kind: 'directory';
  tokenId: string;
  organizationId: string;
  name: string;
  prefix: string;
}

export type Principal = UserPrincipal | ServicePrincipal | ApiKeyPrincipal | DirectoryPrincipal;

export function displayName(user: { name: string | null; email: string | null; id?: string }): string | null {
  return user.name ?? user.email ?? null;
}
