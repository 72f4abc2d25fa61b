import { requireMembership, type Access } from '../../authz/access';
import { cleanPermissionKeys, grantRefusal, organizationKeysOf } from '../../authz/effective-permissions';
import { lockObject, lockOrganization } from '../../authz/locks';
import { OWNER_ONLY, Permission } from '../../authz/permissions';
import { isUuid } from '../../common/ids';
import { cleanDescription, cleanName } from '../../common/validation';
import type { RequestContext } from '../../context';
import { isUniqueViolation, type Database } from '../../db/database';
import { badInput, conflict, forbidden, notFound, quotaExceeded } from '../../errors';
import { changes, recordAudit } from '../audit/audit.service';
import { withdrawWhatMemberNoLongerGrants } from '../membership/member-grants';
import { MembershipEntity } from '../membership/membership.entity';
import { RoleEntity } from './role.entity';
import type { CreateRoleInput, UpdateRoleInput } from './role.types';

/*
 * Custom roles (API.md, "Product permissions"). Every write locks the organization
 * (lockOrganization/lockObject), so a role, who holds it and what its holders are granted
 * (memberships.role_permissions) change together, serialized with every other change to members.
 * The escalation rules: nobody creates, changes, grants or removes a role carrying a permission
 * they do not hold; OWNER-only permissions are in no role; a change to a role is a change to each
 * of its holders, under the rank rule (grantRefusal), and applies to all of them in its transaction.
 */

const ROLE_KEY = /^[a-z][a-z0-9-]{0,62}$/;
/** Custom roles per organization, and per member: enough for any real team, few enough that every membership row stays small. */
export const MAX_ROLES = 100;
export const MAX_ROLES_PER_MEMBER = 20;

function cleanKey(value: string): string {
  const key = value.trim();
  if (!ROLE_KEY.test(key)) throw badInput('key', 'key must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter (sandbox-operators)');
  return key;
}

/** Known keys, sorted; never an OWNER-only permission. */
function cleanRolePermissions(keys: readonly string[]): string[] {
  const clean = cleanPermissionKeys('permissions', keys);
  const ownerOnly = clean.find((key) => OWNER_ONLY.has(key as Permission));
  if (ownerOnly) throw badInput('permissions', `${ownerOnly} belongs to the OWNER role only: no custom role carries it`);
  return clean;
}

/** The actor holds every key of `keys` (its organization-wide keys, read under the lock). */
function assertHolds(actor: Access, keys: readonly string[]): void {
  const missing = keys.find((key) => !actor.keys.has(key));
  if (missing) throw forbidden(`You cannot create, change, grant or remove a role carrying ${missing}: you do not hold it`);
}

/**
 * The union of the permission keys of `roleIds`, roles of `organizationId`: what a member holding
 * them gets (memberships.role_permissions). A role of no such id there is NOT_FOUND.
 */
export async function rolePermissionsOf(tx: Database, organizationId: string, roleIds: readonly string[]): Promise<string[]> {
  if (!roleIds.length) return [];
  const roles = roleIds.every(isUuid)
    ? await tx.query<{ id: string; permissions: string[] }>('SELECT id, permissions FROM roles WHERE organization_id = $1 AND id = ANY($2::uuid[])', [organizationId, roleIds])
    : [];
  if (roles.length !== new Set(roleIds).size) throw notFound('Role');
  // Code-unit order, as COLLATE "C" sorts them in applyToHolders: one stored form whoever writes it.
  return [...new Set(roles.flatMap((r) => r.permissions))].sort();
}

/** Role ids from input: unique, lower-case, sorted. */
export function cleanRoleIds(ids: readonly string[]): string[] {
  const unique = [...new Set(ids.map((id) => id.toLowerCase()))].sort();
  if (unique.length > MAX_ROLES_PER_MEMBER) throw badInput('roleIds', `A member holds at most ${MAX_ROLES_PER_MEMBER} custom roles`);
  return unique;
}

/**
 * After a role's permissions changed (or it went): every holder's role_permissions recomputed, in
 * one statement. Each holder is a member the actor changes, as updateMembership would: the rank
 * rule (grantRefusal) for every one of them, whether or not its keys differ in the end; what a
 * holder no longer holds is withdrawn from what it made (keys, webhook endpoints). Throws —
 * rolling the whole change back — when the actor may not change one of them.
 */
async function applyToHolders(tx: Database, ctx: RequestContext, actor: Access, holders: MembershipEntity[], withoutRole?: string): Promise<void> {
  if (!holders.length) return;
  const updated = await tx.select(
    MembershipEntity,
    `UPDATE memberships m SET
       role_ids = CASE WHEN $2::uuid IS NULL THEN m.role_ids ELSE array_remove(m.role_ids, $2::uuid) END,
       role_permissions = coalesce((SELECT array_agg(DISTINCT p COLLATE "C" ORDER BY p COLLATE "C") FROM roles r, unnest(r.permissions) p
                                    WHERE r.id = ANY(CASE WHEN $2::uuid IS NULL THEN m.role_ids ELSE array_remove(m.role_ids, $2::uuid) END)), '{}'),
       updated_at = now()
     WHERE m.id = ANY($1::uuid[]) RETURNING *`,
    [holders.map((h) => h.id), withoutRole ?? null],
  );
  const after = new Map(updated.map((m) => [m.id, m]));
  const actorMembership = requireMembership(actor);
  for (const before of holders) {
    const now = after.get(before.id)!;
    const refusal = grantRefusal(actorMembership, before, now);
    if (refusal) throw forbidden(`${refusal} (a holder of this role)`);
    const has = organizationKeysOf(now);
    if ([...organizationKeysOf(before)].some((key) => !has.has(key))) await withdrawWhatMemberNoLongerGrants(tx, ctx, before.organizationId, before.userId, now);
  }
}

