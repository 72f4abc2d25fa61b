import type { Config } from '../../config';
import { isUuid } from '../../common/ids';
import type { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { badInput, failedPrecondition, notFound, quotaExceeded } from '../../errors';
import { changes, recordAudit } from '../audit/audit.service';
import { OrganizationEntity, OrganizationKind } from '../organization/organization.entity';
import { WorkspaceEntity } from '../workspace/workspace.entity';
import { planFacts, subscriptionOf, usageOf } from './billing.loaders';
import type { RecordUsageInput, Subscription, UpdateSubscriptionInput, Usage } from './billing.types';
import { cleanIdempotencyKey, idempotent } from '../../common/idempotency';
import { PLANS } from './plans';
import { Plan } from './subscription.entity';

/** A PERSONAL organization starts on STARTER; a TEAM one on DEFAULT_TEAM_PLAN with DEFAULT_TEAM_SEATS. */
export async function startSubscription(tx: Database, config: Config, organization: OrganizationEntity): Promise<void> {
  const plan = organization.kind === OrganizationKind.PERSONAL ? Plan.STARTER : (config.env.DEFAULT_TEAM_PLAN as Plan);
  const seats = organization.kind === OrganizationKind.PERSONAL ? 1 : Math.max(config.env.DEFAULT_TEAM_SEATS, PLANS[plan].minSeats);
  await tx.query('INSERT INTO subscriptions (organization_id, plan, seats) VALUES ($1, $2, $3)', [organization.id, plan, seats], { prepare: true });
}

async function factsOf(tx: Database, organizationId: string) {
  const row = (await planFacts(tx, [organizationId])).get(organizationId);
  if (!row) throw notFound('Organization');
  return row;
}

/**
 * Refuses one more workspace past the plan's limit. Call it with the organization row locked
 * (lockOrganization), so that two creations racing for the last slot are counted one after the other.
 */
export async function assertWorkspaceSlot(tx: Database, organizationId: string): Promise<void> {
  const row = await factsOf(tx, organizationId);
  const limit = PLANS[row.plan].workspaceLimit;
  if (limit !== null && row.workspaces >= limit) {
    throw quotaExceeded(`The ${row.plan} plan allows ${limit} workspaces: upgrade the plan or delete one`);
  }
}

/**
 * Refuses `adding` more active (non-guest) members past the plan's member limit. Call it with
 * the organization row locked, so that accepts and approvals racing for the last seat queue up.
 */
export async function assertSeats(tx: Database, organizationId: string, adding = 1): Promise<void> {
  const { memberLimit, seatsUsed, plan } = subscriptionOf(await factsOf(tx, organizationId));
  if (seatsUsed + adding > memberLimit) {
    throw quotaExceeded(`All ${memberLimit} seats of the ${plan} plan are taken: add seats or free one`);
  }
}

/** The organization row, locked, for a partner service (which has no membership to check). */
async function lockForService(tx: Database, organizationId: string): Promise<OrganizationEntity> {
  const organization = isUuid(organizationId)
    ? await tx.selectOne(OrganizationEntity, 'SELECT * FROM organizations WHERE id = $1 FOR UPDATE', [organizationId])
    : undefined;
  if (!organization) throw notFound('Organization');
  return organization;
}

/** billing:write. Seats below the members already there are allowed: new members wait for free seats. */
export async function updateSubscription(ctx: RequestContext, input: UpdateSubscriptionInput): Promise<Subscription> {
  const key = cleanIdempotencyKey(input.idempotencyKey);
  const limits = PLANS[input.plan];
  if (!Number.isInteger(input.seats) || input.seats < 0 || input.seats > 1_000_000) throw badInput('seats', 'seats must be from 0 to 1,000,000');
  if (input.seats < limits.minSeats) throw badInput('seats', `The ${input.plan} plan needs at least ${limits.minSeats} seats`);
  return ctx.write((tx) =>
    idempotent(tx, ctx, 'updateSubscription', key, Object.assign({}, input, { idempotencyKey: undefined }), async () => {
      const organization = await lockForService(tx, input.organizationId);
      if (organization.kind === OrganizationKind.PERSONAL && input.plan !== Plan.STARTER) {
        throw failedPrecondition('A personal organization stays on STARTER');
      }
      const before = await factsOf(tx, organization.id);
      await tx.query('UPDATE subscriptions SET plan = $2, seats = $3, updated_at = now() WHERE organization_id = $1', [organization.id, input.plan, input.seats]);
      const diff = changes({ plan: before.plan, seats: before.seats }, { plan: input.plan, seats: input.seats });
      if (Object.keys(diff).length) {
        await recordAudit(tx, ctx, {
          organizationId: organization.id,
          action: 'subscription.updated',
          target: { type: 'Organization', id: organization.id, display: organization.name },
          metadata: { changes: diff },
        });
      }
      return subscriptionOf(await factsOf(tx, organization.id));
    }),
  );
}

/** usage:write. Adds credits to the workspace's organization for this month; past the limit too. */
export async function recordUsage(ctx: RequestContext, input: RecordUsageInput): Promise<Usage> {
  const key = cleanIdempotencyKey(input.idempotencyKey);
  if (!Number.isInteger(input.credits) || input.credits <= 0) throw badInput('credits', 'credits must be a positive whole number');
  return ctx.write((tx) =>
    idempotent(tx, ctx, 'recordUsage', key, Object.assign({}, input, { idempotencyKey: undefined }), async () => {
      const workspace = isUuid(input.workspaceId) ? await tx.selectOne(WorkspaceEntity, 'SELECT * FROM workspaces WHERE id = $1', [input.workspaceId]) : undefined;
      if (!workspace) throw notFound('Workspace');
      await tx.query(
        `INSERT INTO usage_periods (organization_id, period_start, credits_used)
         VALUES ($1, date_trunc('month', now() AT TIME ZONE 'UTC')::date, $2)
         ON CONFLICT (organization_id, period_start) DO UPDATE SET credits_used = usage_periods.credits_used + excluded.credits_used, updated_at = now()`,
        [workspace.organizationId, input.credits],
      );
      await recordAudit(tx, ctx, {
        organizationId: workspace.organizationId,
        action: 'usage.recorded',
        target: { type: 'Workspace', id: workspace.id, display: workspace.name },
        metadata: { credits: input.credits, idempotencyKey: key },
      });
      return usageOf(await factsOf(tx, workspace.organizationId));
    }),
  );
}
