import { Arg, Args, Ctx, Directive, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { toConnection } from '../../common/connection';
import { PageArgs, toPage } from '../../common/page';
import type { RequestContext } from '../../context';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import type { WebhookDeliveryEntity, WebhookEndpointEntity } from './webhook.entity';
import { WebhookDeliveryStatus } from './webhook.entity';
import * as webhooks from './webhook.service';
import {
  CreatedWebhookEndpoint,
  CreateWebhookEndpointInput,
  UpdateWebhookEndpointInput,
  WebhookDeliveriesArgs,
  WebhookDelivery,
  WebhookDeliveryConnection,
  WebhookEndpoint,
  WebhookEndpointConnection,
} from './webhook.types';

@Resolver(() => WebhookEndpoint)
export class WebhookEndpointResolver {
  @Directive('@authenticated')
  @Mutation(() => CreatedWebhookEndpoint, { description: 'Needs WEBHOOKS_MANAGE and AUDIT_READ in the organization (its events are its audit log); a partner service (webhooks:manage) leaves organizationId out and gets every organization\'s events. The secret is in the answer, this once.' })
  createWebhookEndpoint(@Ctx() ctx: RequestContext, @Arg('input', () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput) {
    return webhooks.createWebhookEndpoint(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => WebhookEndpoint)
  updateWebhookEndpoint(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput) {
    return webhooks.updateWebhookEndpoint(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => CreatedWebhookEndpoint, { description: 'A new secret; the previous one keeps signing for 24 hours too.' })
  rotateWebhookSecret(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return webhooks.rotateWebhookSecret(ctx, id);
  }

  @Directive('@authenticated')
  @Mutation(() => Boolean, { description: 'The endpoint, and what was still to be delivered to it.' })
  deleteWebhookEndpoint(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return webhooks.deleteWebhookEndpoint(ctx, id);
  }

  @Directive('@authenticated')
  @Mutation(() => WebhookDelivery, { description: 'Sends a webhook.test event to this endpoint.' })
  sendTestWebhook(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return webhooks.sendTestWebhook(ctx, id);
  }

  @Directive('@authenticated')
  @Mutation(() => WebhookDelivery, { description: 'One more attempt now.' })
  retryWebhookDelivery(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return webhooks.retryWebhookDelivery(ctx, id);
  }

  @Directive('@requiresScopes(scopes: [["webhooks:manage"]])')
  @Query(() => WebhookEndpointConnection, { description: 'Partner services, scope webhooks:manage: their own endpoints (those receiving every organization\'s events).' })
  async webhookEndpoints(@Ctx() ctx: RequestContext, @Args() args: PageArgs) {
    const clientId = ctx.principal?.kind === 'service' ? ctx.principal.clientId : '';
    const page = toPage(args);
    const rows = await ctx.loaders.serviceWebhookEndpointsPage.load({ parentId: clientId, page, filter: null });
    return toConnection(rows, page, () => ctx.loaders.serviceWebhookEndpointsCount.load({ parentId: clientId, filter: null }));
  }

  @FieldResolver(() => Organization, { nullable: true, description: 'Null for a partner service\'s endpoint.' })
  organization(@Root() endpoint: WebhookEndpointEntity, @Ctx() ctx: RequestContext) {
    return endpoint.organizationId ? ctx.loaders.organization.load(endpoint.organizationId) : null;
  }

  @FieldResolver(() => WebhookDeliveryConnection, { description: 'Newest first.' })
  async deliveries(@Root() endpoint: WebhookEndpointEntity, @Ctx() ctx: RequestContext, @Args() args: WebhookDeliveriesArgs) {
    const page = toPage(args);
    const status = args.status ?? null;
    const rows = await ctx.loaders.webhookDeliveriesPage.load({ parentId: endpoint.id, page, filter: status });
    return toConnection(rows, page, () => ctx.loaders.webhookDeliveriesCount.load({ parentId: endpoint.id, filter: status }));
  }
}

@Resolver(() => WebhookDelivery)
export class WebhookDeliveryResolver {
  @FieldResolver(() => Date, { nullable: true })
  nextAttemptAt(@Root() delivery: WebhookDeliveryEntity): Date | null {
    return delivery.status === WebhookDeliveryStatus.PENDING ? delivery.nextAttemptAt : null;
  }
}

@Resolver(() => Organization)
export class OrganizationWebhooksResolver {
  @FieldResolver(() => WebhookEndpointConnection, { description: 'Needs WEBHOOKS_MANAGE and AUDIT_READ.' })
  async webhookEndpoints(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext, @Args() args: PageArgs) {
    const page = toPage(args);
    const rows = await ctx.loaders.webhookEndpointsPage.load({ parentId: organization.id, page, filter: null });
    return toConnection(rows, page, () => ctx.loaders.webhookEndpointsCount.load({ parentId: organization.id, filter: null }));
  }
}
