import { requireMembership } from '../../authz/access';
import { grantRefusal } from '../../authz/effective-permissions';
import { Assignment, OrganizationRole, Permission } from '../../authz/permissions';
import { toConnection } from '../../common/connection';
import { toPage, type PageArgs } from '../../common/page';
import type { RequestContext } from '../../context';
import { badInput, failedPrecondition, forbidden, notFound } from '../../errors';
import { changes, recordAudit } from '../audit/audit.service';
import { assertSeats } from '../billing/subscription.service';
import { OrganizationKind } from '../organization/organization.entity';
import { lockObject, lockOrganization, membershipObject } from '../../authz/locks';
import { assertAnotherOwner } from './membership.rows';
import { withdrawWhatMemberNoLongerGrants } from './member-grants';
import { cleanRoleIds, rolePermissionsOf } from '../role/role.service';
import { capWorkspaceAccess } from '../workspace/workspace.service';
import { MembershipEntity } from './membership.entity';
import type { MembersArgs, UpdateMembershipInput } from './membership.types';

/** A membership the asker may see: their own, or any in an organization where they hold MEMBERS_READ. */
export async function visibleMembership(ctx: RequestContext, id: string): Promise<MembershipEntity> {
  const membership = await ctx.loaders.membershipForViewer.load(id);
  const access = membership ? await ctx.loaders.access.load(membership.organizationId) : null;
  if (!membership || !access) throw notFound('Membership');
  if (membership.id !== access.membership?.id && !access.permissions.has(Permission.MEMBERS_READ)) throw notFound('Membership');
  return membership;
}


export function membersPage(args: MembersArgs) {
  const search = args.search?.trim().toLowerCase() || null;
  if (search && search.length > 100) throw badInput('search', 'search must be at most 100 characters');
  return { page: toPage(args), filter: { role: args.role ?? null, search } };
}

/**
 * A page of a user's memberships as the asker may see them: all of their own; of someone
 * else, those in organizations where the asker can read members.
 */
export async function userMemberships(ctx: RequestContext, userId: string, args: PageArgs) {
  const page = toPage(args);
  const asker = ctx.principal?.kind === 'user' ? ctx.principal.userId : null;
  if (!asker) return toConnection<MembershipEntity>([], page, async () => 0);
  const filter = { sharedWith: asker === userId ? null : asker };
  const rows = await ctx.loaders.userMembershipsPage.load({ parentId: userId, page, filter });
  for (const row of rows) if (row.userId === asker) ctx.loaders.primeMembership(row.organizationId, row);
  return toConnection(rows, page, () => ctx.loaders.userMembershipsCount.load({ parentId: userId, filter }));
}

const uniqueAssignments = (assignments: Assignment[]): Assignment[] => [...new Set(assignments)].sort();

export async function updateMembership(ctx: RequestContext, input: UpdateMembershipInput): Promise<MembershipEntity> {
  return ctx.write(async (tx) => {
    const { organization, actor, row: target } = await lockObject(tx, ctx, membershipObject(input.membershipId), Permission.MEMBERS_MANAGE);
    const organizationId = organization.id;
    const next = {
      role: input.role ?? target.role,
      assignments: uniqueAssignments(input.assignments ?? target.assignments),
      roleIds: input.roleIds ? cleanRoleIds(input.roleIds) : target.roleIds,
    };
    if (next.role === OrganizationRole.GUEST && next.assignments.length) {
      throw badInput('assignments', 'A GUEST cannot hold assignments');
    }
    if (next.role === OrganizationRole.GUEST && next.roleIds.length) throw badInput('roleIds', 'A GUEST cannot hold custom roles');
    const diff = changes({ role: target.role, assignments: uniqueAssignments(target.assignments), roleIds: target.roleIds }, next);
    if (Object.keys(diff).length === 0) return target;
    // Read under the organization's lock, which every change to a role takes too.
    const rolePermissions = diff.roleIds ? await rolePermissionsOf(tx, organizationId, next.roleIds) : target.rolePermissions;
    if (organization.kind === OrganizationKind.PERSONAL) throw failedPrecondition('A personal organization has exactly one member, its OWNER');
    const refusal = grantRefusal(requireMembership(actor), target, { ...next, rolePermissions });
    if (refusal) throw forbidden(refusal);
    if (next.role !== OrganizationRole.OWNER) await assertAnotherOwner(tx, organizationId, target);
    // A GUEST takes no seat; made anything else, it needs one.
    if (target.role === OrganizationRole.GUEST && next.role !== OrganizationRole.GUEST) await assertSeats(tx, organizationId);
    const updated = await tx.selectOne(
      MembershipEntity,
      'UPDATE memberships SET role = $2, assignments = $3, role_ids = $4, role_permissions = $5, updated_at = now() WHERE id = $1 RETURNING *',
      [target.id, next.role, next.assignments, next.roleIds, rolePermissions],
    );
    // The member keeps only the workspace access its new role may hold (a GUEST: at most DEVELOPER), and keys it could still issue.
    const lowered = await capWorkspaceAccess(tx, updated!);
    await withdrawWhatMemberNoLongerGrants(tx, ctx, organizationId, target.userId, updated!);
    await recordAudit(tx, ctx, {
      organizationId,
      action: diff.role ? 'member.role_changed' : diff.assignments ? 'member.assignments_changed' : 'member.roles_changed',
      target: { type: 'Membership', id: target.id },
      metadata: Object.assign({ userId: target.userId, changes: diff }, lowered.length ? { workspaceAccessLowered: lowered } : {}),
    });
    return updated!;
  });
}

export async function removeMember(ctx: RequestContext, membershipId: string): Promise<boolean> {
  return ctx.write(async (tx) => {
    const { organization, actor, row: target } = await lockObject(tx, ctx, membershipObject(membershipId), Permission.MEMBERS_MANAGE);
    const organizationId = organization.id;
    if (organization.kind === OrganizationKind.PERSONAL) throw failedPrecondition('A personal organization has exactly one member, its OWNER');
    const refusal = grantRefusal(requireMembership(actor), target, undefined);
    if (refusal) throw forbidden(refusal);
    await assertAnotherOwner(tx, organizationId, target);
    // Recorded first: the member removed may be the caller, whom the tenant wall then shuts out of the log.
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'member.removed',
      target: { type: 'Membership', id: target.id },
      metadata: { userId: target.userId, role: target.role, assignments: target.assignments, roleIds: target.roleIds },
    });
    await withdrawWhatMemberNoLongerGrants(tx, ctx, organizationId, target.userId, null);
    await tx.query('DELETE FROM memberships WHERE id = $1', [target.id]);
    return true;
  });
}

export async function leaveOrganization(ctx: RequestContext, organizationId: string): Promise<boolean> {
  return ctx.write(async (tx) => {
    const { organization, actor } = await lockOrganization(tx, ctx, organizationId);
    const leaving = requireMembership(actor);
    if (organization.kind === OrganizationKind.PERSONAL) throw failedPrecondition('You cannot leave your personal organization');
    await assertAnotherOwner(tx, organizationId, leaving);
    // Recorded first: once the membership is gone, the tenant wall hides the organization's log from the leaver.
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'member.left',
      target: { type: 'Membership', id: leaving.id },
      metadata: { userId: leaving.userId, role: leaving.role },
    });
    await withdrawWhatMemberNoLongerGrants(tx, ctx, organizationId, leaving.userId, null);
    await tx.query('DELETE FROM memberships WHERE id = $1', [leaving.id]);
    return true;
  });
}
