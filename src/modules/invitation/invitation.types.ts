import { ArgsType, Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import '../../authz/authz.types';
import { Assignment, OrganizationRole } from '../../authz/permissions';
import { Connection } from '../../common/connection';
import { PageArgs } from '../../common/page';
import { InvitationStatus } from './invitation.entity';

registerEnumType(InvitationStatus, { name: 'InvitationStatus' });

@Directive('@key(fields: "id")')
@ObjectType({ simpleResolvers: true, description: 'An invitation to join an organization, sent by email.' })
export class Invitation {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => OrganizationRole)
  role!: OrganizationRole;

  @Field(() => [Assignment])
  assignments!: Assignment[];

  @Field(() => [ID], { description: 'Custom roles it grants on acceptance.' })
  roleIds!: string[];

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => Date)
  lastSentAt!: Date;

  @Field(() => Int)
  sendCount!: number;
}

export const InvitationConnection = Connection(Invitation, 'Invitation');

@ArgsType()
export class InvitationsArgs extends PageArgs {
  @Field(() => InvitationStatus, { nullable: true })
  status?: InvitationStatus | null;
}

@ObjectType({ simpleResolvers: true, description: 'What the holder of an invitation link sees before accepting, and nothing else.' })
export class InvitationPreview {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The address the invitation is for: only its owner can accept.' })
  email!: string;

  @Field(() => OrganizationRole)
  role!: OrganizationRole;

  @Field(() => InvitationStatus)
  status!: InvitationStatus;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => String)
  organizationName!: string;

  @Field(() => String, { nullable: true })
  inviterName!: string | null;

  @Field(() => Boolean, { description: "The organization requires signing in through its identity provider (SSO): the invitee must come through it once a member." })
  ssoRequired!: boolean;
}

@InputType()
export class InviteMembersInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => [String], { description: '1 to 10 addresses; trimmed, lower-cased, duplicates counted once.' })
  emails!: string[];

  @Field(() => OrganizationRole, { nullable: true, description: 'VIEWER when omitted.' })
  role?: OrganizationRole | null;

  @Field(() => [Assignment], { nullable: true })
  assignments?: Assignment[] | null;

  @Field(() => [ID], { nullable: true, description: 'Workspaces the new member is assigned to on acceptance.' })
  workspaceIds?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Custom roles granted on acceptance (none carrying a permission the inviter lacks).' })
  roleIds?: string[] | null;
}
