import DataLoader from 'dataloader';
import type { Database } from '../../db/database';
import { isUuid } from '../../common/ids';
import { PLANS } from './plans';
import type { Plan } from './subscription.entity';
import type { Subscription, Usage } from './billing.types';

interface PlanRow {
  organization_id: string;
  plan: Plan;
  seats: number;
  active_members: number;
  members: number;
  workspaces: number;
  credits_used: string;
  period_start: Date;
}

/** One statement for any number of organizations: plan, seats, member and workspace counts, this period's credits. */
export async function planFacts(db: Database, organizationIds: readonly string[]): Promise<Map<string, PlanRow>> {
  const ids = organizationIds.filter(isUuid);
  const rows = ids.length
    ? await db.query<PlanRow>(
        `SELECT s.organization_id, s.plan, s.seats,
                -- A seat: a non-guest member not suspended by the directory, or a directory user still to sign in (active).
                (SELECT count(*)::int FROM memberships m WHERE m.organization_id = s.organization_id AND m.role <> 'GUEST' AND m.suspended_at IS NULL)
                  + (SELECT count(*)::int FROM directory_users d WHERE d.organization_id = s.organization_id AND d.membership_id IS NULL AND d.active) AS active_members,
                (SELECT count(*)::int FROM memberships m WHERE m.organization_id = s.organization_id) AS members,
                (SELECT count(*)::int FROM workspaces w WHERE w.organization_id = s.organization_id) AS workspaces,
                COALESCE((SELECT u.credits_used FROM usage_periods u
                          WHERE u.organization_id = s.organization_id AND u.period_start = date_trunc('month', now() AT TIME ZONE 'UTC')::date), 0) AS credits_used,
                date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS period_start
         FROM subscriptions s WHERE s.organization_id = ANY($1::uuid[])`,
        [ids],
      )
    : [];
  return new Map(rows.map((r) => [r.organization_id, r]));
}

export function subscriptionOf(row: PlanRow): Subscription {
  const limits = PLANS[row.plan];
  return {
    plan: row.plan,
    seats: row.seats,
    seatsUsed: row.active_members,
    minSeats: limits.minSeats,
    memberLimit: limits.memberLimit === 'seats' ? row.seats : limits.memberLimit,
    workspaceLimit: limits.workspaceLimit,
    creditsPerSeat: limits.creditsPerSeat,
    creditsLimit: row.seats * limits.creditsPerSeat,
  };
}

export function usageOf(row: PlanRow): Usage {
  return {
    creditsUsed: Number(row.credits_used),
    creditsLimit: row.seats * PLANS[row.plan].creditsPerSeat,
    members: row.members,
    workspaces: row.workspaces,
    periodStart: row.period_start,
  };
}

export const billingLoaders = (db: Database) => ({
  planFacts: new DataLoader<string, PlanRow | null>(async (ids) => {
    const facts = await planFacts(db, ids);
    return ids.map((id) => facts.get(id) ?? null);
  }),
});
