import type { Config } from '../../config';
import type { Database } from '../../db/database';
import { quotaExceeded } from '../../errors';
import type { OrganizationEntity } from '../organization/organization.entity';
import { OrganizationKind } from '../organization/organization.entity';
import { PLANS } from './plans';
import { Plan } from './subscription.entity';

/** A PERSONAL organization starts on STARTER; a TEAM one on DEFAULT_TEAM_PLAN with DEFAULT_TEAM_SEATS. */
export async function startSubscription(tx: Database, config: Config, organization: OrganizationEntity): Promise<void> {
  const plan = organization.kind === OrganizationKind.PERSONAL ? Plan.STARTER : (config.env.DEFAULT_TEAM_PLAN as Plan);
  const seats = organization.kind === OrganizationKind.PERSONAL ? 1 : Math.max(config.env.DEFAULT_TEAM_SEATS, PLANS[plan].minSeats);
  await tx.query('INSERT INTO subscriptions (organization_id, plan, seats) VALUES ($1, $2, $3)', [organization.id, plan, seats]);
}

/**
 * Refuses one more workspace past the plan's limit. Call it with the organization row locked
 * (lockOrganization), so that two creations racing for the last slot are counted one after the other.
 */
export async function assertWorkspaceSlot(tx: Database, organizationId: string): Promise<void> {
  const [row] = await tx.query<{ plan: Plan; workspaces: number }>(
    `SELECT s.plan, (SELECT count(*)::int FROM workspaces w WHERE w.organization_id = s.organization_id) AS workspaces
     FROM subscriptions s WHERE s.organization_id = $1`,
    [organizationId],
  );
  const limit = row ? PLANS[row.plan].workspaceLimit : null;
  if (limit !== null && row.workspaces >= limit) {
    throw quotaExceeded(`The ${row.plan} plan allows ${limit} workspaces: upgrade the plan or delete one`);
  }
}

