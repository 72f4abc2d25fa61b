import type { UserPrincipal } from '../../auth/principal';
import { holdableWorkspaceRole, OrganizationRole, WorkspaceRole } from '../../authz/permissions';
import { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { AppError } from '../../errors';
import { recordAudit } from '../audit/audit.service';
import { assertSeats } from '../billing/subscription.service';
import { withdrawWhatMemberNoLongerGrants } from '../membership/member-grants';
import { MembershipEntity } from '../membership/membership.entity';
import { assertAnotherOwner, insertMembership } from '../membership/membership.rows';
import { rolePermissionsOf } from '../role/role.service';
import { capWorkspaceAccess } from '../workspace/workspace.service';
import { DirectoryGroupEntity, DirectoryUserEntity } from './directory.entity';

/*
 * What the directory's groups give their members here (setDirectoryGroupMapping), and SCIM
 * `active`. A bound directory user's base role is the highest role its groups map (VIEWER when
 * none does); an OWNER is never changed by the directory. A workspace that some group of the
 * organization maps is the directory's to manage: a member gets the highest role its groups map
 * there, and loses access when none of its groups does. Every caller runs inside the change's
 * transaction, the organization locked, so the mapping applies with the change or not at all.
 * Custom roles likewise: a custom role some group maps is the directory's to grant; a member holds
 * those of its groups (a GUEST none), and keeps custom roles no group maps as they were.
 */

const ROLE_RANK: readonly OrganizationRole[] = [OrganizationRole.GUEST, OrganizationRole.VIEWER, OrganizationRole.DEVELOPER, OrganizationRole.ADMIN, OrganizationRole.OWNER];
const WORKSPACE_RANK: readonly WorkspaceRole[] = [WorkspaceRole.VIEWER, WorkspaceRole.DEVELOPER, WorkspaceRole.ADMIN];

const highest = <T>(rank: readonly T[], values: T[]): T | null =>
  values.reduce<T | null>((best, v) => (best === null || rank.indexOf(v) > rank.indexOf(best) ? v : best), null);

/** The base role a provisioned member gets from no group. */
export const DIRECTORY_DEFAULT_ROLE = OrganizationRole.VIEWER;

/** The role the groups of a directory user give (VIEWER when none maps one). */
export async function mappedRole(tx: Database, directoryUserId: string): Promise<OrganizationRole> {
  const rows = await tx.query<{ role: OrganizationRole }>(
    `SELECT g.role FROM directory_groups g JOIN directory_group_members gm ON gm.group_id = g.id WHERE gm.directory_user_id = $1 AND g.role IS NOT NULL`,
    [directoryUserId],
  );
  return highest(ROLE_RANK, rows.map((r) => r.role)) ?? DIRECTORY_DEFAULT_ROLE;
}

/** What a group granted before this change (a mapping moved away): still the directory's to take back. */
export interface FormerGrants {
  workspaces?: string[];
  roleIds?: string[];
}

/**
 * Brings the memberships of these directory users to what their groups map and their `active`
 * says.
 */
export async function applyDirectoryGrants(tx: Database, ctx: RequestContext, organizationId: string, directoryUserIds: string[], former: FormerGrants = {}): Promise<void> {
  if (!directoryUserIds.length) return;
  const users = await tx.select(DirectoryUserEntity, 'SELECT * FROM directory_users WHERE organization_id = $1 AND id = ANY($2::uuid[]) AND membership_id IS NOT NULL', [
    organizationId,
    directoryUserIds,
  ]);
  if (!users.length) return;
  const groups = await tx.select(DirectoryGroupEntity, 'SELECT * FROM directory_groups WHERE organization_id = $1', [organizationId]);
  const managedWorkspaces = new Set([...groups.map((g) => g.workspaceId).filter((w): w is string => w !== null), ...(former.workspaces ?? [])]);
  const managedRoles = new Set([...groups.flatMap((g) => g.roleIds), ...(former.roleIds ?? [])]);
  for (const user of users) {
    let member = await tx.selectOne(MembershipEntity, 'SELECT * FROM memberships WHERE id = $1 FOR UPDATE', [user.membershipId]);
    if (!member) continue;
    member = await applyActive(tx, ctx, member, user.active);
    const own = await tx.query<{ group_id: string }>('SELECT group_id FROM directory_group_members WHERE directory_user_id = $1', [user.id]);
    const mine = groups.filter((g) => own.some((o) => o.group_id === g.id));
    if (member.role !== OrganizationRole.OWNER) {
      const role = highest(ROLE_RANK, mine.map((g) => g.role).filter((r): r is OrganizationRole => r !== null)) ?? DIRECTORY_DEFAULT_ROLE;
      if (role !== member.role) member = await changeRole(tx, ctx, member, role);
    }
    if (managedRoles.size && member.role !== OrganizationRole.GUEST) {
      const mapped = mine.flatMap((g) => g.roleIds);
      const roleIds = [...new Set([...member.roleIds.filter((id) => !managedRoles.has(id)), ...mapped])].sort();
      if (JSON.stringify(roleIds) !== JSON.stringify([...member.roleIds].sort())) member = await changeCustomRoles(tx, ctx, member, roleIds);
    }
    for (const workspaceId of managedWorkspaces) {
      const wanted = highest(WORKSPACE_RANK, mine.filter((g) => g.workspaceId === workspaceId && g.workspaceRole).map((g) => g.workspaceRole!));
      await setWorkspaceAccess(tx, ctx, member, workspaceId, wanted ? holdableWorkspaceRole(member.role, wanted) : null);
    }
  }
}

async function changeRole(tx: Database, ctx: RequestContext, member: MembershipEntity, role: OrganizationRole): Promise<MembershipEntity> {
  // A GUEST takes no seat; made anything else, it needs one (a suspended member holds none).
  if (member.role === OrganizationRole.GUEST && !member.suspendedAt) await assertSeats(tx, member.organizationId);
  const updated = (await tx.selectOne(
    MembershipEntity,
    // A GUEST holds no assignments and no custom roles.
    `UPDATE memberships SET role = $2, assignments = CASE WHEN $2 = 'GUEST' THEN '{}' ELSE assignments END,
       role_ids = CASE WHEN $2 = 'GUEST' THEN '{}' ELSE role_ids END, role_permissions = CASE WHEN $2 = 'GUEST' THEN '{}' ELSE role_permissions END,
       updated_at = now() WHERE id = $1 RETURNING *`,
    [member.id, role],
  ))!;
  const lowered = await capWorkspaceAccess(tx, updated);
  await withdrawWhatMemberNoLongerGrants(tx, ctx, member.organizationId, member.userId, updated.suspendedAt ? null : updated);
  await recordAudit(tx, ctx, {
    organizationId: member.organizationId,
    action: 'member.role_changed',
    target: { type: 'Membership', id: member.id },
    metadata: Object.assign({ userId: member.userId, changes: { role: { before: member.role, after: role } }, source: 'directory' }, lowered.length ? { workspaceAccessLowered: lowered } : {}),
  });
  return updated;
}

async function changeCustomRoles(tx: Database, ctx: RequestContext, member: MembershipEntity, roleIds: string[]): Promise<MembershipEntity> {
  const updated = (await tx.selectOne(MembershipEntity, 'UPDATE memberships SET role_ids = $2, role_permissions = $3, updated_at = now() WHERE id = $1 RETURNING *', [
    member.id,
    roleIds,
    await rolePermissionsOf(tx, member.organizationId, roleIds),
  ]))!;
  await withdrawWhatMemberNoLongerGrants(tx, ctx, member.organizationId, member.userId, updated.suspendedAt ? null : updated);
  await recordAudit(tx, ctx, {
    organizationId: member.organizationId,
    action: 'member.roles_changed',
    target: { type: 'Membership', id: member.id },
    metadata: { userId: member.userId, changes: { roleIds: { before: member.roleIds, after: roleIds } }, source: 'directory' },
  });
  return updated;
}

async function setWorkspaceAccess(tx: Database, ctx: RequestContext, member: MembershipEntity, workspaceId: string, role: WorkspaceRole | null): Promise<void> {
  const [current] = await tx.query<{ role_override: WorkspaceRole | null }>('SELECT role_override FROM workspace_access WHERE workspace_id = $1 AND membership_id = $2', [
    workspaceId,
    member.id,
  ]);
  if (role === null && !current) return;
  if (role !== null && current?.role_override === role) return;
  if (role === null) await tx.query('DELETE FROM workspace_access WHERE workspace_id = $1 AND membership_id = $2', [workspaceId, member.id]);
  else {
    await tx.query(
      `INSERT INTO workspace_access (organization_id, workspace_id, membership_id, role_override) VALUES ($1, $2, $3, $4)
       ON CONFLICT (workspace_id, membership_id) DO UPDATE SET role_override = excluded.role_override`,
      [member.organizationId, workspaceId, member.id, role],
    );
  }
  await recordAudit(tx, ctx, {
    organizationId: member.organizationId,
    action: 'member.workspace_access_changed',
    target: { type: 'Membership', id: member.id },
    metadata: { userId: member.userId, workspaceId, changes: { role: { before: current ? (current.role_override ?? 'DEFAULT') : null, after: role } }, source: 'directory' },
  });
}

/**
 * SCIM `active`: false suspends the membership (no access, no seat, still readable), true lifts
 * it (taking a seat again). The last OWNER is never suspended. A suspended member's API keys and
 * webhook endpoints are withdrawn as a leaver's are.
 */
export async function applyActive(tx: Database, ctx: RequestContext, member: MembershipEntity, active: boolean): Promise<MembershipEntity> {
  if (active === !member.suspendedAt) return member;
  if (!active) {
    await assertAnotherOwner(tx, member.organizationId, member);
  } else if (member.role !== OrganizationRole.GUEST) {
    await assertSeats(tx, member.organizationId);
  }
  const updated = (await tx.selectOne(MembershipEntity, `UPDATE memberships SET suspended_at = ${active ? 'NULL' : 'now()'}, updated_at = now() WHERE id = $1 RETURNING *`, [member.id]))!;
  if (!active) await withdrawWhatMemberNoLongerGrants(tx, ctx, member.organizationId, member.userId, null);
  await recordAudit(tx, ctx, {
    organizationId: member.organizationId,
    action: active ? 'member.reactivated' : 'member.suspended',
    target: { type: 'Membership', id: member.id },
    metadata: { userId: member.userId, role: member.role, source: 'directory' },
  });
  return updated;
}

/**
 * Binds a directory user to a person: their membership in its organization (locked), or a new one
 * with the role its groups map — the pending directory user held its seat until now — audited,
 * with the directory's grants applied. Null, and nothing changed, when that membership is already
 * another directory user's. At sign-in (bindDirectoryUsers) and at a SCIM create or update when
 * the person exists (scim/scim.users.ts).
 */
export async function bindToPerson(tx: Database, ctx: RequestContext, directoryUser: DirectoryUserEntity, userId: string): Promise<DirectoryUserEntity | null> {
  let member = await tx.selectOne(MembershipEntity, 'SELECT * FROM memberships WHERE organization_id = $1 AND user_id = $2 FOR UPDATE', [directoryUser.organizationId, userId]);
  if (member && (await tx.query('SELECT 1 FROM directory_users WHERE membership_id = $1', [member.id])).length) return null;
  const created = !member;
  member ??= await insertMembership(tx, { organizationId: directoryUser.organizationId, userId, role: await mappedRole(tx, directoryUser.id) });
  const bound = (await tx.selectOne(DirectoryUserEntity, 'UPDATE directory_users SET membership_id = $2, updated_at = now() WHERE id = $1 RETURNING *', [directoryUser.id, member.id]))!;
  await recordAudit(tx, ctx, {
    organizationId: directoryUser.organizationId,
    action: 'member.provisioned',
    target: { type: 'Membership', id: member.id },
    metadata: { userId, directoryUserId: directoryUser.id, userName: directoryUser.userName, role: member.role, created },
  });
  await applyDirectoryGrants(tx, ctx, directoryUser.organizationId, [directoryUser.id]);
  return bound;
}

/**
 * A directory user provisioned before the person ever signed in binds to them on their first
 * request with that address verified (ensureUser, src/modules/user/user.service.ts): a membership
 * with the role their groups map, or their existing membership. Never fails the request.
 */
export async function bindDirectoryUsers(ctx: RequestContext, user: UserPrincipal): Promise<void> {
  if (!user.emailVerified || !user.email) return;
  try {
    // Past the tenant wall: the person is not a member yet; their verified address entitles them to these rows only.
    const pending = await ctx.crossTenant().query<{ id: string; organization_id: string }>(
      'SELECT id, organization_id FROM directory_users WHERE user_name = $1 AND membership_id IS NULL',
      [user.email],
      { prepare: true },
    );
    for (const row of pending) {
      const system = new RequestContext(ctx.app, ctx.request, null);
      await system.write(
        async (tx) => {
          await tx.query('SELECT id FROM organizations WHERE id = $1 FOR UPDATE', [row.organization_id]);
          const directoryUser = await tx.selectOne(DirectoryUserEntity, 'SELECT * FROM directory_users WHERE id = $1 AND membership_id IS NULL FOR UPDATE', [row.id]);
          if (!directoryUser) return;
          // Null when the person's membership is another directory user's (their address changed in the directory): that one stands.
          await bindToPerson(tx, system, directoryUser, user.userId);
        },
        { crossTenant: true },
      );
    }
  } catch (error) {
    if (error instanceof AppError) ctx.app.logger.info({ userId: user.userId, reason: error.message }, 'directory user not bound');
    else ctx.app.logger.error({ err: error, userId: user.userId }, 'binding directory users failed');
  }
}
