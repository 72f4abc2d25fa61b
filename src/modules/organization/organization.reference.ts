import type { RequestContext } from '../../context';
import { visibleOrganization, visibleOrganizationBySlug } from './organization.service';

/** `_entities` for Organization by either key, under the same authorization as a direct query. */
export const organizationReference = {
  Organization: {
    __resolveReference: (reference: { id?: string; slug?: string }, ctx: RequestContext) =>
      reference.id !== undefined ? visibleOrganization(ctx, reference.id) : visibleOrganizationBySlug(ctx, reference.slug ?? ''),
  },
};