const holdersOf = (tx: Database, organizationId: string, roleId: string) =>
  tx.select(MembershipEntity, 'SELECT * FROM memberships WHERE organization_id = $1 AND role_ids @> ARRAY[$2::uuid] ORDER BY id FOR UPDATE', [organizationId, roleId]);

const roleTarget = (role: RoleEntity) => ({ type: 'Role', id: role.id, display: role.name });

export async function createRole(ctx: RequestContext, input: CreateRoleInput): Promise<RoleEntity> {
  ctx.requireUser();
  const key = cleanKey(input.key);
  const name = cleanName('name', input.name);
  const description = cleanDescription('description', input.description, 500);
  const permissions = cleanRolePermissions(input.permissions);
  return ctx.write(async (tx) => {
    const { organization, actor } = await lockOrganization(tx, ctx, input.organizationId, Permission.ROLES_MANAGE);
    requireMembership(actor);
    assertHolds(actor, permissions);
    const [{ count }] = await tx.query<{ count: number }>('SELECT count(*)::int AS count FROM roles WHERE organization_id = $1', [organization.id]);
    if (count >= MAX_ROLES) throw quotaExceeded(`An organization has at most ${MAX_ROLES} custom roles: delete one first`);
    let role: RoleEntity | undefined;
    try {
      role = await tx.selectOne(RoleEntity, 'INSERT INTO roles (organization_id, key, name, description, permissions) VALUES ($1, $2, $3, $4, $5) RETURNING *', [
        organization.id,
        key,
        name,
        description,
        permissions,
      ]);
    } catch (error) {
      if (isUniqueViolation(error, 'roles_organization_key_key')) throw conflict(`The organization already has a role "${key}"`, 'key');
      throw error;
    }
    await recordAudit(tx, ctx, { organizationId: organization.id, action: 'role.created', target: roleTarget(role!), metadata: { key, name, description, permissions } });
    return role!;
  });
}

const roleObject = (id: string) => ({ entity: RoleEntity, table: 'roles', id, subject: 'Role' });

export async function updateRole(ctx: RequestContext, input: UpdateRoleInput): Promise<RoleEntity> {
  ctx.requireUser();
  const name = input.name === undefined || input.name === null ? undefined : cleanName('name', input.name);
  const description = input.description === undefined ? undefined : cleanDescription('description', input.description, 500);
  const permissions = input.permissions === undefined || input.permissions === null ? undefined : cleanRolePermissions(input.permissions);
  return ctx.write(async (tx) => {
    const { actor, row: role } = await lockObject(tx, ctx, roleObject(input.id), Permission.ROLES_MANAGE);
    requireMembership(actor);
    // Nobody changes a role carrying what they lack, nor makes it carry what they lack.
    assertHolds(actor, role.permissions);
    if (permissions) assertHolds(actor, permissions);
    const diff = changes({ name: role.name, description: role.description, permissions: role.permissions }, { name, description, permissions });
    if (!Object.keys(diff).length) return role;
    const holders = diff.permissions ? await holdersOf(tx, role.organizationId, role.id) : [];
    const updated = (await tx.selectOne(
      RoleEntity,
      'UPDATE roles SET name = $2, description = $3, permissions = $4, updated_at = now() WHERE id = $1 RETURNING *',
      [role.id, name ?? role.name, description === undefined ? role.description : description, permissions ?? role.permissions],
    ))!;
    await applyToHolders(tx, ctx, actor, holders);
    await recordAudit(tx, ctx, {
      organizationId: role.organizationId,
      action: 'role.updated',
      target: roleTarget(updated),
      metadata: { key: role.key, changes: diff, holders: holders.length },
    });
    return updated;
  });
}

/**
 * A role with holders goes only if the actor may take it from each of them (the rank rule, as
 * updateMembership would); they lose it in the same transaction, and pending invitations stop
 * granting it.
 */
export async function deleteRole(ctx: RequestContext, id: string): Promise<boolean> {
  ctx.requireUser();
  return ctx.write(async (tx) => {
    const { actor, row: role } = await lockObject(tx, ctx, roleObject(id), Permission.ROLES_MANAGE);
    requireMembership(actor);
    assertHolds(actor, role.permissions);
    const holders = await holdersOf(tx, role.organizationId, role.id);
    await tx.query('DELETE FROM roles WHERE id = $1', [role.id]);
    await applyToHolders(tx, ctx, actor, holders, role.id);
    await tx.query(`UPDATE invitations SET role_ids = array_remove(role_ids, $2::uuid) WHERE organization_id = $1 AND role_ids @> ARRAY[$2::uuid]`, [role.organizationId, role.id]);
    // Directory groups stop granting it (SCIM, src/modules/directory/directory.grants.ts).
    await tx.query(`UPDATE directory_groups SET role_ids = array_remove(role_ids, $2::uuid) WHERE organization_id = $1 AND role_ids @> ARRAY[$2::uuid]`, [role.organizationId, role.id]);
    await recordAudit(tx, ctx, {
      organizationId: role.organizationId,
      action: 'role.deleted',
      target: roleTarget(role),
      metadata: { key: role.key, name: role.name, permissions: role.permissions, holders: holders.length },
    });
    return true;
  });
}
