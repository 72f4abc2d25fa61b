import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../../common/connection';
import { PageArgs } from '../../common/page';
import { WebhookDeliveryStatus } from './webhook.entity';

registerEnumType(WebhookDeliveryStatus, { name: 'WebhookDeliveryStatus' });

@ObjectType({ simpleResolvers: true, description: 'Where an organization\'s events (or, for a partner service\'s endpoint, every organization\'s) are sent, signed as Standard Webhooks specifies.' })
export class WebhookEndpoint {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  url!: string;

  @Field(() => [String], { description: 'The event types sent; empty: every type; a type ending in .* a whole family.' })
  eventTypes!: string[];

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => String, { nullable: true, description: 'Why the endpoint was disabled: 410 Gone, days of failures, or by hand.' })
  disabledReason!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Since when every delivery has failed; null while they succeed.' })
  failingSince!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Until when the secret before the last rotation still signs too.' })
  previousSecretExpiresAt!: Date | null;
}

@ObjectType({ simpleResolvers: true, description: 'One event sent to one endpoint, with its attempts.' })
export class WebhookDelivery {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: 'The event\'s id: the webhook-id header, the same on every attempt.' })
  eventId!: string;

  @Field(() => String)
  eventType!: string;

  @Field(() => WebhookDeliveryStatus)
  status!: WebhookDeliveryStatus;

  @Field(() => Int)
  attempts!: number;

  @Field(() => Date, { nullable: true })
  lastAttemptAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the next attempt is due; null once the delivery succeeded or failed for good.' })
  nextAttemptAt!: Date | null;

  @Field(() => Int, { nullable: true, description: 'The receiver\'s HTTP status at the last attempt.' })
  responseStatus!: number | null;

  @Field(() => String, { nullable: true, description: 'The first 200 characters of the receiver\'s last answer; never more.' })
  responseExcerpt!: string | null;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType({ simpleResolvers: true })
export class CreatedWebhookEndpoint {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field(() => String, { description: 'whsec_…: shown this once. Verify every webhook with it (a Standard Webhooks library).' })
  secret!: string;
}

export const WebhookEndpointConnection = Connection(WebhookEndpoint, 'WebhookEndpoint');
export const WebhookDeliveryConnection = Connection(WebhookDelivery, 'WebhookDelivery');

@ArgsType()
export class WebhookDeliveriesArgs extends PageArgs {
  @Field(() => WebhookDeliveryStatus, { nullable: true })
  status?: WebhookDeliveryStatus | null;
}

@InputType()
export class CreateWebhookEndpointInput {
  @Field(() => ID, { nullable: true, description: 'The organization whose events are sent. A partner service leaves it out: its endpoint gets every organization\'s events.' })
  organizationId?: string | null;

  @Field(() => String, { description: 'https in production; never a loopback, private, link-local or metadata address unless WEBHOOK_ALLOW_PRIVATE_NETWORKS.' })
  url!: string;

  @Field(() => [String], { nullable: true, description: 'Empty or left out: every type; member.* a whole family.' })
  eventTypes?: string[] | null;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

@InputType()
export class UpdateWebhookEndpointInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => [String], { nullable: true })
  eventTypes?: string[] | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'true enables a disabled endpoint again: what waited for it is delivered.' })
  enabled?: boolean | null;
}
