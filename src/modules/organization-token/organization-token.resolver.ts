import { Arg, Ctx, Directive, ID, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context';
import { issueOrganizationToken } from './organization-token.service';
import { OrganizationToken } from './organization-token.types';

@Resolver(() => OrganizationToken)
export class OrganizationTokenResolver {
  @Directive('@authenticated')
  @Mutation(() => OrganizationToken, {
    description:
      'A signed statement of the viewer\'s role and permissions in the organization (and the workspace, when named), for services that check offline. Any member; a GUEST for its own workspaces only. Lifetime: ORGANIZATION_TOKEN_TTL_SECONDS.',
  })
  issueOrganizationToken(
    @Ctx() ctx: RequestContext,
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('workspaceId', () => ID, { nullable: true }) workspaceId?: string | null,
  ) {
    return issueOrganizationToken(ctx, organizationId, workspaceId ?? null);
  }
}
