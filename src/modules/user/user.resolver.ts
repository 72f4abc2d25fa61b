import { Directive, Args, Ctx, FieldResolver, ID, Arg, Mutation, Query, Resolver, Root } from 'type-graphql';
import { PageArgs } from '../../common/page';
import type { RequestContext } from '../../context';
import { userMemberships } from '../membership/membership.service';
import { MembershipConnection } from '../membership/membership.types';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import * as users from './user.service';
import { ProvisionUserInput, User, Viewer } from './user.types';

@Resolver(() => Viewer)
export class ViewerResolver {
  @Directive('@authenticated')
  @Query(() => Viewer, { description: 'The person asking.' })
  viewer(@Ctx() ctx: RequestContext): Viewer {
    return { id: ctx.requireUser().userId };
  }

  @Directive('@authenticated')
  @Mutation(() => Viewer, { description: 'Remembers the organization the viewer works in, across sessions.' })
  async switchOrganization(@Ctx() ctx: RequestContext, @Arg('organizationId', () => ID) organizationId: string): Promise<Viewer> {
    await users.switchOrganization(ctx, organizationId);
    return { id: ctx.requireUser().userId };
  }

  @FieldResolver(() => User)
  user(@Root() viewer: Viewer): User {
    return { id: viewer.id };
  }

  @FieldResolver(() => Organization)
  personalOrganization(@Root() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<OrganizationEntity> {
    return users.personalOrganization(ctx, viewer.id);
  }

  @FieldResolver(() => Organization, { nullable: true, description: 'The last organization switched to, else the personal one.' })
  activeOrganization(@Root() viewer: Viewer, @Ctx() ctx: RequestContext): Promise<OrganizationEntity> {
    return users.activeOrganization(ctx, viewer.id);
  }

  @FieldResolver(() => MembershipConnection)
  memberships(@Root() viewer: Viewer, @Ctx() ctx: RequestContext, @Args() args: PageArgs) {
    return userMemberships(ctx, viewer.id, args);
  }
}

@Resolver(() => Organization)
export class ProvisionUserResolver {
  @Directive('@requiresScopes(scopes: [["users:provision"]])')
  @Mutation(() => Organization, { description: 'Partner services, scope users:provision: the user\'s personal organization, created once.' })
  provisionUser(@Ctx() ctx: RequestContext, @Arg('input', () => ProvisionUserInput) input: ProvisionUserInput) {
    return users.provisionUser(ctx, input);
  }
}

/** Fields this subgraph contributes to the accounts subgraph's User. */
@Resolver(() => User)
export class UserResolver {
  @FieldResolver(() => MembershipConnection, { description: 'All of them for the viewer; of others, those in organizations where the viewer can read members.' })
  memberships(@Root() user: User, @Ctx() ctx: RequestContext, @Args() args: PageArgs) {
    return userMemberships(ctx, user.id, args);
  }

  @FieldResolver(() => [Organization], { description: 'Up to 100, in the order joined; page through memberships for more.' })
  async organizations(@Root() user: User, @Ctx() ctx: RequestContext): Promise<OrganizationEntity[]> {
    const { nodes } = await userMemberships(ctx, user.id, { first: 100 });
    const organizations = await ctx.loaders.organization.loadMany(nodes.map((m) => m.organizationId));
    return organizations.filter((o): o is OrganizationEntity => o !== null && !(o instanceof Error));
  }

  @FieldResolver(() => Organization, { nullable: true, description: 'Only for the viewer themself.' })
  personalOrganization(@Root() user: User, @Ctx() ctx: RequestContext): Promise<OrganizationEntity> | null {
    return isViewer(ctx, user) ? users.personalOrganization(ctx, user.id) : null;
  }

  @FieldResolver(() => Organization, { nullable: true, description: 'Only for the viewer themself.' })
  activeOrganization(@Root() user: User, @Ctx() ctx: RequestContext): Promise<OrganizationEntity> | null {
    return isViewer(ctx, user) ? users.activeOrganization(ctx, user.id) : null;
  }
}

const isViewer = (ctx: RequestContext, user: User) => ctx.principal?.kind === 'user' && ctx.principal.userId === user.id;
