import type { UserPrincipal } from '../../auth/principal';
import type { RequestContext } from '../../context';
import { cleanEmail } from '../../common/email';
import { cleanName, withoutRefusedInName } from '../../common/validation';
import { isUniqueViolation, type Database } from '../../db/database';
import { badInput, notFound } from '../../errors';
import { changes, recordAudit } from '../audit/audit.service';
import { OrganizationEntity, OrganizationKind } from '../organization/organization.entity';
import type { ProvisionUserInput } from './user.types';
import { lockOrganization } from '../../authz/locks';
import { insertOrganization } from '../organization/organization.service';
import { inviteByDomain } from '../domain/enrollment';
import { bindDirectoryUsers } from '../directory/directory.grants';

/** "Ada's Organization": from the first word of the name, else the email's local part. */
export function personalOrganizationName(user: Pick<UserPrincipal, 'name' | 'email' | 'userId'>): string {
  // The name claim is the identity provider's: it may hold what an organization name refuses (a bidi override).
  const owner = withoutRefusedInName(user.name?.trim().split(/\s+/)[0] ?? '') || withoutRefusedInName(user.email?.split('@')[0] ?? '') || 'My';
  return `${owner.slice(0, 80)}'s Organization`;
}

/** Users whose claims this process stored recently (their fingerprint, and when): their requests skip the database round trip. */
const recentlySeen = new Map<string, { fingerprint: string; at: number }>();
const RECENTLY_SEEN_LIMIT = 10_000;
/**
 * How long a user's claims count as recently stored. Past it, the next request stores them again
 * and looks for an automatic invitation (a domain verified meanwhile): once per user every 10
 * minutes, not on every request.
 */
const RECENTLY_SEEN_MS = 10 * 60_000;

const fingerprint = (p: UserPrincipal) => JSON.stringify([p.email, p.emailVerified, p.name]);

/**
 * Keeps this subgraph's copy of the user in step with the token's claims, and gives a user
 * seen for the first time a personal organization — exactly once, even under concurrent first
 * requests: the unique index on organizations.personal_owner_id lets only one of them commit.
 */
export async function ensureUser(ctx: RequestContext, user: UserPrincipal): Promise<void> {
  const seen = fingerprint(user);
  const known = recentlySeen.get(user.userId);
  if (known?.fingerprint === seen && Date.now() - known.at < RECENTLY_SEEN_MS) return;
  await storeClaims(ctx.db, user);
  await createPersonalOrganizationOnce(ctx, user);
  // Verified domains (AUTOMATIC_INVITATION): here, so that an ordinary request costs nothing more.
  await inviteByDomain(ctx, user);
  // SCIM users provisioned for this verified address become their memberships.
  await bindDirectoryUsers(ctx, user);
  recentlySeen.delete(user.userId);
  if (recentlySeen.size >= RECENTLY_SEEN_LIMIT) recentlySeen.delete(recentlySeen.keys().next().value!);
  recentlySeen.set(user.userId, { fingerprint: seen, at: Date.now() });
}

/**
 * Upserts the user's id, email (with whether it is verified) and name — unless the stored ones
 * came from a newer token. A token without an address keeps the stored one and its flag.
 */
async function storeClaims(db: Database, user: UserPrincipal): Promise<void> {
  await db.query(
    `INSERT INTO users (id, email, email_verified, name, claims_issued_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET
       email = COALESCE(excluded.email, users.email),
       email_verified = CASE WHEN excluded.email IS NULL THEN users.email_verified ELSE excluded.email_verified END,
       name = COALESCE(excluded.name, users.name),
       claims_issued_at = excluded.claims_issued_at,
       updated_at = now()
     WHERE (users.email, users.email_verified, users.name) IS DISTINCT FROM
           (COALESCE(excluded.email, users.email), CASE WHEN excluded.email IS NULL THEN users.email_verified ELSE excluded.email_verified END,
            COALESCE(excluded.name, users.name))
       AND (users.claims_issued_at IS NULL OR excluded.claims_issued_at IS NULL OR excluded.claims_issued_at >= users.claims_issued_at
            OR users.claims_issued_at > now() + interval '1 minute')`,
    [user.userId, user.email, user.emailVerified, user.name, user.issuedAt],
  );
}

async function createPersonalOrganization(ctx: RequestContext, user: Pick<UserPrincipal, 'userId' | 'name' | 'email'>): Promise<void> {
  try {
    await ctx.write(async (tx) => {
      const { organization, owner } = await insertOrganization(
        tx,
        ctx,
        { kind: OrganizationKind.PERSONAL, name: personalOrganizationName(user), description: null, personalOwnerId: user.userId },
        undefined,
        user.userId,
      );
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

// eslint-disable-next-line no-control-regex -- refusing them is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * users:provision. Stores the user's email and name (the accounts service is authoritative:
 * later calls overwrite them) and creates the personal organization once, whatever the retries.
 * The address is stored as verified: the accounts service owns it and issues the
 * `email_verified` claim of the user's tokens; a newer token's claim still replaces it.
 */
export async function provisionUser(ctx: RequestContext, input: ProvisionUserInput): Promise<OrganizationEntity> {
  const userId = input.userId;
  if (userId.length < 1 || userId.length > 255 || userId.trim() !== userId || CONTROL.test(userId)) {
    throw badInput('userId', 'userId must be 1 to 255 characters, without surrounding spaces or control characters');
  }
  const email = cleanEmail('email', input.email);
  const name = input.name === null || input.name === undefined ? null : cleanName('name', input.name, 200);
  await ctx.write(async (tx) => {
    const [before] = await tx.query<{ email: string | null; name: string | null }>('SELECT email, name FROM users WHERE id = $1 FOR UPDATE', [userId]);
    await tx.query(
      `INSERT INTO users (id, email, email_verified, name, claims_issued_at) VALUES ($1, $2, true, $3, now())
       ON CONFLICT (id) DO UPDATE SET email = excluded.email, email_verified = true, name = COALESCE(excluded.name, users.name), claims_issued_at = now(), updated_at = now()`,
      [userId, email, name],
    );
    const after = { email, name: name ?? before?.name ?? null };
    const diff = before ? changes(before, after) : {};
    const [personal] = await tx.query<{ id: string }>('SELECT id FROM organizations WHERE personal_owner_id = $1', [userId]);
    if (personal && Object.keys(diff).length) {
      await recordAudit(tx, ctx, { organizationId: personal.id, action: 'user.updated', target: { type: 'User', id: userId, display: after.name ?? email }, metadata: { changes: diff } });
    }
  });
  recentlySeen.delete(userId);
  await createPersonalOrganizationOnce(ctx, { userId, email, name });
  const organization = await personalOrganization(ctx, userId);
  ctx.showToService(organization.id);
  return organization;
}

async function createPersonalOrganizationOnce(ctx: RequestContext, user: Pick<UserPrincipal, 'userId' | 'name' | 'email'>): Promise<void> {
  const [existing] = await ctx.db.query('SELECT id FROM organizations WHERE personal_owner_id = $1', [user.userId], { prepare: true });
  if (!existing) await createPersonalOrganization(ctx, user);
}
