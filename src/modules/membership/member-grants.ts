import type { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { revokeKeysBeyondCreator } from '../api-key/api-key.service';
import { disableEndpointsBeyondCreator } from '../webhook/webhook.service';
import type { MembershipEntity } from './membership.entity';

/**
 * What a member made that acts with its authority follows that authority: its API keys and its
 * organization's webhook endpoints. Every write that removes a member (`member` null) or lowers
 * what it holds calls this, in its own transaction, before the member's row goes.
 */
export async function withdrawWhatMemberNoLongerGrants(
  tx: Database,
  ctx: RequestContext,
  organizationId: string,
  userId: string,
  member: Pick<MembershipEntity, 'id' | 'role' | 'assignments' | 'rolePermissions'> | null,
): Promise<void> {
  await revokeKeysBeyondCreator(tx, ctx, organizationId, userId, member);
  await disableEndpointsBeyondCreator(tx, ctx, organizationId, userId, member);
}
