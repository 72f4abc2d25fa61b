import { ORGANIZATION_TOKEN_AUDIENCE } from '../../auth/principal';
import { sortKeys } from '../../authz/effective-permissions';
import { OrganizationRole } from '../../authz/permissions';
import type { RequestContext } from '../../context';
import { forbidden, notFound } from '../../errors';
import type { OrganizationToken } from './organization-token.types';

export interface TokenPermissions {
  role: OrganizationRole;
  organization: string[];
  /** Null when no workspace was named. */
  workspace: string[] | null;
}

/**
 * What the asking person may do in an organization, and in one of its workspaces when named:
 * exactly what Organization.viewerPermissionKeys and Workspace.viewerPermissionKeys show —
 * permission keys, built-in names and catalog keys, custom roles included.
 * The one place the token's permissions come from. Not a member, or a workspace it cannot see
 * (or of another organization): NOT_FOUND. A GUEST has nothing organization-wide: it gets a
 * token for a workspace it is assigned to only.
 */
export async function tokenPermissions(ctx: RequestContext, organizationId: string, workspaceId: string | null): Promise<TokenPermissions> {
  const access = await ctx.loaders.access.load(organizationId);
  if (!access?.role) throw notFound('Organization');
  const organization = sortKeys(access.keys);
  if (!workspaceId) {
    if (access.role === OrganizationRole.GUEST) throw forbidden('A GUEST gets a token for a workspace it is assigned to only: name it (workspaceId)');
    return { role: access.role, organization, workspace: null };
  }
  const view = await ctx.loaders.workspaceView.load(workspaceId);
  if (!view || view.workspace.organizationId !== organizationId) throw notFound('Workspace');
  return { role: access.role, organization, workspace: sortKeys(view.keys) };
}

/**
 * A person's organization token (API.md, "Organization tokens"). People only: an API key has
 * no `sub` a token could name, and services ask `authorize` instead. Nothing is written, so
 * nothing is audited: the token grants nothing its holder does not hold at this moment.
 */
export async function issueOrganizationToken(ctx: RequestContext, organizationId: string, workspaceId: string | null): Promise<OrganizationToken> {
  const user = ctx.requireUser();
  const held = await tokenPermissions(ctx, organizationId, workspaceId);
  const { ttlSeconds, issuer } = ctx.config.organizationTokens;
  const issuedAt = Math.floor(Date.now() / 1000);
  const expiresAt = issuedAt + ttlSeconds;
  const claims = {
    sub: user.userId,
    iss: issuer,
    aud: ORGANIZATION_TOKEN_AUDIENCE,
    iat: issuedAt,
    exp: expiresAt,
    org_id: organizationId,
    org_role: held.role,
    org_permissions: held.organization,
    ...(held.workspace ? { ws_id: workspaceId, ws_permissions: held.workspace } : {}),
  };
  return { token: await ctx.app.signingKeys.sign(ctx.db, claims), expiresAt: new Date(expiresAt * 1000) };
}
