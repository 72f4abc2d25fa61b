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

  @Field(() => [Permission])
  scopes!: Permission[];

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

  @Field(() => Date, { nullable: true })
  expiresAt?: Date | null;
}
