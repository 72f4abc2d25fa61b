import { Field, ID, InputType, ObjectType } from 'type-graphql';
import '../../authz/authz.types';
import { Permission } from '../../authz/permissions';
import { Connection } from '../../common/connection';

@ObjectType({ simpleResolvers: true, description: 'An organization\'s API key. It belongs to the organization, not to its creator.' })
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The first characters of the secret, to recognise it by.' })
  prefix!: string;

  @Field(() => [Permission], { description: 'Its built-in permissions (permissionKeys has them all, product keys included).' })
  scopes!: Permission[];

  @Field(() => [String], { description: 'Every permission key it carries: built-in names and catalog keys (sandboxes:create).' })
  permissionKeys!: string[];

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Kept to the minute.' })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
}

export const ApiKeyConnection = Connection(ApiKey, 'ApiKey');

@ObjectType({ simpleResolvers: true })
export class CreatedApiKey {
  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field(() => String, { description: 'Shown this once: only its hash is stored. Send it as "Authorization: Bearer <secret>".' })
  secret!: string;
}

@InputType()
export class CreateApiKeyInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => ID, { nullable: true, description: 'Bind the key to one workspace; it then acts only there.' })
  workspaceId?: string | null;

  @Field(() => String)
  name!: string;

  @Field(() => [Permission], { description: 'Never more than the creator holds (in the workspace, for a bound key).' })
  scopes!: Permission[];

  @Field(() => [String], { nullable: true, description: 'More permissions by key (built-in names or catalog keys such as sandboxes:create), with the same rule; an unknown key is BAD_USER_INPUT naming it.' })
  permissionKeys?: string[] | null;

  @Field(() => Date, { nullable: true })
  expiresAt?: Date | null;
}
