import { Directive, Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../context';
import { Membership } from '../membership/membership.types';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import { User, Viewer } from '../user/user.types';
import type { WorkspaceEntity } from '../workspace/workspace.entity';
import { Workspace } from '../workspace/workspace.types';
import { InvitationEntity, InvitationStatus } from './invitation.entity';
import * as invitee from './invitation.invitee';
import * as invitations from './invitation.service';
import { Invitation, InvitationConnection, InvitationPreview, InvitationsArgs, InviteMembersInput } from './invitation.types';

@Resolver(() => Invitation)
export class InvitationResolver {
  @Query(() => InvitationPreview, { nullable: true, description: 'What the holder of an invitation link sees before accepting. No sign-in needed.' })
  invitation(@Ctx() ctx: RequestContext, @Arg('token', () => String) token: string) {
    return invitee.previewInvitation(ctx, token);
  }

  @Directive('@authenticated')
  @Mutation(() => [Invitation], { description: 'Needs MEMBERS_INVITE. All or nothing.' })
  inviteMembers(@Ctx() ctx: RequestContext, @Arg('input', () => InviteMembersInput) input: InviteMembersInput) {
    return invitations.inviteMembers(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => Invitation, { description: 'A new link (the old one stops working) and a renewed expiry; at most 5 sends in 24 hours.' })
  resendInvitation(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return invitations.resendInvitation(ctx, id);
  }

  @Directive('@authenticated')
  @Mutation(() => Invitation)
  cancelInvitation(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return invitations.cancelInvitation(ctx, id);
  }

  @Directive('@authenticated')
  @Mutation(() => Membership, { description: 'By the token of the link, or the id of one of viewer.pendingInvitations. Needs the invited, verified email.' })
  acceptInvitation(
    @Ctx() ctx: RequestContext,
    @Arg('token', () => String, { nullable: true }) token?: string | null,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
  ) {
    return invitee.acceptInvitation(ctx, token, id);
  }

  @Directive('@authenticated')
  @Mutation(() => Invitation)
  declineInvitation(
    @Ctx() ctx: RequestContext,
    @Arg('token', () => String, { nullable: true }) token?: string | null,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
  ) {
    return invitee.declineInvitation(ctx, token, id);
  }

  @FieldResolver(() => InvitationStatus)
  status(@Root() invitation: InvitationEntity): InvitationStatus {
    return invitations.statusOf(invitation);
  }

  @FieldResolver(() => Organization)
  organization(@Root() invitation: InvitationEntity, @Ctx() ctx: RequestContext) {
    return ctx.loaders.organization.load(invitation.organizationId);
  }

  @FieldResolver(() => [Workspace], { description: 'Those the viewer may see.' })
  async workspaces(@Root() invitation: InvitationEntity, @Ctx() ctx: RequestContext): Promise<WorkspaceEntity[]> {
    const views = await ctx.loaders.workspaceView.loadMany(invitation.workspaceIds);
    return views.flatMap((view) => (view && !(view instanceof Error) ? [view.workspace] : []));
  }

  @FieldResolver(() => User, { nullable: true })
  invitedBy(@Root() invitation: InvitationEntity): User | null {
    return invitation.invitedById ? { id: invitation.invitedById } : null;
  }
}

@Resolver(() => Organization)
export class OrganizationInvitationsResolver {
  @FieldResolver(() => InvitationConnection, { description: 'Newest first. Needs MEMBERS_INVITE.' })
  invitations(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext, @Args() args: InvitationsArgs) {
    return invitations.organizationInvitations(ctx, organization.id, args);
  }
}

@Resolver(() => Viewer)
export class ViewerInvitationsResolver {
  @FieldResolver(() => [Invitation], { description: 'Pending invitations to the viewer\'s verified email address.' })
  pendingInvitations(@Root() viewer: Viewer, @Ctx() ctx: RequestContext) {
    return invitee.pendingInvitations(ctx, viewer.id);
  }
}

@Resolver(() => User)
export class UserInvitationsResolver {
  @FieldResolver(() => [Invitation], { description: 'Only for the viewer themself.' })
  pendingInvitations(@Root() user: User, @Ctx() ctx: RequestContext) {
    return invitee.pendingInvitations(ctx, user.id);
  }
}
