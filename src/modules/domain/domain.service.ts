import { requireMembership } from '../../authz/access';
import { lockObject, lockOrganization } from '../../authz/locks';
import { grantRefusal } from '../../authz/effective-permissions';
import { OrganizationRole, Permission } from '../../authz/permissions';
import { randomBytes } from 'node:crypto';
import { isUuid } from '../../common/ids';
import type { RequestContext } from '../../context';
import { isUniqueViolation, type Database } from '../../db/database';
import { AppError, badInput, failedPrecondition, forbidden, notFound, quotaExceeded } from '../../errors';
import { changes, recordAudit } from '../audit/audit.service';
import { OrganizationKind } from '../organization/organization.entity';
import { cleanDomain } from './domain-names';
import { OrganizationDomainEntity, StoredDomainStatus } from './domain.entity';
import { DomainStatus, EnrollmentMode, type AddDomainInput, type DnsRecord, type UpdateDomainInput } from './domain.types';
import { findTxt, recordName, recordValue, type Lookup } from './dns';

/** Domains one organization may hold, verified or not. */
const MAX_DOMAINS = 20;
const HOUR_MS = 3_600_000;

/** As a reader sees it: a PENDING domain past its window is FAILED (nothing stores that: the clock decides). */
export function statusOf(row: OrganizationDomainEntity, now = Date.now()): DomainStatus {
  if (row.status === StoredDomainStatus.VERIFIED) return DomainStatus.VERIFIED;
  return row.verificationExpiresAt.getTime() > now ? DomainStatus.PENDING : DomainStatus.FAILED;
}

/** The TXT record to publish, as typed into a DNS provider. */
export const verificationRecord = (row: OrganizationDomainEntity): DnsRecord => ({ type: 'TXT', name: recordName(row.domain), value: recordValue(row.verificationToken) });

const target = (row: OrganizationDomainEntity) => ({ type: 'OrganizationDomain', id: row.id, display: row.domain });

const taken = (domain: string) =>
  new AppError('CONFLICT', `${domain} is already verified by another organization`, { field: 'domain', reason: 'DOMAIN_ALREADY_VERIFIED' });

/** Whether another organization holds `domain` VERIFIED: past the tenant wall, a yes or no and nothing else. */
async function verifiedElsewhere(ctx: RequestContext, domain: string, organizationId: string): Promise<boolean> {
  const [row] = await ctx.crossTenant().query(`SELECT 1 FROM organization_domains WHERE domain = $1 AND status = 'VERIFIED' AND organization_id <> $2`, [domain, organizationId]);
  return Boolean(row);
}

export async function organizationDomains(ctx: RequestContext, organizationId: string): Promise<OrganizationDomainEntity[]> {
  return ctx.loaders.organizationDomains.load(organizationId);
}

/**
 * Claims a domain: PENDING with the TXT record to publish, for DOMAIN_VERIFICATION_HOURS.
 * Adding a domain the organization already has, PENDING or FAILED, restarts its window (same record).
 */
