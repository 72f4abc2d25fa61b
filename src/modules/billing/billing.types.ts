import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { Plan } from './subscription.entity';

registerEnumType(Plan, { name: 'Plan' });

@ObjectType({ simpleResolvers: true, description: 'An organization\'s plan and seats.' })
export class Subscription {
  @Field(() => Plan)
  plan!: Plan;

  @Field(() => Int)
  seats!: number;

  @Field(() => Int, { description: 'Active members: every role but GUEST.' })
  seatsUsed!: number;

  @Field(() => Int)
  minSeats!: number;

  @Field(() => Int, { description: 'Active members allowed: 1 on STARTER, else the seats bought.' })
  memberLimit!: number;

  @Field(() => Int, { nullable: true, description: 'Null: unlimited.' })
  workspaceLimit!: number | null;

  @Field(() => Int)
  creditsPerSeat!: number;

  @Field(() => GraphQLSafeInt, { description: 'seats × creditsPerSeat.' })
  creditsLimit!: number;
}

@ObjectType({ simpleResolvers: true, description: 'What an organization used in the current monthly period (UTC).' })
export class Usage {
  @Field(() => GraphQLSafeInt, { description: 'May exceed creditsLimit: usage is never dropped.' })
  creditsUsed!: number;

  @Field(() => GraphQLSafeInt)
  creditsLimit!: number;

  @Field(() => Int, { description: 'All members, guests included.' })
  members!: number;

  @Field(() => Int)
  workspaces!: number;

  @Field(() => Date)
  periodStart!: Date;
}

@InputType()
export class UpdateSubscriptionInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => Plan)
  plan!: Plan;

  @Field(() => Int)
  seats!: number;

  @Field(() => String, { description: 'Retries with the same key and input apply once.' })
  idempotencyKey!: string;
}

@InputType()
export class RecordUsageInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field(() => Int, { description: 'Positive.' })
  credits!: number;

  @Field(() => String)
  idempotencyKey!: string;
}
