import type { RequestContext } from '../../context';
import { visibleInvitation } from './invitation.service';

export const invitationReference = {
  Invitation: {
    __resolveReference: (reference: { id: string }, ctx: RequestContext) => visibleInvitation(ctx, reference.id),
  },
};
