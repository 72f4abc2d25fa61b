import { Directive, Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Permission, permissionsOf, sortPermissions } from '../../authz/permissions';
import type { RequestContext } from '../../context';
import { notFound } from '../../errors';
import { Organization } from '../organization/organization.types';
import { User } from '../user/user.types';
import type { MemberProfile, MembershipEntity } from './membership.entity';
import * as memberships from './membership.service';
import { Membership, UpdateMembershipInput } from './membership.types';

@Resolver(() => Membership)
export class MembershipResolver {
  @Directive('@authenticated')
  @Mutation(() => Membership, { description: 'Changes a member\'s role and/or replaces its assignments.' })
  updateMembership(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateMembershipInput) input: UpdateMembershipInput) {
    return memberships.updateMembership(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => Boolean)
  removeMember(@Ctx() ctx: RequestContext, @Arg('membershipId', () => ID) membershipId: string): Promise<boolean> {
    return memberships.removeMember(ctx, membershipId);
  }

  @Directive('@authenticated')
  @Mutation(() => Boolean)
  leaveOrganization(@Ctx() ctx: RequestContext, @Arg('organizationId', () => ID) organizationId: string): Promise<boolean> {
    return memberships.leaveOrganization(ctx, organizationId);
  }

  @FieldResolver(() => Organization)
  async organization(@Root() membership: MembershipEntity, @Ctx() ctx: RequestContext) {
    const organization = await ctx.loaders.organization.load(membership.organizationId);
    if (!organization) throw notFound('Organization');
    return organization;
  }

  @FieldResolver(() => User)
  user(@Root() membership: MembershipEntity): User {
    return { id: membership.userId };
  }

  @FieldResolver(() => String, { nullable: true, description: 'From the member\'s latest token claims.' })
  email(@Root() membership: MembershipEntity, @Ctx() ctx: RequestContext): string | null | Promise<string | null> {
    return membership.profile ? membership.profile.email : memberProfile(ctx, membership).then((user) => user.email);
  }

  @FieldResolver(() => Boolean, { description: 'Whether the accounts service verified `email` (its `email_verified` claim): an unverified address is only claimed.' })
  emailVerified(@Root() membership: MembershipEntity, @Ctx() ctx: RequestContext): boolean | Promise<boolean> {
    return membership.profile ? membership.profile.emailVerified : memberProfile(ctx, membership).then((user) => user.emailVerified);
  }

  @FieldResolver(() => String, { nullable: true, description: 'The member\'s name, else its email.' })
  displayName(@Root() membership: MembershipEntity, @Ctx() ctx: RequestContext): string | null | Promise<string | null> {
    const displayName = (user: { email: string | null; name: string | null }) => user.name ?? user.email;
    return membership.profile ? displayName(membership.profile) : memberProfile(ctx, membership).then(displayName);
  }

  @FieldResolver(() => [Permission], { description: 'The member\'s organization-wide permissions: role plus assignments plus custom roles.' })
  permissions(@Root() membership: MembershipEntity): Permission[] {
    return sortPermissions(permissionsOf(membership.role, membership.assignments, membership.rolePermissions));
  }

  @FieldResolver(() => User, { nullable: true })
  invitedBy(@Root() membership: MembershipEntity): User | null {
    return membership.invitedById ? { id: membership.invitedById } : null;
  }
}

/** The email and name of a member read without its members page, through the user loader. */
async function memberProfile(ctx: RequestContext, membership: MembershipEntity): Promise<MemberProfile> {
  const user = await ctx.loaders.user.load(membership.userId);
  return { email: user?.email ?? null, emailVerified: user?.emailVerified ?? false, name: user?.name ?? null };
}
