import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../context';
import { notFound } from '../../errors';
import type { MembershipEntity } from '../membership/membership.entity';
import { Membership } from '../membership/membership.types';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import type { RoleEntity } from './role.entity';
import * as roles from './role.service';
import { CreateRoleInput, Role, UpdateRoleInput } from './role.types';

@Resolver(() => Role)
export class RoleResolver {
  @Directive('@authenticated')
  @Mutation(() => Role, { description: 'Needs ROLES_MANAGE and every permission it carries.' })
  createRole(@Ctx() ctx: RequestContext, @Arg('input', () => CreateRoleInput) input: CreateRoleInput) {
    return roles.createRole(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => Role, { description: 'Needs ROLES_MANAGE and every permission it carries before and after; applies to every holder at once.' })
  updateRole(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateRoleInput) input: UpdateRoleInput) {
    return roles.updateRole(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => Boolean, { description: 'Needs ROLES_MANAGE, every permission it carries, and the authority to take it from each holder; they lose it at once.' })
  deleteRole(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return roles.deleteRole(ctx, id);
  }

  @FieldResolver(() => Organization)
  async organization(@Root() role: RoleEntity, @Ctx() ctx: RequestContext) {
    const organization = await ctx.loaders.organization.load(role.organizationId);
    if (!organization) throw notFound('Organization');
    return organization;
  }

  @FieldResolver(() => Int, { description: 'Members holding it.' })
  memberCount(@Root() role: RoleEntity, @Ctx() ctx: RequestContext): Promise<number> {
    return ctx.loaders.roleMemberCount.load(role.id);
  }
}

@Resolver(() => Organization)
export class OrganizationRolesResolver {
  @FieldResolver(() => [Role], { description: 'The organization\'s custom roles, by key. Needs MEMBERS_READ.' })
  roles(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext) {
    return ctx.loaders.organizationRoles.load(organization.id);
  }
}

@Resolver(() => Membership)
export class MembershipRolesResolver {
  @FieldResolver(() => [Role], { description: 'The custom roles it holds.' })
  async roles(@Root() membership: MembershipEntity, @Ctx() ctx: RequestContext) {
    const found = await ctx.loaders.role.loadMany(membership.roleIds ?? []);
    return found.filter((role): role is RoleEntity => role !== null && !(role instanceof Error));
  }
}
