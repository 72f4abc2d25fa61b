import { ArgsType, Directive, Field, ID, InputType, ObjectType } from 'type-graphql';
import '../../authz/authz.types';
import { Assignment, OrganizationRole } from '../../authz/permissions';
import { Connection } from '../../common/connection';
import { PageArgs } from '../../common/page';

@Directive('@key(fields: "id")')
@ObjectType({ simpleResolvers: true, description: 'A user\'s place in an organization.' })
export class Membership {
  @Field(() => ID)
  id!: string;

  @Field(() => OrganizationRole)
  role!: OrganizationRole;

  @Field(() => [Assignment])
  assignments!: Assignment[];

  @Field(() => Date)
  joinedAt!: Date;
}

export const MembershipConnection = Connection(Membership, 'Membership');

@ArgsType()
export class MembersArgs extends PageArgs {
  @Field(() => OrganizationRole, { nullable: true })
  role?: OrganizationRole | null;

  @Field(() => String, { nullable: true, description: 'Matches the member\'s email or name, case-insensitively.' })
  search?: string | null;
}

@InputType()
export class UpdateMembershipInput {
  @Field(() => ID)
  membershipId!: string;

  @Field(() => OrganizationRole, { nullable: true })
  role?: OrganizationRole | null;

  @Field(() => [Assignment], { nullable: true, description: 'Replaces the member\'s assignments.' })
  assignments?: Assignment[] | null;

  @Field(() => [ID], { nullable: true, description: 'Replaces the member\'s custom roles (Organization.roles); none carrying a permission the caller lacks is granted or taken.' })
  roleIds?: string[] | null;
}
