import { Directive, Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../context';
import { notFound } from '../../errors';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import { subscriptionOf, usageOf } from './billing.loaders';
import { RecordUsageInput, Subscription, UpdateSubscriptionInput, Usage } from './billing.types';
import * as billing from './subscription.service';

@Resolver(() => Organization)
export class OrganizationBillingResolver {
  @FieldResolver(() => Subscription, { description: 'Needs BILLING_READ.' })
  async subscription(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext): Promise<Subscription> {
    const facts = await ctx.loaders.planFacts.load(organization.id);
    if (!facts) throw notFound('Subscription');
    return subscriptionOf(facts);
  }

  @FieldResolver(() => Usage, { description: 'Needs BILLING_READ.' })
  async usage(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext): Promise<Usage> {
    const facts = await ctx.loaders.planFacts.load(organization.id);
    if (!facts) throw notFound('Subscription');
    return usageOf(facts);
  }
}

@Resolver(() => Subscription)
export class BillingResolver {
  @Directive('@requiresScopes(scopes: [["billing:write"]])')
  @Mutation(() => Subscription, { description: 'Partner services, scope billing:write. Idempotent under retry.' })
  updateSubscription(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateSubscriptionInput) input: UpdateSubscriptionInput) {
    return billing.updateSubscription(ctx, input);
  }

  @Directive('@requiresScopes(scopes: [["usage:write"]])')
  @Mutation(() => Usage, { description: 'Partner services, scope usage:write. Idempotent under retry.' })
  recordUsage(@Ctx() ctx: RequestContext, @Arg('input', () => RecordUsageInput) input: RecordUsageInput) {
    return billing.recordUsage(ctx, input);
  }
}