export async function addDomain(ctx: RequestContext, input: AddDomainInput): Promise<OrganizationDomainEntity> {
  ctx.requireUser();
  const domain = cleanDomain(input.domain);
  const expiresAt = () => new Date(Date.now() + ctx.config.domains.verificationHours * HOUR_MS);
  // Before the transaction, not inside it (one connection at a time); a race is settled by the index when verifying.
  if (isUuid(input.organizationId) && (await verifiedElsewhere(ctx, domain, input.organizationId))) throw taken(domain);
  return ctx.write(async (tx) => {
    const { organization, actor } = await lockOrganization(tx, ctx, input.organizationId, Permission.DOMAINS_MANAGE);
    if (organization.kind === OrganizationKind.PERSONAL) throw failedPrecondition('A personal organization has no other members: add domains to a team organization');
    const existing = await tx.selectOne(OrganizationDomainEntity, 'SELECT * FROM organization_domains WHERE organization_id = $1 AND domain = $2 FOR UPDATE', [organization.id, domain]);
    if (existing?.status === StoredDomainStatus.VERIFIED) {
      throw new AppError('CONFLICT', `${domain} is already verified by this organization`, { field: 'domain', reason: 'DOMAIN_ALREADY_VERIFIED' });
    }
    if (existing) {
      const restarted = (await tx.selectOne(
        OrganizationDomainEntity,
        'UPDATE organization_domains SET verification_expires_at = $2, updated_at = now() WHERE id = $1 RETURNING *',
        [existing.id, expiresAt()],
      ))!;
      await recordAudit(tx, ctx, {
        organizationId: organization.id,
        action: 'domain.verification_restarted',
        target: target(restarted),
        metadata: { domain, status: { before: statusOf(existing), after: DomainStatus.PENDING }, verificationExpiresAt: restarted.verificationExpiresAt },
      });
      return restarted;
    }
    const [{ held }] = await tx.query<{ held: number }>('SELECT count(*)::int AS held FROM organization_domains WHERE organization_id = $1', [organization.id]);
    if (held >= MAX_DOMAINS) throw quotaExceeded(`An organization holds at most ${MAX_DOMAINS} domains: remove one first`);
    const added = (await tx.selectOne(
      OrganizationDomainEntity,
      `INSERT INTO organization_domains (organization_id, domain, verification_token, verification_expires_at, configured_by_id)
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [organization.id, domain, randomBytes(18).toString('base64url'), expiresAt(), requireMembership(actor).userId],
    ))!;
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'domain.added',
      target: target(added),
      metadata: { domain, record: recordName(domain), verificationExpiresAt: added.verificationExpiresAt },
    });
    return added;
  });
}

/**
 * Looks the TXT record up through DNS_SERVERS, with no transaction open (a slow DNS server
 * holds no connection), then records the outcome under the organization's lock. PENDING →
 * VERIFIED; a VERIFIED domain is checked again (lastCheckedAt, unverifiedSince). Not found:
 * FAILED_PRECONDITION with `reason` DNS_RECORD_NOT_FOUND or DNS_LOOKUP_FAILED, nothing changed.
 * Another organization verified it first: CONFLICT, reason DOMAIN_ALREADY_VERIFIED (the unique
 * index decides a race).
 */
export async function verifyDomain(ctx: RequestContext, id: string): Promise<OrganizationDomainEntity> {
  ctx.requireUser();
  const known = await ctx.loaders.organizationDomain.load(id);
  if (!known) throw notFound('Domain');
  if (statusOf(known) === DomainStatus.FAILED) {
    throw new AppError('FAILED_PRECONDITION', `${known.domain} was not verified within ${ctx.config.domains.verificationHours} hours: add it again to restart`, {
      reason: 'VERIFICATION_EXPIRED',
    });
  }
  const record = verificationRecord(known);
  const lookup = await findTxt(ctx.config.domains.dnsServers, record.name, record.value);
  if (known.status === StoredDomainStatus.VERIFIED) {
    return ctx.write(async (tx) => {
      const { row } = await lockDomain(tx, ctx, id);
      return recordCheck(tx, ctx, row, outcomeOf(lookup));
    });
  }
  if (!lookup.found) {
    throw new AppError('FAILED_PRECONDITION', `${known.domain} is not verified yet: ${lookup.detail}. Publish a TXT record named ${record.name} with the value ${record.value}, then try again`, {
      reason: lookup.reason,
    });
  }
  return ctx.write(async (tx) => {
    const { organization, row } = await lockDomain(tx, ctx, id);
    if (row.status === StoredDomainStatus.VERIFIED) return row;
    // Changed while we looked: re-added (same token, new window) is fine; anything else is looked up again by the caller.
    if (row.verificationToken !== known.verificationToken || statusOf(row) !== DomainStatus.PENDING) throw failedPrecondition('The domain changed meanwhile: try again');
    let verified: OrganizationDomainEntity | undefined;
    try {
      verified = await tx.selectOne(
        OrganizationDomainEntity,
        `UPDATE organization_domains SET status = 'VERIFIED', verified_at = now(), last_checked_at = now(), unverified_since = NULL, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [row.id],
      );
    } catch (error) {
      if (isUniqueViolation(error, 'organization_domains_verified_key')) throw taken(row.domain);
      throw error;
    }
    await recordAudit(tx, ctx, { organizationId: organization.id, action: 'domain.verified', target: target(row), metadata: { domain: row.domain, record: record.name } });
    return verified!;
  });
}

