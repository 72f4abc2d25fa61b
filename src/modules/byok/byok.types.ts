import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';

export enum ByokProvider {
  AWS_BEDROCK = 'AWS_BEDROCK',
}

registerEnumType(ByokProvider, { name: 'ByokProvider', description: 'Model providers whose credentials an organization can bring.' });

@ObjectType({ simpleResolvers: true, description: 'Whether the organization brought its own model-provider key. The secret never leaves the server.' })
export class ByokStatus {
  @Field(() => Boolean)
  configured!: boolean;

  @Field(() => ByokProvider, { nullable: true })
  provider!: ByokProvider | null;

  @Field(() => String, { nullable: true })
  accessKeyIdLast4!: string | null;

  @Field(() => String, { nullable: true })
  region!: string | null;

  @Field(() => Date, { nullable: true })
  updatedAt!: Date | null;
}

@ObjectType({ simpleResolvers: true, description: 'Decrypted credentials, for the partner service that calls the model provider (scope byok:read).' })
export class ByokCredentials {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => ByokProvider)
  provider!: ByokProvider;

  @Field(() => String)
  accessKeyId!: string;

  @Field(() => String)
  secretAccessKey!: string;

  @Field(() => String)
  region!: string;

  @Field(() => Date)
  updatedAt!: Date;
}

@InputType()
export class SetByokCredentialsInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => ByokProvider)
  provider!: ByokProvider;

  @Field(() => String, { description: 'AKIA… or ASIA…, 20 characters.' })
  accessKeyId!: string;

  @Field(() => String, { description: '40 characters. Stored encrypted; never shown again.' })
  secretAccessKey!: string;

  @Field(() => String, { description: 'An AWS region such as us-east-1.' })
  region!: string;
}
