import { requireMembership } from '../../authz/access';
import { lockMembership, lockOrganization } from '../../authz/locks';
import { OrganizationRole, Permission } from '../../authz/permissions';
import { insertUnderFreeSlug } from '../../common/slugs';
import { cleanDescription, cleanName, cleanSlug } from '../../common/validation';
import { assertSeats, startSubscription } from '../billing/subscription.service';
import type { RequestContext } from '../../context';
import { isUniqueViolation, type Database } from '../../db/database';
import { columnList } from '../../db/entity-rows';
import { badInput, conflict, failedPrecondition, notFound } from '../../errors';
import { withdrawWhatMemberNoLongerGrants } from '../membership/member-grants';
import { changes, recordAudit } from '../audit/audit.service';
import type { MembershipEntity } from '../membership/membership.entity';
import { insertMembership } from '../membership/membership.rows';
import { OrganizationEntity, OrganizationKind } from './organization.entity';
import type { CreateOrganizationInput, UpdateOrganizationInput } from './organization.types';

/** The organization if the asker belongs to it; NOT_FOUND otherwise, exactly as if it did not exist. */
export async function visibleOrganization(ctx: RequestContext, id: string): Promise<OrganizationEntity> {
  return onlyIfMember(ctx, await ctx.loaders.organizationForViewer.load(id));
}

export async function visibleOrganizationBySlug(ctx: RequestContext, slug: string): Promise<OrganizationEntity> {
  return onlyIfMember(ctx, await ctx.loaders.organizationBySlugForViewer.load(slug.trim().toLowerCase()));
}

/**
 * An organization read with the asker's membership (one statement, src/authz/viewer-rows.ts),
 * or NOT_FOUND: another tenant's costs the same statement and answer as one that does not exist.
 */
async function onlyIfMember(ctx: RequestContext, organization: OrganizationEntity | null): Promise<OrganizationEntity> {
  const access = organization ? await ctx.loaders.access.load(organization.id) : null;
  if (!organization || !access) throw notFound('Organization');
  return organization;
}

/**
 * Inserts an organization with its owner's membership and its subscription. A slug the user
 * chose that is taken is CONFLICT; without one, the slug is derived from the name. The owner
 * comes first: until then the database's tenant wall shows the creator nothing of it.
 */
export async function insertOrganization(
  tx: Database,
  ctx: RequestContext,
  fields: { kind: OrganizationKind; name: string; description: string | null; personalOwnerId: string | null },
  slug: string | undefined,
  ownerId: string,
): Promise<{ organization: OrganizationEntity; owner: MembershipEntity }> {
  const organization = await insertUnderFreeSlug(
    fields.name,
    slug,
    (candidate) =>
      tx.selectOne(
        OrganizationEntity,
        `INSERT INTO organizations (slug, kind, name, description, personal_owner_id)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING RETURNING ${columnList(OrganizationEntity)}`,
        [candidate, fields.kind, fields.name, fields.description, fields.personalOwnerId],
        { prepare: true },
      ),
    { tryBare: fields.kind === OrganizationKind.TEAM, fallback: 'org' },
  );
  const owner = await insertMembership(tx, { organizationId: organization.id, userId: ownerId, role: OrganizationRole.OWNER });
  await startSubscription(tx, ctx.config, organization);
  return { organization, owner };
}

export async function createOrganization(ctx: RequestContext, input: CreateOrganizationInput): Promise<OrganizationEntity> {
  const user = ctx.requireUser();
  const name = cleanName('name', input.name);
  const slug = input.slug === null || input.slug === undefined ? undefined : cleanSlug('slug', input.slug);
  const description = cleanDescription('description', input.description);
  return ctx.write(async (tx) => {
    const { organization, owner } = await insertOrganization(tx, ctx, { kind: OrganizationKind.TEAM, name, description, personalOwnerId: null }, slug, user.userId);
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'organization.created',
      target: { type: 'Organization', id: organization.id, display: organization.name },
      metadata: { slug: organization.slug, name, kind: organization.kind, ownerMembershipId: owner.id },
    });
    return organization;
  });
}

