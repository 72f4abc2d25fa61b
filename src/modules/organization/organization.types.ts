import { Directive, Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { OrganizationKind } from './organization.entity';

registerEnumType(OrganizationKind, { name: 'OrganizationKind' });

@Directive('@key(fields: "id")')
@Directive('@key(fields: "slug")')
@ObjectType({ simpleResolvers: true, description: 'A tenant: its members, workspaces, plan and audit log.' })
export class Organization {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => OrganizationKind)
  kind!: OrganizationKind;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => Boolean, { description: 'Listed by searchOrganizations, so that people can ask to join.' })
  discoverable!: boolean;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

@InputType()
export class CreateOrganizationInput {
  @Field(() => String, { description: '1 to 100 characters, trimmed.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Derived from the name when omitted.' })
  slug?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

@InputType()
export class UpdateOrganizationInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  slug?: string | null;

  @Field(() => String, { nullable: true, description: 'An empty string clears it.' })
  description?: string | null;

  @Field(() => Boolean, { nullable: true })
  discoverable?: boolean | null;
}
