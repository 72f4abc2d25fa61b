import { requireMembership } from '../../authz/access';
import { grantRefusal } from '../../authz/effective-permissions';
import { OrganizationRole, Permission } from '../../authz/permissions';
import { isUuid } from '../../common/ids';
import { toConnection } from '../../common/connection';
import { toPage } from '../../common/page';
import { cleanDescription } from '../../common/validation';
import type { RequestContext } from '../../context';
import { isUniqueViolation, type Database } from '../../db/database';
import { badInput, conflict, failedPrecondition, forbidden, notFound } from '../../errors';
import { recordAudit } from '../audit/audit.service';
import { assertSeats } from '../billing/subscription.service';
import { OrganizationEntity, OrganizationKind } from '../organization/organization.entity';
import { lockObject } from '../../authz/locks';
import { insertMembership } from '../membership/membership.rows';
import { approveBySuggestion, SUGGESTING_DOMAIN, verifiedDomainOf } from '../domain/enrollment';
import { JoinRequestEntity, JoinRequestStatus } from './join-request.entity';
import type { JoinRequestsArgs, OrganizationSearchResult, SearchOrganizationsArgs } from './join-request.types';

/** Discoverable TEAM organizations whose name or slug contains the query. */
export async function searchOrganizations(ctx: RequestContext, args: SearchOrganizationsArgs): Promise<OrganizationSearchResult[]> {
  ctx.requireUser();
  const query = args.query.trim().toLowerCase();
  if (query.length < 2 || query.length > 100) throw badInput('query', 'query must be 2 to 100 characters');
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > 20) throw badInput('first', 'first must be from 1 to 20');
  const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return ctx.db.query<OrganizationSearchResult>(
    `SELECT id, slug, name FROM organizations
     WHERE kind = 'TEAM' AND discoverable AND (name ILIKE $1 OR slug ILIKE $1)
     ORDER BY (lower(name) = $2 OR slug = $2) DESC, name, id LIMIT $3`,
    [pattern, query, first],
  );
}

export async function organizationJoinRequests(ctx: RequestContext, organizationId: string, args: JoinRequestsArgs) {
  const page = toPage(args);
  const key = { parentId: organizationId, filter: { status: args.status ?? null } };
  const rows = await ctx.loaders.joinRequestsPage.load(Object.assign({ page }, key));
  return toConnection(rows, page, () => ctx.loaders.joinRequestsCount.load(key));
}

/** The viewer's own requests, newest first. */
export async function viewerJoinRequests(ctx: RequestContext, userId: string): Promise<JoinRequestEntity[]> {
  const rows = await ctx.db.select(JoinRequestEntity, 'SELECT * FROM join_requests WHERE user_id = $1 ORDER BY id DESC LIMIT 100', [userId]);
  for (const row of rows) ctx.showName(row.organizationId);
  return rows;
}

export async function requestToJoin(ctx: RequestContext, organizationId: string, message: string | null | undefined): Promise<JoinRequestEntity> {
  const user = ctx.requireUser();
  const text = cleanDescription('message', message, 500);
  const domain = verifiedDomainOf(user);
  const request = await ctx.write(async (tx) => {
    // Only a discoverable team, or one suggested to the requester's verified domain, is read and
    // locked: any other costs what a made-up id does.
    const organization = isUuid(organizationId)
      ? await tx.selectOne(OrganizationEntity, `SELECT * FROM organizations WHERE id = $1 AND kind = 'TEAM' AND (discoverable OR ${SUGGESTING_DOMAIN}) FOR UPDATE`, [
          organizationId,
          domain,
        ])
      : undefined;
    // Any other organization does not exist to a stranger.
    if (!organization || organization.kind !== OrganizationKind.TEAM) throw notFound('Organization');
    const [member] = await tx.query('SELECT 1 FROM memberships WHERE organization_id = $1 AND user_id = $2', [organization.id, user.userId]);
    if (member) throw conflict('You are already a member of this organization');
    let created: JoinRequestEntity | undefined;
    try {
      created = await tx.selectOne(
        JoinRequestEntity,
        `INSERT INTO join_requests (organization_id, user_id, message, status) VALUES ($1, $2, $3, 'PENDING') RETURNING *`,
        [organization.id, user.userId, text],
      );
    } catch (error) {
      if (isUniqueViolation(error, 'join_requests_pending_key')) throw conflict('You already asked to join this organization');
      throw error;
    }
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'join_request.created',
      target: { type: 'JoinRequest', id: created!.id, display: user.email },
      metadata: { userId: user.userId, message: text },
    });
    // AUTOMATIC_SUGGESTION (src/modules/domain/enrollment.ts): approved at once when its rules allow.
    if (await approveBySuggestion(tx, ctx, created!, domain)) {
      return (await tx.selectOne(JoinRequestEntity, 'SELECT * FROM join_requests WHERE id = $1', [created!.id]))!;
    }
    return created!;
    // Past the tenant wall: the requester is not a member; discoverability is checked above.
  }, { crossTenant: true });
  ctx.showName(request.organizationId);
  return request;
}

