import { Directive, Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { OrganizationRole } from '../../authz/permissions';
import type { RequestContext } from '../../context';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import { User, Viewer } from '../user/user.types';
import type { JoinRequestEntity } from './join-request.entity';
import * as joinRequests from './join-request.service';
import { JoinRequest, JoinRequestConnection, JoinRequestsArgs, OrganizationSearchResult, SearchOrganizationsArgs } from './join-request.types';

@Resolver(() => JoinRequest)
export class JoinRequestResolver {
  @Directive('@authenticated')
  @Query(() => [OrganizationSearchResult], { description: 'Discoverable TEAM organizations by name or slug: id, slug and name only.' })
  searchOrganizations(@Ctx() ctx: RequestContext, @Args() args: SearchOrganizationsArgs) {
    return joinRequests.searchOrganizations(ctx, args);
  }

  @Directive('@authenticated')
  @Mutation(() => JoinRequest, { description: 'Ask to join a discoverable organization.' })
  requestToJoin(
    @Ctx() ctx: RequestContext,
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('message', () => String, { nullable: true }) message?: string | null,
  ) {
    return joinRequests.requestToJoin(ctx, organizationId, message);
  }

  @Directive('@authenticated')
  @Mutation(() => JoinRequest, { description: 'Needs MEMBERS_INVITE; the role defaults to VIEWER.' })
  approveJoinRequest(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('role', () => OrganizationRole, { nullable: true }) role?: OrganizationRole | null,
  ) {
    return joinRequests.approveJoinRequest(ctx, id, role);
  }

  @Directive('@authenticated')
  @Mutation(() => JoinRequest)
  denyJoinRequest(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return joinRequests.denyJoinRequest(ctx, id);
  }

  @Directive('@authenticated')
  @Mutation(() => JoinRequest, { description: 'The requester withdraws it.' })
  cancelJoinRequest(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return joinRequests.cancelJoinRequest(ctx, id);
  }

  @FieldResolver(() => Organization)
  organization(@Root() request: JoinRequestEntity, @Ctx() ctx: RequestContext) {
    return ctx.loaders.organization.load(request.organizationId);
  }

  @FieldResolver(() => User)
  user(@Root() request: JoinRequestEntity): User {
    return { id: request.userId };
  }

  @FieldResolver(() => String, { nullable: true })
  async email(@Root() request: JoinRequestEntity, @Ctx() ctx: RequestContext): Promise<string | null> {
    return (await ctx.loaders.user.load(request.userId))?.email ?? null;
  }

  @FieldResolver(() => Boolean, { description: 'Whether the accounts service verified the requester\'s `email`: look before approving.' })
  async emailVerified(@Root() request: JoinRequestEntity, @Ctx() ctx: RequestContext): Promise<boolean> {
    return (await ctx.loaders.user.load(request.userId))?.emailVerified ?? false;
  }

  @FieldResolver(() => User, { nullable: true })
  decidedBy(@Root() request: JoinRequestEntity): User | null {
    return request.decidedById ? { id: request.decidedById } : null;
  }
}

@Resolver(() => Organization)
export class OrganizationJoinRequestsResolver {
  @FieldResolver(() => JoinRequestConnection, { description: 'Newest first. Needs MEMBERS_INVITE.' })
  joinRequests(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext, @Args() args: JoinRequestsArgs) {
    return joinRequests.organizationJoinRequests(ctx, organization.id, args);
  }
}

@Resolver(() => Viewer)
export class ViewerJoinRequestsResolver {
  @FieldResolver(() => [JoinRequest], { description: 'The viewer\'s own requests, newest first.' })
  joinRequests(@Root() viewer: Viewer, @Ctx() ctx: RequestContext) {
    return joinRequests.viewerJoinRequests(ctx, viewer.id);
  }
}
