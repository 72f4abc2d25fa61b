import { ArgsType, Field, ID, ObjectType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { PageInfo } from '../../common/connection';
import { PageArgs } from '../../common/page';

@ObjectType({ simpleResolvers: true, description: 'A change, as the feed and webhooks carry it: an audit event of an organization.' })
export class Event {
  @Field(() => ID, { description: 'The audit event\'s id, and the webhook-id of its webhooks.' })
  id!: string;

  @Field(() => String, { description: 'The audit action, e.g. member.removed (README: the event catalog).' })
  type!: string;

  @Field(() => ID)
  organizationId!: string;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => GraphQLJSON, { description: 'What a webhook\'s body carries as data: id, type, organizationId, occurredAt, actor, target, metadata.' })
  data!: Record<string, unknown>;
}

@ObjectType({ simpleResolvers: true })
export class EventEdge {
  @Field()
  cursor!: string;

  @Field(() => Event)
  node!: Event;
}

@ObjectType({ simpleResolvers: true, description: 'A page of the event feed, oldest first. Follow pageInfo.endCursor: it stays where it is while nothing new has committed.' })
export class EventConnection {
  @Field(() => [EventEdge])
  edges!: EventEdge[];

  @Field(() => [Event])
  nodes!: Event[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ArgsType()
export class EventsArgs extends PageArgs {
  @Field(() => [String], { nullable: true, description: 'Only these types; a type ending in .* is a whole family (member.*).' })
  types?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'Only this organization\'s events.' })
  organizationId?: string | null;
}
