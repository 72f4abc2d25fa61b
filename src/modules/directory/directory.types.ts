import { Field, ID, InputType, ObjectType } from 'type-graphql';
import '../../authz/authz.types';
import { OrganizationRole, WorkspaceRole } from '../../authz/permissions';

@ObjectType({ simpleResolvers: true, description: 'A directory\'s (Okta, Entra…) token for SCIM provisioning at /scim/v2. Needs SSO_MANAGE.' })
export class DirectoryToken {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'What the audit log names as the actor (type DIRECTORY) of its changes.' })
  name!: string;

  @Field(() => String, { description: 'The first characters of the secret, to recognise it by.' })
  prefix!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Kept to the minute.' })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType({ simpleResolvers: true })
export class CreatedDirectoryToken {
  @Field(() => DirectoryToken)
  token!: DirectoryToken;

  @Field(() => String, { description: 'Shown this once: only its hash is stored. The directory sends it as "Authorization: Bearer scim_…".' })
  secret!: string;
}

@ObjectType({ simpleResolvers: true, description: 'A SCIM Group the organization\'s directory provisioned, and what its members get here. Needs SSO_MANAGE.' })
export class DirectoryGroup {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  displayName!: string;

  @Field(() => String, { nullable: true })
  externalId!: string | null;

  @Field(() => OrganizationRole, { nullable: true, description: 'The base role its members get: the highest of their groups\' (never OWNER).' })
  role!: OrganizationRole | null;

  @Field(() => [ID], { description: 'Custom roles its members hold (Role ids).' })
  roleIds!: string[];

  @Field(() => ID, { nullable: true, description: 'A workspace its members get access to, with workspaceRole.' })
  workspaceId!: string | null;

  @Field(() => WorkspaceRole, { nullable: true })
  workspaceRole!: WorkspaceRole | null;
}

@InputType()
export class SetDirectoryGroupMappingInput {
  @Field(() => ID)
  groupId!: string;

  @Field(() => OrganizationRole, { nullable: true, description: 'Null: the group sets no base role. OWNER is refused.' })
  role?: OrganizationRole | null;

  @Field(() => [ID], { nullable: true, description: 'Custom roles its members hold; null or empty: none. Not for a GUEST.' })
  roleIds?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'Null: the group grants no workspace.' })
  workspaceId?: string | null;

  @Field(() => WorkspaceRole, { nullable: true, description: 'Required with workspaceId.' })
  workspaceRole?: WorkspaceRole | null;
}
