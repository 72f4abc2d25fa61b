import { Directive, Field, ID, InputType, ObjectType } from 'type-graphql';

/** Owned by the accounts subgraph; this subgraph contributes organization fields to it. */
@Directive('@key(fields: "id")')
@ObjectType({ simpleResolvers: true })
export class User {
  @Field(() => ID)
  id!: string;
}

@ObjectType({ simpleResolvers: true, description: 'The person asking, and their organizations.' })
export class Viewer {
  @Field(() => ID, { description: 'The user id.' })
  id!: string;
}

@InputType()
export class ProvisionUserInput {
  @Field(() => ID, { description: 'The user id of the accounts service (the sub of its tokens).' })
  userId!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;
}
