import type { DirectoryPrincipal } from '../../auth/principal';
import { lockObject, lockOrganization } from '../../authz/locks';
import { OrganizationRole, Permission } from '../../authz/permissions';
import { isUuid } from '../../common/ids';
import { cleanName } from '../../common/validation';
import type { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { badInput, failedPrecondition, notFound, unauthenticated } from '../../errors';
import { OrganizationKind } from '../organization/organization.entity';
import { hashSecret, newSecret } from '../api-key/api-key.service';
import { recordAudit } from '../audit/audit.service';
import { cleanRoleIds, rolePermissionsOf } from '../role/role.service';
import { WorkspaceEntity } from '../workspace/workspace.entity';
import { DirectoryGroupEntity, DirectoryTokenEntity } from './directory.entity';
import { applyDirectoryGrants } from './directory.grants';
import type { SetDirectoryGroupMappingInput } from './directory.types';

export const DIRECTORY_TOKEN_PREFIX = 'scim_';

/**
 * The principal of `Authorization: Bearer scim_…` on /scim/v2. One indexed lookup per request,
 * never cached, so that a revoked token is refused on the very next request.
 */
export async function authenticateDirectoryToken(db: Database, secret: string): Promise<DirectoryPrincipal> {
  const token = /^scim_[A-Za-z0-9_-]{20,200}$/.test(secret)
    ? await db.selectOne(DirectoryTokenEntity, 'SELECT * FROM directory_tokens WHERE secret_hash = $1', [hashSecret(secret)])
    : undefined;
  if (!token) throw unauthenticated('The directory token is not valid');
  if (token.revokedAt) throw unauthenticated('The directory token has been revoked');
  if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > 60_000) {
    await db.query(`UPDATE directory_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [token.id]);
  }
  return { kind: 'directory', tokenId: token.id, organizationId: token.organizationId, name: token.name, prefix: token.prefix };
}

export function organizationDirectoryTokens(ctx: RequestContext, organizationId: string): Promise<DirectoryTokenEntity[]> {
  return ctx.loaders.directoryTokens.load(organizationId);
}

export function organizationDirectoryGroups(ctx: RequestContext, organizationId: string): Promise<DirectoryGroupEntity[]> {
  return ctx.loaders.directoryGroups.load(organizationId);
}

export async function createDirectoryToken(ctx: RequestContext, organizationId: string, name?: string | null): Promise<{ token: DirectoryTokenEntity; secret: string }> {
  const user = ctx.requireUser();
  const clean = name == null ? 'SCIM' : cleanName('name', name);
  return ctx.write(async (tx) => {
    const { organization } = await lockOrganization(tx, ctx, organizationId, Permission.SSO_MANAGE);
    if (organization.kind === OrganizationKind.PERSONAL) throw failedPrecondition('A personal organization has exactly one member, its OWNER: no directory provisions it');
    const { secret, prefix, hash } = newSecret(DIRECTORY_TOKEN_PREFIX);
    const token = (await tx.selectOne(
      DirectoryTokenEntity,
      `INSERT INTO directory_tokens (organization_id, name, prefix, secret_hash, created_by_id) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [organizationId, clean, prefix, hash, user.userId],
    ))!;
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'directory_token.created',
      target: { type: 'DirectoryToken', id: token.id, display: `${clean} (${prefix}…)` },
      metadata: { name: clean, prefix },
    });
    return { token, secret };
  });
}

export async function revokeDirectoryToken(ctx: RequestContext, id: string): Promise<DirectoryTokenEntity> {
  ctx.requireUser();
  return ctx.write(async (tx) => {
    const { row: token } = await lockObject(tx, ctx, { entity: DirectoryTokenEntity, table: 'directory_tokens', id, subject: 'Directory token' }, Permission.SSO_MANAGE);
    if (token.revokedAt) return token;
    const revoked = (await tx.selectOne(DirectoryTokenEntity, 'UPDATE directory_tokens SET revoked_at = now() WHERE id = $1 RETURNING *', [token.id]))!;
    await recordAudit(tx, ctx, {
      organizationId: token.organizationId,
      action: 'directory_token.revoked',
      target: { type: 'DirectoryToken', id: token.id, display: `${token.name} (${token.prefix}…)` },
      metadata: { name: token.name, prefix: token.prefix },
    });
    return revoked;
  });
}

/**
 * What a group's members get here: a base role (never OWNER) and/or one workspace with a role.
 * Applied to its members at once, in the same transaction (directory.grants.ts).
 */
export async function setDirectoryGroupMapping(ctx: RequestContext, input: SetDirectoryGroupMappingInput): Promise<DirectoryGroupEntity> {
  ctx.requireUser();
  const role = input.role ?? null;
  const workspaceId = input.workspaceId ?? null;
  const workspaceRole = input.workspaceRole ?? null;
  const roleIds = cleanRoleIds(input.roleIds ?? []);
  if (role === OrganizationRole.OWNER) throw badInput('role', 'A directory group cannot make OWNERs: make them in the organization');
  if ((workspaceId === null) !== (workspaceRole === null)) throw badInput('workspaceRole', 'workspaceId and workspaceRole go together');
  return ctx.write(async (tx) => {
    const { row: group, organization } = await lockObject(
      tx,
      ctx,
      { entity: DirectoryGroupEntity, table: 'directory_groups', id: input.groupId, subject: 'Directory group' },
      Permission.SSO_MANAGE,
    );
    // NOT_FOUND for a role of no such id in this organization.
    await rolePermissionsOf(tx, organization.id, roleIds);
    if (workspaceId) {
      const workspace = isUuid(workspaceId)
        ? await tx.selectOne(WorkspaceEntity, 'SELECT * FROM workspaces WHERE id = $1 AND organization_id = $2', [workspaceId, organization.id])
        : undefined;
      if (!workspace) throw notFound('Workspace');
    }
    const updated = (await tx.selectOne(
      DirectoryGroupEntity,
      'UPDATE directory_groups SET role = $2, workspace_id = $3, workspace_role = $4, role_ids = $5, updated_at = now() WHERE id = $1 RETURNING *',
      [group.id, role, workspaceId, workspaceRole, roleIds],
    ))!;
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'directory_group.mapping_changed',
      target: { type: 'DirectoryGroup', id: group.id, display: group.displayName },
      metadata: {
        before: { role: group.role, roleIds: group.roleIds, workspaceId: group.workspaceId, workspaceRole: group.workspaceRole },
        after: { role, roleIds, workspaceId, workspaceRole },
      },
    });
    // Its members, and the workspace it granted before (now maybe granted by no group of theirs).
    const members = await tx.query<{ directory_user_id: string }>('SELECT directory_user_id FROM directory_group_members WHERE group_id = $1', [group.id]);
    await applyDirectoryGrants(tx, ctx, organization.id, members.map((m) => m.directory_user_id), { workspaces: group.workspaceId ? [group.workspaceId] : [], roleIds: group.roleIds });
    return updated;
  });
}
