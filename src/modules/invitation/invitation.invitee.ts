import type { UserPrincipal } from '../../auth/principal';
import { isUuid } from '../../common/ids';
import type { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { badInput, conflict, failedPrecondition, forbidden, notFound } from '../../errors';
import { recordAudit } from '../audit/audit.service';
import { assertSeats } from '../billing/subscription.service';
import type { MembershipEntity } from '../membership/membership.entity';
import { insertMembership } from '../membership/membership.rows';
import { rolePermissionsOf } from '../role/role.service';
import { OrganizationRole } from '../../authz/permissions';
import { InvitationEntity, InvitationStatus } from './invitation.entity';
import { assertInviterMayStillGrant, hashToken, statusOf } from './invitation.service';
import type { InvitationPreview } from './invitation.types';

/*
 * The invitee's side of an invitation: what its link shows, the viewer's pending ones, and
 * answering one. Its asker is not a member (yet): the token or the verified address
 * authorizes it past the tenant wall, and these functions check everything the wall would.
 */

/** The viewer's pending invitations: only to a verified email address. */
export async function pendingInvitations(ctx: RequestContext, userId: string): Promise<InvitationEntity[]> {
  const user = ctx.principal;
  if (user?.kind !== 'user' || user.userId !== userId || !user.emailVerified || !user.email) return [];
  const rows = await ctx.db.select(
    InvitationEntity,
    `SELECT * FROM invitations WHERE email = $1 AND status = 'PENDING' AND expires_at > now() ORDER BY id DESC LIMIT 100`,
    [user.email],
  );
  for (const row of rows) ctx.showName(row.organizationId);
  return rows;
}

/**
 * The invitation the invitee means: by the token of its link, or by the id of one of its
 * pending invitations. Only the verified owner of the invited address may answer it.
 */
async function findForInvitee(tx: Database, user: UserPrincipal, token: string | null | undefined, id: string | null | undefined): Promise<InvitationEntity> {
  if ((token ? 1 : 0) + (id ? 1 : 0) !== 1) throw badInput('token', 'Give either the token of the invitation link or the invitation id');
  // By id, only one addressed to the asker: another's is neither read nor locked, exactly like a made-up id.
  const invitation = token
    ? await tx.selectOne(InvitationEntity, 'SELECT * FROM invitations WHERE token_hash = $1 FOR UPDATE', [hashToken(token)])
    : isUuid(id!)
      ? await tx.selectOne(InvitationEntity, 'SELECT * FROM invitations WHERE id = $1 AND email = $2 FOR UPDATE', [id, user.email])
      : undefined;
  if (!invitation || (!token && invitation.email !== user.email)) throw notFound('Invitation');
  if (!user.emailVerified || user.email !== invitation.email) {
    throw forbidden('This invitation is for another email address, or yours is not verified: sign in with the invited address');
  }
  const status = statusOf(invitation);
  if (status !== InvitationStatus.PENDING) throw failedPrecondition(`The invitation is ${status.toLowerCase()}, no longer pending`);
  return invitation;
}

/** Accepted once, whatever the concurrency: the invitation row is locked, its status read afresh. */
export async function acceptInvitation(ctx: RequestContext, token?: string | null, id?: string | null): Promise<MembershipEntity> {
  const user = ctx.requireUser();
  // Past the tenant wall: the invitee is not a member yet; the token or their verified address authorizes them.
  return ctx.write(async (tx) => {
    // Lock order as everywhere: the organization first. Its id comes from an unlocked read.
    const [located] = token
      ? await tx.query<{ organization_id: string }>('SELECT organization_id FROM invitations WHERE token_hash = $1', [hashToken(token)])
      : id && isUuid(id)
        ? await tx.query<{ organization_id: string }>('SELECT organization_id FROM invitations WHERE id = $1 AND email = $2', [id, user.email])
        : [];
    if (located) await tx.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [located.organization_id]);
    const invitation = await findForInvitee(tx, user, token, id);
    const [member] = await tx.query('SELECT 1 FROM memberships WHERE organization_id = $1 AND user_id = $2', [invitation.organizationId, user.userId]);
    if (member) throw conflict('You are already a member of this organization');
    await assertInviterMayStillGrant(tx, invitation);
    if (invitation.role !== OrganizationRole.GUEST) await assertSeats(tx, invitation.organizationId);
    const membership = await insertMembership(tx, {
      organizationId: invitation.organizationId,
      userId: user.userId,
      role: invitation.role,
      assignments: invitation.assignments,
      invitedById: invitation.invitedById,
      roleIds: invitation.roleIds,
      // Read under the organization's lock: deleteRole takes a role out of pending invitations in its transaction.
      rolePermissions: await rolePermissionsOf(tx, invitation.organizationId, invitation.roleIds),
    });
    if (invitation.workspaceIds.length) {
      await tx.query(
        `INSERT INTO workspace_access (organization_id, workspace_id, membership_id)
         SELECT $1, w.id, $2 FROM workspaces w WHERE w.organization_id = $1 AND w.id = ANY($3::uuid[])`,
        [invitation.organizationId, membership.id, invitation.workspaceIds],
      );
    }
    await tx.query(`UPDATE invitations SET status = 'ACCEPTED', decided_at = now(), membership_id = $2 WHERE id = $1`, [invitation.id, membership.id]);
    await recordAudit(tx, ctx, {
      organizationId: invitation.organizationId,
      action: 'invitation.accepted',
      target: { type: 'Invitation', id: invitation.id, display: invitation.email },
      metadata: { membershipId: membership.id, userId: user.userId, role: invitation.role, assignments: invitation.assignments, workspaceIds: invitation.workspaceIds, roleIds: invitation.roleIds },
    });
    return membership;
  }, { crossTenant: true });
}

export async function declineInvitation(ctx: RequestContext, token?: string | null, id?: string | null): Promise<InvitationEntity> {
  const user = ctx.requireUser();
  const declined = await ctx.write(async (tx) => {
    const invitation = await findForInvitee(tx, user, token, id);
    const row = (await tx.selectOne(InvitationEntity, `UPDATE invitations SET status = 'DECLINED', decided_at = now() WHERE id = $1 RETURNING *`, [invitation.id]))!;
    await recordAudit(tx, ctx, {
      organizationId: invitation.organizationId,
      action: 'invitation.declined',
      target: { type: 'Invitation', id: invitation.id, display: invitation.email },
      metadata: { userId: user.userId },
    });
    return row;
   }, { crossTenant: true });
  ctx.showName(declined.organizationId);
  return declined;
}

/** What a link shows before accepting: organization name, inviter, role, address and expiry. No sign-in needed, so the token is what authorizes it past the tenant wall. */
export async function previewInvitation(ctx: RequestContext, token: string): Promise<InvitationPreview> {
  const invitation = token.length <= 200 ? await ctx.crossTenant().selectOne(InvitationEntity, 'SELECT * FROM invitations WHERE token_hash = $1', [hashToken(token)]) : undefined;
  if (!invitation) throw notFound('Invitation');
  const [organization, inviter] = await Promise.all([
    ctx.loaders.organization.load(invitation.organizationId),
    invitation.invitedById ? ctx.loaders.user.load(invitation.invitedById) : null,
  ]);
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    status: statusOf(invitation),
    expiresAt: invitation.expiresAt,
    organizationName: organization?.name ?? '',
    inviterName: inviter?.name ?? inviter?.email ?? null,
    ssoRequired: organization?.ssoEnforced ?? false,
  };
}
