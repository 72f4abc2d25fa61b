import { Args, Ctx, Directive, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context';
import { eventFeed } from './event.service';
import { Event, EventConnection, EventsArgs } from './event.types';

@Resolver(() => Event)
export class EventResolver {
  @Directive('@requiresScopes(scopes: [["events:read"]])')
  @Query(() => EventConnection, {
    description:
      'Partner services, scope events:read: every organization\'s events, oldest first. A consumer that follows pageInfo.endCursor sees every committed event exactly once, in each organization\'s order, including one that commits after it read past it. One statement per page.',
  })
  events(@Ctx() ctx: RequestContext, @Args() args: EventsArgs) {
    return eventFeed(ctx.db, args);
  }
}