export async function updateOrganization(ctx: RequestContext, input: UpdateOrganizationInput): Promise<OrganizationEntity> {
  const wanted: Partial<OrganizationEntity> = {};
  if (input.name !== undefined && input.name !== null) wanted.name = cleanName('name', input.name);
  if (input.slug !== undefined && input.slug !== null) wanted.slug = cleanSlug('slug', input.slug);
  if (input.description !== undefined) wanted.description = cleanDescription('description', input.description);
  if (input.discoverable !== undefined && input.discoverable !== null) wanted.discoverable = input.discoverable;
  return ctx.write(async (tx) => {
    const { organization } = await lockOrganization(tx, ctx, input.id, Permission.ORGANIZATION_UPDATE);
    if (wanted.discoverable && organization.kind === OrganizationKind.PERSONAL) {
      throw failedPrecondition('A personal organization cannot be discoverable');
    }
    const diff = changes(organization, wanted);
    if (Object.keys(diff).length === 0) return organization;
    let updated: OrganizationEntity | undefined;
    try {
      updated = await tx.selectOne(
        OrganizationEntity,
        `UPDATE organizations SET name = $2, slug = $3, description = $4, discoverable = $5, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [
          organization.id,
          wanted.name ?? organization.name,
          wanted.slug ?? organization.slug,
          'description' in wanted ? wanted.description : organization.description,
          wanted.discoverable ?? organization.discoverable,
        ],
      );
    } catch (error) {
      if (isUniqueViolation(error, 'organizations_slug_key')) throw conflict(`The slug "${wanted.slug}" is already taken`, 'slug');
      throw error;
    }
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'organization.updated',
      target: { type: 'Organization', id: organization.id, display: updated!.name },
      metadata: { changes: diff },
    });
    return updated!;
  });
}

export async function deleteOrganization(ctx: RequestContext, id: string, confirmSlug: string): Promise<boolean> {
  return ctx.write(async (tx) => {
    const { organization } = await lockOrganization(tx, ctx, id, Permission.ORGANIZATION_DELETE);
    if (organization.kind === OrganizationKind.PERSONAL) throw failedPrecondition('A personal organization cannot be deleted');
    if (confirmSlug.trim().toLowerCase() !== organization.slug) {
      throw badInput('confirmSlug', 'confirmSlug must be the slug of the organization being deleted');
    }
    // The event outlives the organization: audit_events has no foreign key to it.
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'organization.deleted',
      target: { type: 'Organization', id: organization.id, display: organization.name },
      metadata: { slug: organization.slug, name: organization.name },
    });
    // Its webhook endpoints go with it, after the organization.deleted just queued for them (and
    // whatever they still had to receive): retired, and purged by the worker once delivered.
    await tx.query('UPDATE webhook_endpoints SET deleted_at = now() WHERE organization_id = $1', [organization.id]);
    await tx.query('DELETE FROM organizations WHERE id = $1', [organization.id]);
    return true;
  });
}

/** The chosen member becomes OWNER and the caller ADMIN, in one transaction. */
export async function transferOwnership(ctx: RequestContext, organizationId: string, membershipId: string): Promise<OrganizationEntity> {
  return ctx.write(async (tx) => {
    const { organization, actor } = await lockOrganization(tx, ctx, organizationId, Permission.OWNERSHIP_TRANSFER);
    const caller = requireMembership(actor);
    if (organization.kind === OrganizationKind.PERSONAL) throw failedPrecondition('A personal organization cannot be transferred');
    const target = await lockMembership(tx, organizationId, membershipId);
    if (target.id === caller.id) throw badInput('membershipId', 'You already own this organization');
    // A GUEST takes no seat; made OWNER, it needs one (the caller, made ADMIN, keeps theirs).
    if (target.role === OrganizationRole.GUEST) await assertSeats(tx, organizationId);
    await tx.query(`UPDATE memberships SET role = 'OWNER', updated_at = now() WHERE id = $1`, [target.id]);
    await tx.query(`UPDATE memberships SET role = 'ADMIN', updated_at = now() WHERE id = $1`, [caller.id]);
    // An ADMIN issues no key carrying an OWNER's permissions (billing, audit), nor reads the audit log: the former owner's keys
    // carrying them go, and its webhook endpoints stop.
    await withdrawWhatMemberNoLongerGrants(tx, ctx, organizationId, caller.userId, Object.assign({}, caller, { role: OrganizationRole.ADMIN }));
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'organization.ownership_transferred',
      target: { type: 'Membership', id: target.id },
      metadata: {
        newOwner: { membershipId: target.id, userId: target.userId, role: { before: target.role, after: OrganizationRole.OWNER } },
        previousOwner: { membershipId: caller.id, userId: caller.userId, role: { before: caller.role, after: OrganizationRole.ADMIN } },
      },
    });
    return organization;
  });
}
