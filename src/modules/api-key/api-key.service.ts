import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyPrincipal } from '../../auth/principal';
import { requireMembership, type Access } from '../../authz/access';
import { cleanPermissionKeys, holdsAllKeys, organizationKeysOf, scopeOf, workspaceKeysOf } from '../../authz/effective-permissions';
import { Permission, permissionsOf, workspaceRoleOf } from '../../authz/permissions';
import { isUuid } from '../../common/ids';
import { toConnection } from '../../common/connection';
import { toPage, type PageArgs } from '../../common/page';
import { cleanDate, cleanName } from '../../common/validation';
import type { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { badInput, failedPrecondition, forbidden, notFound, unauthenticated } from '../../errors';
import { recordAudit } from '../audit/audit.service';
import { lockObject, lockOrganization } from '../../authz/locks';
import type { MembershipEntity } from '../membership/membership.entity';
import { WorkspaceAccessEntity, WorkspaceEntity } from '../workspace/workspace.entity';
import { ApiKeyEntity } from './api-key.entity';
import type { CreateApiKeyInput } from './api-key.types';

export const API_KEY_PREFIX = 'ok_';

/** How a bearer secret is stored (API keys, directory tokens): its hex SHA-256, never the secret. */
export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** `ok_` (or another kind's prefix) and 32 random bytes in base64url: 46 characters, 256 bits. */
export function newSecret(kind = API_KEY_PREFIX): { secret: string; prefix: string; hash: string } {
  const secret = `${kind}${randomBytes(32).toString('base64url')}`;
  return { secret, prefix: secret.slice(0, kind.length + 8), hash: hashSecret(secret) };
}

/** Keys whose lastUsedAt this process wrote in the last minute. */
const lastUsedWritten = new Map<string, number>();
const LAST_USED_EVERY_MS = 60_000;

/**
 * The principal of `Authorization: Bearer ok_…`. One indexed lookup per request, never
 * cached, so that a revoked or rotated key is refused on the very next request.
 */
export async function authenticateApiKey(db: Database, secret: string): Promise<ApiKeyPrincipal> {
  const key = /^ok_[A-Za-z0-9_-]{20,200}$/.test(secret)
    ? await db.selectOne(ApiKeyEntity, 'SELECT * FROM api_keys WHERE secret_hash = $1', [hashSecret(secret)])
    : undefined;
  if (!key) throw unauthenticated('The API key is not valid');
  if (key.revokedAt) throw unauthenticated('The API key has been revoked');
  if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw unauthenticated('The API key has expired');
  await touchLastUsed(db, key);
  return {
    kind: 'apiKey',
    keyId: key.id,
    organizationId: key.organizationId,
    workspaceId: key.workspaceId,
    scopes: new Set(key.scopes),
    name: key.name,
    prefix: key.prefix,
  };
}

/** At most one write per key per minute, across replicas too (the WHERE clause). */
async function touchLastUsed(db: Database, key: ApiKeyEntity): Promise<void> {
  const now = Date.now();
  if (key.lastUsedAt && now - key.lastUsedAt.getTime() < LAST_USED_EVERY_MS) return;
  if (now - (lastUsedWritten.get(key.id) ?? 0) < LAST_USED_EVERY_MS) return;
  lastUsedWritten.set(key.id, now);
  if (lastUsedWritten.size > 10_000) lastUsedWritten.delete(lastUsedWritten.keys().next().value!);
  await db.query(
    `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [key.id],
  );
}

export async function organizationApiKeys(ctx: RequestContext, organizationId: string, args: PageArgs) {
  const page = toPage(args);
  const rows = await ctx.loaders.apiKeysPage.load({ parentId: organizationId, page, filter: null });
  return toConnection(rows, page, () => ctx.loaders.apiKeysCount.load({ parentId: organizationId, filter: null }));
}

type KeyMaker = Pick<MembershipEntity, 'role' | 'assignments' | 'rolePermissions'>;

/**
 * What a member holds where a key acts, as permission keys: those of its role inside the
 * workspace for a bound key (nothing where it has no role there); for an unbound key, which acts
 * in every workspace (workspaceRoleOfScopes, authorize), its organization-wide keys, the
 * WORKSPACE ones only when it holds them in every workspace (a role there without an
 * assignment: WORKSPACES_MANAGE). A custom role or the catalog can give a member a WORKSPACE key
 * organization-wide that it uses only where assigned; its key must not use it everywhere.
 * The one measure for issuing a key and for keeping one (revokeKeysBeyondCreator).
 */
function heldWhereKeyActs(member: KeyMaker, workspaceId: string | null, assignment: WorkspaceAccessEntity | null): ReadonlySet<string> {
  const keys = organizationKeysOf(member);
  const permissions = permissionsOf(member.role, member.assignments, member.rolePermissions);
  if (!workspaceId) {
    const everywhere = workspaceKeysOf(keys, workspaceRoleOf(member.role, permissions, null));
    return new Set([...keys].filter((key) => scopeOf(key) !== 'WORKSPACE' || everywhere.has(key)));
  }
  return workspaceKeysOf(keys, workspaceRoleOf(member.role, permissions, assignment));
}

/** Nobody creates, rotates or revokes a key carrying more than they hold where it acts (`actor`: read under the organization's lock). */
async function assertMayHandleKey(tx: Database, actor: Access, organizationId: string, workspaceId: string | null, scopes: readonly string[]) {
  const membership = requireMembership(actor);
  let assignment: WorkspaceAccessEntity | null = null;
  if (workspaceId) {
    const workspace = isUuid(workspaceId)
      ? await tx.selectOne(WorkspaceEntity, 'SELECT * FROM workspaces WHERE id = $1 AND organization_id = $2', [workspaceId, organizationId])
      : undefined;
    if (!workspace) throw notFound('Workspace');
    assignment = (await tx.selectOne(WorkspaceAccessEntity, 'SELECT * FROM workspace_access WHERE workspace_id = $1 AND membership_id = $2', [workspace.id, membership.id])) ?? null;
  }
  const held = heldWhereKeyActs(membership, workspaceId, assignment);
  // A workspace where the member has no role is not theirs to see.
  if (workspaceId && held.size === 0) throw notFound('Workspace');
  if (!holdsAllKeys(held, scopes)) throw forbidden('You cannot create, rotate or revoke an API key carrying permissions you do not hold where it acts');
}

/**
 * A key carries no more than its creator could issue now: when a member is removed or leaves
 * (`member` null) or holds less than before, each of its keys carrying what the member no
 * longer holds where the key acts is revoked, audited, in the same transaction — as an
 * invitation is re-checked against its inviter (invitation.service.ts).
 */
export async function revokeKeysBeyondCreator(
  tx: Database,
  ctx: RequestContext,
  organizationId: string,
  userId: string,
  member: Pick<MembershipEntity, 'id' | 'role' | 'assignments' | 'rolePermissions'> | null,
): Promise<void> {
  const keys = await tx.select(ApiKeyEntity, 'SELECT * FROM api_keys WHERE organization_id = $1 AND created_by_id = $2 AND revoked_at IS NULL FOR UPDATE', [
    organizationId,
    userId,
  ]);
  if (!keys.length) return;
  const assignments = member ? await tx.select(WorkspaceAccessEntity, 'SELECT * FROM workspace_access WHERE membership_id = $1', [member.id]) : [];
  for (const key of keys) {
    const assignment = assignments.find((a) => a.workspaceId === key.workspaceId) ?? null;
    if (member && holdsAllKeys(heldWhereKeyActs(member, key.workspaceId, assignment), key.scopes)) continue;
    await tx.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'api_key.revoked',
      target: { type: 'ApiKey', id: key.id, display: `${key.name} (${key.prefix}…)` },
      metadata: { prefix: key.prefix, name: key.name, reason: member ? 'creator_holds_less' : 'creator_left' },
    });
  }
}

/** `scopes` (built-in) and `permissionKeys` (any key) together: one sorted list of keys. */
function cleanScopes(scopes: readonly Permission[], permissionKeys: readonly string[], bound: boolean): string[] {
  const unique = cleanPermissionKeys('permissionKeys', [...scopes, ...permissionKeys]);
  if (unique.length === 0) throw badInput('scopes', 'A key needs at least one scope');
  if (bound && !unique.every((key) => scopeOf(key) === 'WORKSPACE')) {
    throw badInput('scopes', 'A key bound to a workspace takes only workspace permissions: WORKSPACE_READ, WORKSPACE_OPERATE, WORKSPACES_MANAGE and the catalog\'s WORKSPACE keys');
  }
  return unique;
}

export async function createApiKey(ctx: RequestContext, input: CreateApiKeyInput): Promise<{ apiKey: ApiKeyEntity; secret: string }> {
  const user = ctx.requireUser();
  const name = cleanName('name', input.name);
  const workspaceId = input.workspaceId ?? null;
  const scopes = cleanScopes(input.scopes, input.permissionKeys ?? [], workspaceId !== null);
  if (input.expiresAt && cleanDate('expiresAt', input.expiresAt).getTime() <= Date.now()) {
    throw badInput('expiresAt', 'expiresAt must be in the future');
  }
  return ctx.write(async (tx) => {
    const { actor } = await lockOrganization(tx, ctx, input.organizationId, Permission.API_KEYS_MANAGE);
    await assertMayHandleKey(tx, actor, input.organizationId, workspaceId, scopes);
    const { secret, prefix, hash } = newSecret();
    const apiKey = (await tx.selectOne(
      ApiKeyEntity,
      `INSERT INTO api_keys (organization_id, workspace_id, name, prefix, secret_hash, scopes, created_by_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [input.organizationId, workspaceId, name, prefix, hash, scopes, user.userId, input.expiresAt ?? null],
    ))!;
    await recordAudit(tx, ctx, {
      organizationId: apiKey.organizationId,
      action: 'api_key.created',
      target: { type: 'ApiKey', id: apiKey.id, display: `${name} (${prefix}…)` },
      metadata: { name, prefix, scopes, workspaceId, expiresAt: apiKey.expiresAt },
    });
    return { apiKey, secret };
  });
}

