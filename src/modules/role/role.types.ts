import { Field, ID, InputType, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'An organization\'s custom role: permission keys its holders hold on top of their role and assignments.' })
export class Role {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'Unique in the organization: lower-case letters, digits and hyphens (sandbox-operators).' })
  key!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [String], { description: 'Permission keys: built-in names (MEMBERS_INVITE) and catalog keys (sandboxes:create).' })
  permissions!: string[];

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

@InputType()
export class CreateRoleInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => String)
  key!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => [String], { description: 'Permission keys, none the creator lacks; never ORGANIZATION_DELETE or OWNERSHIP_TRANSFER.' })
  permissions!: string[];
}

@InputType()
export class UpdateRoleInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'Empty: none.' })
  description?: string | null;

  @Field(() => [String], { nullable: true, description: 'Replaces its permissions; every holder has the new ones at once.' })
  permissions?: string[] | null;
}