/** A request still to be decided, locked for a decision by someone who may invite. */
async function lockForDecision(tx: Database, ctx: RequestContext, id: string) {
  const locked = await lockObject(tx, ctx, { entity: JoinRequestEntity, table: 'join_requests', id, subject: 'Join request' }, Permission.MEMBERS_INVITE);
  return { actor: locked.actor, request: pending(locked.row) };
}

function pending(request: JoinRequestEntity): JoinRequestEntity {
  if (request.status !== JoinRequestStatus.PENDING) throw failedPrecondition(`The request is ${request.status.toLowerCase()}, no longer pending`);
  return request;
}

/** Same rules as an invitation: no escalation, a seat for anyone but a GUEST. */
export async function approveJoinRequest(ctx: RequestContext, id: string, role: OrganizationRole | null | undefined): Promise<JoinRequestEntity> {
  ctx.requireUser();
  const granted = role ?? OrganizationRole.VIEWER;
  return ctx.write(async (tx) => {
    const { actor, request } = await lockForDecision(tx, ctx, id);
    const organizationId = request.organizationId;
    const refusal = grantRefusal(requireMembership(actor), undefined, { role: granted, assignments: [] });
    if (refusal) throw forbidden(refusal);
    const [member] = await tx.query('SELECT 1 FROM memberships WHERE organization_id = $1 AND user_id = $2', [organizationId, request.userId]);
    if (member) throw conflict('The requester is already a member');
    if (granted !== OrganizationRole.GUEST) await assertSeats(tx, organizationId);
    const membership = await insertMembership(tx, { organizationId, userId: request.userId, role: granted, invitedById: requireMembership(actor).userId });
    const approved = (await tx.selectOne(
      JoinRequestEntity,
      `UPDATE join_requests SET status = 'APPROVED', role = $2, decided_at = now(), decided_by_id = $3 WHERE id = $1 RETURNING *`,
      [request.id, granted, requireMembership(actor).userId],
    ))!;
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'join_request.approved',
      target: { type: 'JoinRequest', id: request.id },
      metadata: { userId: request.userId, role: granted, membershipId: membership.id },
    });
    return approved;
  });
}

export async function denyJoinRequest(ctx: RequestContext, id: string): Promise<JoinRequestEntity> {
  ctx.requireUser();
  return ctx.write(async (tx) => {
    const { actor, request } = await lockForDecision(tx, ctx, id);
    const organizationId = request.organizationId;
    const denied = (await tx.selectOne(
      JoinRequestEntity,
      `UPDATE join_requests SET status = 'DENIED', decided_at = now(), decided_by_id = $2 WHERE id = $1 RETURNING *`,
      [request.id, requireMembership(actor).userId],
    ))!;
    await recordAudit(tx, ctx, { organizationId, action: 'join_request.denied', target: { type: 'JoinRequest', id: request.id }, metadata: { userId: request.userId } });
    return denied;
  });
}

/** The requester withdraws it. */
export async function cancelJoinRequest(ctx: RequestContext, id: string): Promise<JoinRequestEntity> {
  const user = ctx.requireUser();
  const known = isUuid(id) ? await ctx.loaders.joinRequest.load(id) : null;
  if (!known || known.userId !== user.userId) throw notFound('Join request');
  const canceled = await ctx.write(async (tx) => {
    await tx.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [known.organizationId]);
    const request = pending((await tx.selectOne(JoinRequestEntity, 'SELECT * FROM join_requests WHERE id = $1 FOR UPDATE', [id]))!);
    const row = (await tx.selectOne(JoinRequestEntity, `UPDATE join_requests SET status = 'CANCELED', decided_at = now() WHERE id = $1 RETURNING *`, [request.id]))!;
    await recordAudit(tx, ctx, { organizationId: known.organizationId, action: 'join_request.canceled', target: { type: 'JoinRequest', id: request.id }, metadata: { userId: user.userId } });
    return row;
     // Past the tenant wall: the requester is not a member; the request is their own (checked above).
  }, { crossTenant: true });
  ctx.showName(canceled.organizationId);
  return canceled;
}