/** The key locked for a change by someone who may handle it. */
async function lockKey(tx: Database, ctx: RequestContext, id: string): Promise<ApiKeyEntity> {
  const { actor, row: key } = await lockObject(tx, ctx, { entity: ApiKeyEntity, table: 'api_keys', id, subject: 'API key' }, Permission.API_KEYS_MANAGE);
  await assertMayHandleKey(tx, actor, key.organizationId, key.workspaceId, key.scopes);
  return key;
}

/** A new secret for the same key: the old one stops working at once. */
export async function rotateApiKey(ctx: RequestContext, id: string): Promise<{ apiKey: ApiKeyEntity; secret: string }> {
  ctx.requireUser();
  return ctx.write(async (tx) => {
    const key = await lockKey(tx, ctx, id);
    if (key.revokedAt) throw failedPrecondition('A revoked key cannot be rotated');
    if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw failedPrecondition('An expired key cannot be rotated');
    const { secret, prefix, hash } = newSecret();
    const apiKey = (await tx.selectOne(ApiKeyEntity, 'UPDATE api_keys SET prefix = $2, secret_hash = $3 WHERE id = $1 RETURNING *', [key.id, prefix, hash]))!;
    await recordAudit(tx, ctx, {
      organizationId: key.organizationId,
      action: 'api_key.rotated',
      target: { type: 'ApiKey', id: key.id, display: `${key.name} (${prefix}…)` },
      metadata: { prefix: { before: key.prefix, after: prefix } },
    });
    return { apiKey, secret };
  });
}

export async function revokeApiKey(ctx: RequestContext, id: string): Promise<ApiKeyEntity> {
  ctx.requireUser();
  return ctx.write(async (tx) => {
    const key = await lockKey(tx, ctx, id);
    if (key.revokedAt) return key;
    const apiKey = (await tx.selectOne(ApiKeyEntity, 'UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING *', [key.id]))!;
    await recordAudit(tx, ctx, {
      organizationId: key.organizationId,
      action: 'api_key.revoked',
      target: { type: 'ApiKey', id: key.id, display: `${key.name} (${key.prefix}…)` },
      metadata: { prefix: key.prefix, name: key.name },
    });
    return apiKey;
  });
}
