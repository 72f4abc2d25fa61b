import { sortKeys } from '../../authz/effective-permissions';
import type { GraphQLResolveInfo } from 'graphql';
import { Directive, Arg, Args, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Permission, sortPermissions } from '../../authz/permissions';
import { toConnection } from '../../common/connection';
import type { RequestContext } from '../../context';
import { propertiesRead } from '../../db/selection';
import { MEMBERSHIP_READS } from '../membership/membership.loaders';
import { MembersArgs, MembershipConnection } from '../membership/membership.types';
import { membersPage } from '../membership/membership.service';
import { OrganizationRole } from '../../authz/permissions';
import type { OrganizationEntity } from './organization.entity';
import * as organizations from './organization.service';
import { CreateOrganizationInput, Organization, UpdateOrganizationInput } from './organization.types';

@Resolver(() => Organization)
export class OrganizationResolver {
  @Query(() => Organization, { nullable: true, description: 'An organization the viewer belongs to; null with NOT_FOUND otherwise.' })
  organization(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<OrganizationEntity> {
    return organizations.visibleOrganization(ctx, id);
  }

  @Query(() => Organization, { nullable: true })
  organizationBySlug(@Ctx() ctx: RequestContext, @Arg('slug', () => String) slug: string): Promise<OrganizationEntity> {
    return organizations.visibleOrganizationBySlug(ctx, slug);
  }

  @Directive('@authenticated')
  @Mutation(() => Organization, { description: 'A TEAM organization; the caller becomes its OWNER.' })
  createOrganization(@Ctx() ctx: RequestContext, @Arg('input', () => CreateOrganizationInput) input: CreateOrganizationInput) {
    return organizations.createOrganization(ctx, input);
  }

  @Mutation(() => Organization)
  updateOrganization(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateOrganizationInput) input: UpdateOrganizationInput) {
    return organizations.updateOrganization(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => Boolean, { description: 'confirmSlug must repeat the organization\'s slug.' })
  deleteOrganization(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('confirmSlug', () => String) confirmSlug: string,
  ): Promise<boolean> {
    return organizations.deleteOrganization(ctx, id, confirmSlug);
  }

  @Directive('@authenticated')
  @Mutation(() => Organization, { description: 'That member becomes OWNER, the caller ADMIN.' })
  transferOwnership(
    @Ctx() ctx: RequestContext,
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('membershipId', () => ID) membershipId: string,
  ) {
    return organizations.transferOwnership(ctx, organizationId, membershipId);
  }

  @FieldResolver(() => String, { nullable: true, description: '<slug>.<BASE_DOMAIN> when BASE_DOMAIN is set.' })
  domain(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext): string | null {
    const base = ctx.config.env.BASE_DOMAIN;
    return base ? `${organization.slug}.${base}` : null;
  }

  @FieldResolver(() => OrganizationRole, { nullable: true })
  async viewerRole(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext): Promise<OrganizationRole | null> {
    return (await ctx.loaders.access.load(organization.id))?.role ?? null;
  }

  @FieldResolver(() => [Permission], { description: 'What the viewer may do organization-wide.' })
  async viewerPermissions(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext): Promise<Permission[]> {
    const access = await ctx.loaders.access.load(organization.id);
    return access ? sortPermissions(access.permissions) : [];
  }

  @FieldResolver(() => [String], { description: 'What the viewer may do organization-wide, as permission keys: built-in names and the catalog\'s (sandboxes:create), custom roles included.' })
  async viewerPermissionKeys(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext): Promise<string[]> {
    const access = await ctx.loaders.access.load(organization.id);
    return access ? sortKeys(access.keys) : [];
  }

  @FieldResolver(() => MembershipConnection)
  async members(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext, @Args() args: MembersArgs, @Info() info: GraphQLResolveInfo) {
    const { page, filter } = membersPage(args);
    const rows = await ctx.loaders.membersPage.load({ parentId: organization.id, page, filter, properties: propertiesRead(info, MEMBERSHIP_READS) });
    return toConnection(rows, page, () => ctx.loaders.membersCount.load({ parentId: organization.id, filter }));
  }
}
