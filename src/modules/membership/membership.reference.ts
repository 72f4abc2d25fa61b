import type { RequestContext } from '../../context';
import { visibleMembership } from './membership.service';

export const membershipReference = {
  Membership: {
    __resolveReference: (reference: { id: string }, ctx: RequestContext) => visibleMembership(ctx, reference.id),
  },
};
