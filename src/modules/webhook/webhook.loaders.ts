import { childPageLoader, rowLoader, type SqlParams } from '../../common/pagination';
import type { Database } from '../../db/database';
import { WebhookDeliveryEntity, WebhookEndpointEntity, type WebhookDeliveryStatus } from './webhook.entity';

export const webhookLoaders = (db: Database) => ({
  // Retired endpoints (of a deleted organization) are nobody's to see.
  webhookEndpoint: rowLoader(db, WebhookEndpointEntity, { table: 'webhook_endpoints', column: 'id', type: 'uuid', property: 'id', where: 'deleted_at IS NULL' }),
  webhookDelivery: rowLoader(db, WebhookDeliveryEntity, { table: 'webhook_deliveries', column: 'id', type: 'uuid', property: 'id' }),
  webhookEndpointsPage: childPageLoader<WebhookEndpointEntity, null>(db, WebhookEndpointEntity, {
    from: 'webhook_endpoints t',
    parentColumn: 't.organization_id',
    parentType: 'uuid',
    order: 'ASC',
    where: () => ['t.deleted_at IS NULL'],
  }),
  /** A partner service's own endpoints, by client id. */
  serviceWebhookEndpointsPage: childPageLoader<WebhookEndpointEntity, null>(db, WebhookEndpointEntity, {
    from: 'webhook_endpoints t',
    parentColumn: 't.owner_client_id',
    parentType: 'text',
    order: 'ASC',
    where: () => ['t.organization_id IS NULL', 't.deleted_at IS NULL'],
  }),
  webhookDeliveriesPage: childPageLoader<WebhookDeliveryEntity, WebhookDeliveryStatus | null>(db, WebhookDeliveryEntity, {
    from: 'webhook_deliveries t',
    parentColumn: 't.endpoint_id',
    parentType: 'uuid',
    order: 'DESC',
    skewed: true,
    where: (status: WebhookDeliveryStatus | null, params: SqlParams) => (status ? [`t.status = ${params.add(status)}`] : []),
  }),
});
