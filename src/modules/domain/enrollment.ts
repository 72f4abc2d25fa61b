import { randomBytes } from 'node:crypto';
import type { UserPrincipal } from '../../auth/principal';
import { RequestContext } from '../../context';
import { grantRefusal } from '../../authz/effective-permissions';
import { OrganizationRole, Permission, permissionsOf } from '../../authz/permissions';
import { isUniqueViolation, type Database } from '../../db/database';
import { AppError } from '../../errors';
import { assertSeats } from '../billing/subscription.service';
import type { JoinRequestEntity } from '../join-request/join-request.entity';
import { MembershipEntity } from '../membership/membership.entity';
import { insertMembership } from '../membership/membership.rows';
import { OrganizationDomainEntity } from './domain.entity';
import { recordAudit } from '../audit/audit.service';
import { InvitationEntity } from '../invitation/invitation.entity';
import { assertInviterMayStillGrant, hashToken } from '../invitation/invitation.service';
import { OrganizationEntity } from '../organization/organization.entity';
import { domainOfEmail } from './domain-names';
import { EnrollmentMode } from './domain.types';

/*
 * Enrollment by verified domain (API.md, "Enterprise identity"): what a person whose VERIFIED
 * email is at an organization's VERIFIED domain gets, by the domain's mode. Only the token's
 * email_verified claim counts: an unverified address never matches.
 */

/** The viewer's verified address's domain, or null: nothing matches an unverified address. */
export function verifiedDomainOf(user: Pick<UserPrincipal, 'email' | 'emailVerified'> | null | undefined): string | null {
  return user?.emailVerified ? domainOfEmail(user.email) : null;
}

interface Candidate {
  domain_id: string;
  organization_id: string;
  domain: string;
  default_role: InvitationEntity['role'];
  configured_by_id: string | null;
}

/**
 * A person's VERIFIED domain in AUTOMATIC_INVITATION mode, whose organization they are not in
 * and have never been invited to automatically (declined, expired or accepted, it is once), and
 * have no pending invitation from. One verified row per domain at most: one organization.
 */
const CANDIDATE = `
  SELECT d.id AS domain_id, d.organization_id, d.domain, d.default_role, d.configured_by_id
  FROM organization_domains d
  WHERE d.domain = $1 AND d.status = 'VERIFIED' AND d.enrollment_mode = '${EnrollmentMode.AUTOMATIC_INVITATION}'
    AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = d.organization_id AND m.user_id = $2)
    AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.organization_id = d.organization_id AND i.email = $3 AND (i.automatic OR i.status = 'PENDING'))`;

/**
 * AUTOMATIC_INVITATION: a pending invitation with the domain's default role, from whoever set
 * the mode (so acceptance applies the same escalation rule and seats as any invitation). Run
 * when this subgraph stores the person's claims (src/modules/user/user.service.ts ensureUser:
 * their first request to a process, a change of claims, and at least every few minutes), so an
 * ordinary request costs nothing more. No mail: they are signed in, and see it among
 * Viewer.pendingInvitations. Never fails the request that triggered it.
 */
export async function inviteByDomain(ctx: RequestContext, user: UserPrincipal): Promise<void> {
  const domain = verifiedDomainOf(user);
  if (!domain) return;
  try {
    const [candidate] = await ctx.crossTenant().query<Candidate>(CANDIDATE, [domain, user.userId, user.email], { prepare: true });
    if (!candidate) return;
    // The system acts (the audit log's actor), in the person's request.
    const system = new RequestContext(ctx.app, ctx.request, null);
    await system.write(async (tx) => {
      const organization = await tx.selectOne(OrganizationEntity, 'SELECT * FROM organizations WHERE id = $1 FOR UPDATE', [candidate.organization_id]);
      const [still] = await tx.query<Candidate>(CANDIDATE, [domain, user.userId, user.email]);
      if (!organization || !still) return;
      // The member who chose the mode must still be able to invite with this role; else nothing happens until someone who can sets it again.
      await assertInviterMayStillGrant(tx, { organizationId: organization.id, invitedById: still.configured_by_id, role: still.default_role, assignments: [], workspaceIds: [], roleIds: [] });
      const expiresAt = new Date(Date.now() + ctx.config.env.INVITATION_TTL_DAYS * 86_400_000);
      const invitation = (await tx.selectOne(
        InvitationEntity,
        `INSERT INTO invitations (organization_id, email, role, invited_by_id, token_hash, status, expires_at, last_sent_at, sent_times, automatic)
         VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, now(), ARRAY[now()], true) RETURNING *`,
        [organization.id, user.email, still.default_role, still.configured_by_id, hashToken(randomBytes(32).toString('base64url')), expiresAt],
      ))!;
      await recordAudit(tx, system, {
        organizationId: organization.id,
        action: 'invitation.created',
        target: { type: 'Invitation', id: invitation.id, display: invitation.email },
        metadata: { email: invitation.email, role: invitation.role, assignments: [], workspaceIds: [], expiresAt, automatic: true, domain: still.domain },
      });
    }, { crossTenant: true });
  } catch (error) {
    // A concurrent first request invited them: that one stands.
    if (isUniqueViolation(error, 'invitations_pending_email_key')) return;
    if (error instanceof AppError) {
      ctx.app.logger.info({ userId: user.userId, domain, reason: error.message }, 'automatic invitation not made');
      return;
    }
    ctx.app.logger.error({ err: error, userId: user.userId, domain }, 'automatic invitation failed');
  }
}

