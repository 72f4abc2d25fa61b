import type { UserPrincipal } from '../../auth/principal';
import { OrganizationRole } from '../../authz/permissions';
import type { RequestContext } from '../../context';
import { isUniqueViolation } from '../../db/database';
import { notFound } from '../../errors';
import { recordAudit } from '../audit/audit.service';
import { OrganizationEntity, OrganizationKind } from '../organization/organization.entity';
import { insertMembership, insertOrganization, lockOrganization } from '../organization/organization.service';

/** "Ada's Organization": from the first word of the name, else the email's local part. */
export function personalOrganizationName(user: Pick<UserPrincipal, 'name' | 'email' | 'userId'>): string {
  const owner = user.name?.trim().split(/\s+/)[0] || user.email?.split('@')[0] || 'My';
  return `${owner.slice(0, 80)}'s Organization`;
}

/** Users whose claims this process stored recently: their requests skip the database round trip. */
const recentlySeen = new Map<string, string>();
const RECENTLY_SEEN_LIMIT = 10_000;

const fingerprint = (p: UserPrincipal) => JSON.stringify([p.email, p.emailVerified, p.name]);

/**
 * Keeps this subgraph's copy of the user in step with the token's claims, and gives a user
 * seen for the first time a personal organization — exactly once, even under concurrent first
 * requests: the unique index on organizations.personal_owner_id lets only one of them commit.
 */
export async function ensureUser(ctx: RequestContext, user: UserPrincipal): Promise<void> {
  const seen = fingerprint(user);
  if (recentlySeen.get(user.userId) === seen) return;
  await ctx.db.query(
    `INSERT INTO users (id, email, email_verified, name, claims_issued_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET
       email = COALESCE(excluded.email, users.email),
       email_verified = excluded.email_verified,
       name = COALESCE(excluded.name, users.name),
       claims_issued_at = excluded.claims_issued_at,
       updated_at = now()
     WHERE (users.email, users.email_verified, users.name) IS DISTINCT FROM
           (COALESCE(excluded.email, users.email), excluded.email_verified, COALESCE(excluded.name, users.name))
       AND (users.claims_issued_at IS NULL OR excluded.claims_issued_at IS NULL OR excluded.claims_issued_at >= users.claims_issued_at)`,
    [user.userId, user.email, user.emailVerified, user.name, user.issuedAt],
  );
  const [existing] = await ctx.db.query('SELECT id FROM organizations WHERE personal_owner_id = $1', [user.userId]);
  if (!existing) await createPersonalOrganization(ctx, user);
  if (recentlySeen.size >= RECENTLY_SEEN_LIMIT) recentlySeen.delete(recentlySeen.keys().next().value!);
  recentlySeen.set(user.userId, seen);
}

async function createPersonalOrganization(ctx: RequestContext, user: UserPrincipal): Promise<void> {
  try {
    await ctx.write(async (tx) => {
      const organization = await insertOrganization(
        tx,
        ctx,
        { kind: OrganizationKind.PERSONAL, name: personalOrganizationName(user), description: null, personalOwnerId: user.userId },
        undefined,
      );
      const owner = await insertMembership(tx, { organizationId: organization.id, userId: user.userId, role: OrganizationRole.OWNER });
      await recordAudit(tx, ctx, {
        organizationId: organization.id,
        action: 'organization.created',
        target: { type: 'Organization', id: organization.id, display: organization.name },
        metadata: { slug: organization.slug, name: organization.name, kind: organization.kind, ownerMembershipId: owner.id },
      });
    });
  } catch (error) {
    // A concurrent first request created it: that is the one.
    if (!isUniqueViolation(error, 'organizations_personal_owner_key')) throw error;
  }
}

export async function personalOrganization(ctx: RequestContext, userId: string): Promise<OrganizationEntity> {
  const organization = await ctx.loaders.personalOrganization.load(userId);
  if (!organization) throw notFound('Personal organization');
  return organization;
}

/** The organization the user last switched to while still a member, else their personal one. */
export async function activeOrganization(ctx: RequestContext, userId: string): Promise<OrganizationEntity> {
  const stored = await ctx.loaders.user.load(userId);
  if (stored?.activeOrganizationId) {
    const [organization, access] = await Promise.all([
      ctx.loaders.organization.load(stored.activeOrganizationId),
      ctx.loaders.access.load(stored.activeOrganizationId),
    ]);
    if (organization && access) return organization;
  }
  return personalOrganization(ctx, userId);
}

/** Checked under the organization lock, so a concurrent deletion or removal is seen: NOT_FOUND. */
export async function switchOrganization(ctx: RequestContext, organizationId: string): Promise<void> {
  const user = ctx.requireUser();
  await ctx.write(async (tx) => {
    const { organization } = await lockOrganization(tx, ctx, organizationId);
    await tx.query('UPDATE users SET active_organization_id = $2, updated_at = now() WHERE id = $1', [user.userId, organization.id]);
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'organization.switched_to',
      target: { type: 'Organization', id: organization.id, display: organization.name },
    });
  });
}
