import type { RequestContext } from '../../context';
import { visibleWorkspace } from './workspace.service';

export const workspaceReference = {
  Workspace: {
    __resolveReference: async (reference: { id: string }, ctx: RequestContext) => (await visibleWorkspace(ctx, reference.id)).workspace,
  },
};
