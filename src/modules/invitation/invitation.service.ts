import { createHash, randomBytes } from 'node:crypto';
import { requireMembership } from '../../authz/access';
import {
  Assignment,
  holdsAll,
  OrganizationRole,
  Permission,
  permissionsOf,
  WORKSPACE_ROLE_PERMISSIONS,
  workspaceRoleOf,
} from '../../authz/permissions';
import { grantRefusal } from '../../authz/effective-permissions';
import { cleanRoleIds, rolePermissionsOf } from '../role/role.service';
import { cleanEmail } from '../../common/email';
import { isUuid } from '../../common/ids';
import { toConnection } from '../../common/connection';
import { toPage } from '../../common/page';
import type { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { columnList } from '../../db/entity-rows';
import { AppError, badInput, conflict, failedPrecondition, forbidden, notFound, quotaExceeded } from '../../errors';
import { recordAudit } from '../audit/audit.service';
import { enqueueMail } from '../mail/mail.service';
import { invitationMail } from '../mail/templates';
import { MembershipEntity } from '../membership/membership.entity';
import { OrganizationEntity, OrganizationKind } from '../organization/organization.entity';
import { lockObject, lockOrganization } from '../../authz/locks';
import { WorkspaceAccessEntity } from '../workspace/workspace.entity';
import { InvitationEntity, InvitationStatus } from './invitation.entity';
import type { InvitationsArgs, InviteMembersInput } from './invitation.types';

const SENDS_PER_DAY = 5;
const DAY_MS = 86_400_000;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

/** The status as a reader sees it: a PENDING invitation past its expiry is EXPIRED. */
export function statusOf(invitation: InvitationEntity): InvitationStatus {
  return invitation.status === InvitationStatus.PENDING && invitation.expiresAt.getTime() <= Date.now() ? InvitationStatus.EXPIRED : invitation.status;
}

const isViewersInvitation = (ctx: RequestContext, invitation: InvitationEntity) =>
  ctx.principal?.kind === 'user' && ctx.principal.emailVerified && ctx.principal.email === invitation.email;

/** An invitation the asker may see: its organization's inviters (MEMBERS_INVITE) and the verified invitee. */
export async function visibleInvitation(ctx: RequestContext, id: string): Promise<InvitationEntity> {
  const invitation = await ctx.loaders.invitationForViewer.load(id);
  if (invitation && isViewersInvitation(ctx, invitation)) {
    ctx.showName(invitation.organizationId);
    return invitation;
  }
  const access = invitation ? await ctx.loaders.access.load(invitation.organizationId) : null;
  if (!invitation || !access?.permissions.has(Permission.MEMBERS_INVITE)) throw notFound('Invitation');
  return invitation;
}

export async function organizationInvitations(ctx: RequestContext, organizationId: string, args: InvitationsArgs) {
  const page = toPage(args);
  const key = { parentId: organizationId, filter: { status: args.status ?? null } };
  const rows = await ctx.loaders.invitationsPage.load(Object.assign({ page }, key));
  return toConnection(rows, page, () => ctx.loaders.invitationsCount.load(key));
}

function cleanEmails(emails: string[]): string[] {
  const unique = [...new Set(emails.map((given) => cleanEmail('emails', given)))];
  if (unique.length < 1 || unique.length > 10) throw badInput('emails', 'Invite 1 to 10 email addresses at once');
  return unique;
}

/** Who sent it and what to: the mail goes to the outbox in the caller's transaction. */
async function sendInvitationMail(tx: Database, ctx: RequestContext, invitation: InvitationEntity, organization: OrganizationEntity, token: string) {
  const inviter = ctx.principal?.kind === 'user' ? (ctx.principal.name ?? ctx.principal.email ?? 'Someone') : 'Someone';
  const link = `${ctx.config.env.PUBLIC_URL.replace(/\/+$/, '')}/invitations/accept?token=${encodeURIComponent(token)}`;
  const mail = invitationMail({ to: invitation.email, organizationName: organization.name, inviterName: inviter, role: invitation.role, link, expiresAt: invitation.expiresAt });
  if (!ctx.config.isProduction) mail.development = acceptInDevelopment(ctx, invitation.email, token);
  await enqueueMail(tx, ctx, mail, { organizationId: organization.id, topic: `invitation:${invitation.id}` });
}

/**
 * In development PUBLIC_URL (the frontend) often runs nothing: the logged mail also says how the
 * invitee accepts here, as a mutation to paste, the token to send it with, and the local GraphiQL
 * opened on it.
 */
function acceptInDevelopment(ctx: RequestContext, email: string, token: string): Record<string, string> {
  const mutation = `mutation AcceptInvitation { acceptInvitation(token: "${token}") { id role organization { id name } } }`;
  const port = ctx.config.env.PORT;
  // PORT=0 (a port of the kernel's choosing): the path alone.
  const origin = port ? `http://localhost:${port}` : '';
  return {
    acceptInvitation: mutation,
    acceptAs: `Authorization: Bearer $(bin/token ${email})`,
    graphiql: `${origin}/graphiql?query=${encodeURIComponent(mutation)}`,
  };
}

const expiresAt = (ctx: RequestContext) => new Date(Date.now() + ctx.config.env.INVITATION_TTL_DAYS * DAY_MS);

/** All or nothing: a bad address, a member or a pending invitation among them, and nothing is created or sent. */
export async function inviteMembers(ctx: RequestContext, input: InviteMembersInput): Promise<InvitationEntity[]> {
  ctx.requireUser();
  const emails = cleanEmails(input.emails);
  const role = input.role ?? OrganizationRole.VIEWER;
  const assignments = [...new Set(input.assignments ?? [])].sort() as Assignment[];
  if (role === OrganizationRole.GUEST && assignments.length) throw badInput('assignments', 'A GUEST cannot hold assignments');
  const workspaceIds = [...new Set((input.workspaceIds ?? []).map((id) => id.toLowerCase()))];
  if (workspaceIds.length !== (input.workspaceIds ?? []).length) throw badInput('workspaceIds', 'A workspace appears twice');
  if (!workspaceIds.every(isUuid)) throw notFound('Workspace');
  const roleIds = cleanRoleIds(input.roleIds ?? []);
  if (role === OrganizationRole.GUEST && roleIds.length) throw badInput('roleIds', 'A GUEST cannot hold custom roles');

  return ctx.write(async (tx) => {
    const { organization, actor } = await lockOrganization(tx, ctx, input.organizationId, Permission.MEMBERS_INVITE);
    const inviter = requireMembership(actor);
    if (organization.kind === OrganizationKind.PERSONAL) throw failedPrecondition('A personal organization has no other members: create a team organization to invite people');
    if (workspaceIds.length) {
      const [{ found }] = await tx.query<{ found: number }>('SELECT count(*)::int AS found FROM workspaces WHERE organization_id = $1 AND id = ANY($2::uuid[])', [organization.id, workspaceIds]);
      if (found !== workspaceIds.length) throw notFound('Workspace');
    }
    const refusal = await inviterRefusal(tx, inviter, { role, assignments, workspaceIds, roleIds });
    if (refusal) throw refusal;

    const members = await tx.query<{ email: string }>(
      // Only a verified address is a member's: an unverified claim never holds an address against its owner.
      `SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND u.email = ANY($2::text[]) AND u.email_verified`,
      [organization.id, emails],
      { prepare: true },
    );
    if (members.length) throw conflict(`${members[0].email} is already a member`, 'emails');

    const created: InvitationEntity[] = [];
    for (const email of emails) {
      const token = newToken();
      // A lapsed pending invitation gives way; a live one holds the address (its unique index: the insert below adds nothing).
      // One address a statement, prepared: over an array of them PostgreSQL planned it on every
      // call (0.13 ms, and a pending check after it 0.08) and its generic plan read every invitation of the organization.
      await tx.query(`UPDATE invitations SET status = 'EXPIRED' WHERE organization_id = $1 AND email = $2 AND status = 'PENDING' AND expires_at <= now()`, [organization.id, email], {
        prepare: true,
      });
      const invitation = await tx.selectOne(
        InvitationEntity,
        `INSERT INTO invitations (organization_id, email, role, assignments, workspace_ids, invited_by_id, token_hash, status, expires_at, last_sent_at, sent_times, role_ids)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', $8, now(), ARRAY[now()], $9)
         ON CONFLICT (organization_id, email) WHERE status = 'PENDING' DO NOTHING RETURNING ${columnList(InvitationEntity)}`,
        [organization.id, email, role, assignments, workspaceIds, inviter.userId, hashToken(token), expiresAt(ctx), roleIds],
        { prepare: true },
      );
      // Thrown, it rolls back what the addresses before it did: all or nothing.
      if (!invitation) throw conflict(`${email} already has a pending invitation`, 'emails');
      await sendInvitationMail(tx, ctx, invitation, organization, token);
      await recordAudit(tx, ctx, {
        organizationId: organization.id,
        action: 'invitation.created',
        target: { type: 'Invitation', id: invitation.id, display: email },
        metadata: { email, role, assignments, workspaceIds, roleIds, expiresAt: invitation.expiresAt },
      });
      created.push(invitation);
    }
    return created;
  });
}

/** What an invitation grants: a role, assignments, workspaces. */
type InvitationGrant = Pick<InvitationEntity, 'role' | 'assignments' | 'workspaceIds' | 'roleIds'>;

/**
 * Why `inviter` may not make `grant` now, if it may not: it needs MEMBERS_INVITE, no role or
 * assignment above its own (grantRefusal), and in each of the granted workspaces that still
 * exists a role holding what the new member gets there (a workspace not its to see is
 * NOT_FOUND). The one rule for inviting, resending, cancelling and accepting.
 */
async function inviterRefusal(tx: Database, inviter: MembershipEntity, grant: InvitationGrant): Promise<AppError | null> {
  const permissions = permissionsOf(inviter.role, inviter.assignments, inviter.rolePermissions);
  if (!permissions.has(Permission.MEMBERS_INVITE)) return forbidden(`This needs the ${Permission.MEMBERS_INVITE} permission`);
  // Custom roles count as granted: their keys, read under the organization's lock (a role deleted since is gone from the invitation).
  const refusal = grantRefusal(inviter, undefined, { ...grant, rolePermissions: await rolePermissionsOf(tx, inviter.organizationId, grant.roleIds) });
  if (refusal) return forbidden(refusal);
  if (!grant.workspaceIds.length) return null;
  // Each granted workspace that exists, with the inviter's own assignment to it, if any.
  const workspaces = await tx.query<{ access_id: string | null; role_override: WorkspaceAccessEntity['roleOverride'] }>(
    `SELECT a.id AS access_id, a.role_override FROM workspaces w LEFT JOIN workspace_access a ON a.workspace_id = w.id AND a.membership_id = $2
     WHERE w.organization_id = $1 AND w.id = ANY($3::uuid[])`,
    [inviter.organizationId, inviter.id, grant.workspaceIds],
  );
  const granted = workspaceRoleOf(grant.role, permissionsOf(grant.role, grant.assignments), { roleOverride: null });
  for (const workspace of workspaces) {
    const inviterRole = workspaceRoleOf(inviter.role, permissions, workspace.access_id ? { roleOverride: workspace.role_override } : null);
    if (!inviterRole) return notFound('Workspace');
    if (granted && !holdsAll(WORKSPACE_ROLE_PERMISSIONS[inviterRole], WORKSPACE_ROLE_PERMISSIONS[granted])) {
      return forbidden('You cannot invite someone to a workspace role above your own there');
    }
  }
  return null;
}

/**
 * An invitation grants only what its inviter could grant now: checked again at acceptance
 * against the inviter's current membership, so an inviter demoted or removed since cannot hand
 * out its former authority (the invitation stays pending; an inviter who may grant it can
 * invite again). Invitations made by nobody in particular (no inviter) are not affected;
 * workspaces deleted since are simply not granted.
 */
export async function assertInviterMayStillGrant(tx: Database, invitation: InvitationGrant & Pick<InvitationEntity, 'organizationId' | 'invitedById'>): Promise<void> {
  if (!invitation.invitedById) return;
  const inviter = await tx.selectOne(MembershipEntity, 'SELECT * FROM memberships WHERE organization_id = $1 AND user_id = $2', [
    invitation.organizationId,
    invitation.invitedById,
  ]);
  if (!inviter || (await inviterRefusal(tx, inviter, invitation))) {
    throw failedPrecondition('Whoever invited you can no longer grant this role or access: ask the organization for a new invitation');
  }
}

/** Locks an invitation of an organization the asker may invite to (MEMBERS_INVITE), granting nothing the asker could not grant. */
async function lockForInviter(tx: Database, ctx: RequestContext, id: string) {
  const locked = await lockObject(tx, ctx, { entity: InvitationEntity, table: 'invitations', id, subject: 'Invitation' }, Permission.MEMBERS_INVITE);
  const { organization, actor, row: invitation } = locked;
  // Nobody resends or cancels an invitation granting more than they could grant.
  const refusal = await inviterRefusal(tx, requireMembership(actor), invitation);
  if (refusal) throw refusal;
  return { organization, invitation };
}

/** A new token (the old link stops working), a renewed expiry; at most 5 sends in 24 hours. */
export async function resendInvitation(ctx: RequestContext, id: string): Promise<InvitationEntity> {
  ctx.requireUser();
  return ctx.write(async (tx) => {
    const { organization, invitation } = await lockForInviter(tx, ctx, id);
    if (invitation.status !== InvitationStatus.PENDING) throw failedPrecondition(`The invitation is ${invitation.status.toLowerCase()}, no longer pending`);
    const recent = invitation.sentTimes.filter((t) => Date.now() - t.getTime() < DAY_MS);
    if (recent.length >= SENDS_PER_DAY) throw quotaExceeded(`An invitation is sent at most ${SENDS_PER_DAY} times in 24 hours`);
    const token = newToken();
    const renewed = (await tx.selectOne(
      InvitationEntity,
      `UPDATE invitations SET token_hash = $2, expires_at = $3, last_sent_at = now(), send_count = send_count + 1,
         sent_times = $4::timestamptz[] || now() WHERE id = $1 RETURNING *`,
      [invitation.id, hashToken(token), expiresAt(ctx), recent.slice(-(SENDS_PER_DAY - 1))],
    ))!;
    await sendInvitationMail(tx, ctx, renewed, organization, token);
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'invitation.resent',
      target: { type: 'Invitation', id: invitation.id, display: invitation.email },
      metadata: { sendCount: renewed.sendCount, expiresAt: { before: invitation.expiresAt, after: renewed.expiresAt } },
    });
    return renewed;
  });
}

export async function cancelInvitation(ctx: RequestContext, id: string): Promise<InvitationEntity> {
  ctx.requireUser();
  return ctx.write(async (tx) => {
    const { organization, invitation } = await lockForInviter(tx, ctx, id);
    if (statusOf(invitation) !== InvitationStatus.PENDING) throw failedPrecondition(`The invitation is ${statusOf(invitation).toLowerCase()}, no longer pending`);
    const canceled = (await tx.selectOne(InvitationEntity, `UPDATE invitations SET status = 'CANCELED', decided_at = now() WHERE id = $1 RETURNING *`, [invitation.id]))!;
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'invitation.canceled',
      target: { type: 'Invitation', id: invitation.id, display: invitation.email },
      metadata: { email: invitation.email, role: invitation.role },
    });
    return canceled;
  });
}