/** AUTOMATIC_SUGGESTION: the organizations of the viewer's verified domain that they are not in. */
export async function suggestedOrganizations(ctx: RequestContext, userId: string): Promise<OrganizationEntity[]> {
  const user = ctx.principal;
  const domain = user?.kind === 'user' && user.userId === userId ? verifiedDomainOf(user) : null;
  if (!domain) return [];
  // Past the tenant wall: the viewer is not a member; the verified address is what entitles them to the name.
  const rows = await ctx.crossTenant().select(
    OrganizationEntity,
    `SELECT o.* FROM organizations o JOIN organization_domains d ON d.organization_id = o.id
     WHERE d.domain = $1 AND d.status = 'VERIFIED' AND d.enrollment_mode = '${EnrollmentMode.AUTOMATIC_SUGGESTION}'
       AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = o.id AND m.user_id = $2)
     ORDER BY o.name, o.id`,
    [domain, userId],
  );
  for (const row of rows) ctx.showName(row.id);
  return rows;
}

/** The AUTOMATIC_SUGGESTION domain of `organizationId` that the person's verified address is at, if any (inside the caller's transaction). */
export const SUGGESTING_DOMAIN = `EXISTS (SELECT 1 FROM organization_domains d WHERE d.organization_id = organizations.id AND d.domain = $2
  AND d.status = 'VERIFIED' AND d.enrollment_mode = '${EnrollmentMode.AUTOMATIC_SUGGESTION}')`;

/**
 * A join request to an organization that suggested itself to the requester (AUTOMATIC_SUGGESTION
 * on their verified domain) is approved at once, with the domain's default role, by the member
 * who chose the mode, under the rules of any approval: that member must still be able to grant
 * the role (MEMBERS_INVITE, nothing above their own), and a seat must be free for anyone but a
 * GUEST. When one of them fails, the request stays PENDING for an admin to decide. Returns
 * whether it was approved. Runs in requestToJoin's transaction, the organization locked.
 */
export async function approveBySuggestion(tx: Database, ctx: RequestContext, request: JoinRequestEntity, domain: string | null): Promise<boolean> {
  if (!domain) return false;
  const suggesting = await tx.selectOne(
    OrganizationDomainEntity,
    `SELECT * FROM organization_domains WHERE organization_id = $1 AND domain = $2 AND status = 'VERIFIED' AND enrollment_mode = '${EnrollmentMode.AUTOMATIC_SUGGESTION}'`,
    [request.organizationId, domain],
  );
  if (!suggesting?.configuredById) return false;
  const approver = await tx.selectOne(MembershipEntity, 'SELECT * FROM memberships WHERE organization_id = $1 AND user_id = $2', [request.organizationId, suggesting.configuredById]);
  const role = suggesting.defaultRole;
  if (!approver || !permissionsOf(approver.role, approver.assignments, approver.rolePermissions).has(Permission.MEMBERS_INVITE) || grantRefusal(approver, undefined, { role, assignments: [] })) return false;
  if (role !== OrganizationRole.GUEST) {
    try {
      await assertSeats(tx, request.organizationId);
    } catch (error) {
      if (error instanceof AppError && error.extensions.code === 'QUOTA_EXCEEDED') return false;
      throw error;
    }
  }
  const membership = await insertMembership(tx, { organizationId: request.organizationId, userId: request.userId, role, invitedById: approver.userId });
  await tx.query(`UPDATE join_requests SET status = 'APPROVED', role = $2, decided_at = now(), decided_by_id = $3 WHERE id = $1`, [request.id, role, approver.userId]);
  await recordAudit(tx, ctx, {
    organizationId: request.organizationId,
    action: 'join_request.approved',
    target: { type: 'JoinRequest', id: request.id },
    metadata: { userId: request.userId, role, membershipId: membership.id, automatic: true, domain },
  });
  return true;
}
