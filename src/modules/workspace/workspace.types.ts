import { Directive, Field, ID, InputType, ObjectType } from 'type-graphql';
import '../../authz/authz.types';
import { Permission, WorkspaceRole } from '../../authz/permissions';
import { Connection } from '../../common/connection';

@Directive('@key(fields: "id")')
@ObjectType({ simpleResolvers: true, description: 'A place inside an organization where work happens; members reach it by role or assignment.' })
export class Workspace {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

export const WorkspaceConnection = Connection(Workspace, 'Workspace');

@ObjectType({ simpleResolvers: true, description: 'A member\'s assignment to a workspace.' })
export class WorkspaceAccess {
  @Field(() => WorkspaceRole, { nullable: true, description: 'The role set for this member inside this workspace, if any.' })
  roleOverride!: WorkspaceRole | null;

  @Field(() => WorkspaceRole, { description: 'The member\'s effective role inside this workspace: the override, or what its organization role gives.' })
  role!: WorkspaceRole;

  @Field(() => [Permission], { description: 'What that role allows inside this workspace.' })
  permissions!: Permission[];
}

@InputType()
export class CreateWorkspaceInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => String, { description: '1 to 100 characters, trimmed.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Unique within the organization; derived from the name when omitted.' })
  slug?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

@InputType()
export class UpdateWorkspaceInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  slug?: string | null;

  @Field(() => String, { nullable: true, description: 'An empty string clears it.' })
  description?: string | null;
}

@InputType()
export class WorkspaceAccessInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field(() => WorkspaceRole, { nullable: true })
  roleOverride?: WorkspaceRole | null;
}

@InputType()
export class SetWorkspaceAccessInput {
  @Field(() => ID)
  membershipId!: string;

  @Field(() => [WorkspaceAccessInput], { description: 'Replaces all of the member\'s assignments.' })
  workspaces!: WorkspaceAccessInput[];
}