async function lockDomain(tx: Database, ctx: RequestContext, id: string) {
  return lockObject(tx, ctx, { entity: OrganizationDomainEntity, table: 'organization_domains', id, subject: 'Domain' }, Permission.DOMAINS_MANAGE);
}

export const outcomeOf = (lookup: Lookup): CheckOutcome => (lookup.found ? 'found' : lookup.reason === 'DNS_RECORD_NOT_FOUND' ? 'missing' : 'unknown');

export type CheckOutcome = 'found' | 'missing' | 'unknown';

/**
 * What a later look-up of a VERIFIED domain (`row`, locked by the caller) found, in the
 * caller's transaction: `missing` sets unverifiedSince (once, audited `domain.record_missing`),
 * `found` clears it (audited `domain.record_restored`), `unknown` (the DNS servers did not
 * answer) only notes the time. The domain stays VERIFIED: unverifiedSince tells an admin to put
 * the record back.
 */
export async function recordCheck(tx: Database, ctx: RequestContext, row: OrganizationDomainEntity, outcome: CheckOutcome): Promise<OrganizationDomainEntity> {
  if (row.status !== StoredDomainStatus.VERIFIED) return row;
  const unverifiedSince = outcome === 'missing' ? (row.unverifiedSince ?? new Date()) : outcome === 'found' ? null : row.unverifiedSince;
  const updated = (await tx.selectOne(
    OrganizationDomainEntity,
    'UPDATE organization_domains SET last_checked_at = now(), unverified_since = $2 WHERE id = $1 RETURNING *',
    [row.id, unverifiedSince],
  ))!;
  if ((row.unverifiedSince === null) !== (unverifiedSince === null)) {
    await recordAudit(tx, ctx, {
      organizationId: row.organizationId,
      action: unverifiedSince ? 'domain.record_missing' : 'domain.record_restored',
      target: target(row),
      metadata: { domain: row.domain, record: recordName(row.domain), unverifiedSince },
    });
  }
  return updated;
}

/** Enrollment mode and default role. Automatic modes need a VERIFIED domain; nobody sets a default role above their own, nor OWNER. */
export async function updateDomain(ctx: RequestContext, input: UpdateDomainInput): Promise<OrganizationDomainEntity> {
  const user = ctx.requireUser();
  if (input.defaultRole === OrganizationRole.OWNER) throw badInput('defaultRole', 'The default role cannot be OWNER');
  return ctx.write(async (tx) => {
    const { organization, actor, row } = await lockDomain(tx, ctx, input.id);
    const next = { enrollmentMode: input.enrollmentMode ?? (row.enrollmentMode as EnrollmentMode), defaultRole: input.defaultRole ?? row.defaultRole };
    if (next.enrollmentMode !== EnrollmentMode.MANUAL_INVITATION && statusOf(row) !== DomainStatus.VERIFIED) {
      throw failedPrecondition(`${row.domain} is not verified: verify it before choosing an automatic enrollment mode`);
    }
    // Whoever sets it is the inviter of automatic invitations and the approver of automatic requests: the same rule as inviting.
    const refusal = grantRefusal(requireMembership(actor), undefined, { role: next.defaultRole, assignments: [] });
    if (refusal) throw forbidden(refusal);
    const diff = changes({ enrollmentMode: row.enrollmentMode, defaultRole: row.defaultRole }, next);
    if (!Object.keys(diff).length) return row;
    const updated = (await tx.selectOne(
      OrganizationDomainEntity,
      `UPDATE organization_domains SET enrollment_mode = $2, default_role = $3, configured_by_id = $4, updated_at = now() WHERE id = $1 RETURNING *`,
      [row.id, next.enrollmentMode, next.defaultRole, user.userId],
    ))!;
    await recordAudit(tx, ctx, { organizationId: organization.id, action: 'domain.updated', target: target(row), metadata: { domain: row.domain, changes: diff } });
    return updated;
  });
}

export async function removeDomain(ctx: RequestContext, id: string): Promise<boolean> {
  ctx.requireUser();
  return ctx.write(async (tx) => {
    const { organization, row } = await lockDomain(tx, ctx, id);
    await tx.query('DELETE FROM organization_domains WHERE id = $1', [row.id]);
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'domain.removed',
      target: target(row),
      metadata: { domain: row.domain, status: statusOf(row), enrollmentMode: row.enrollmentMode },
    });
    return true;
  });
}
