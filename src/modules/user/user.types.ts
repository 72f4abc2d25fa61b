import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** Owned by the accounts subgraph; this subgraph contributes organization fields to it. */
@Directive('@key(fields: "id")')
@ObjectType()
export class User {
  @Field(() => ID)
  id!: string;
}

@ObjectType({ description: 'The person asking, and their organizations.' })
export class Viewer {
  @Field(() => ID, { description: 'The user id.' })
  id!: string;
}
