import { childPagesLoader, rowLoader } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { entityReader } from '../../db/entity-rows';
import type { SqlParams } from '../../db/sql-params';
import { WebhookDeliveryEntity, WebhookEndpointEntity, type WebhookDeliveryStatus } from './webhook.entity';

export const webhookLoaders = (db: Database) => ({
  // Retired endpoints (of a deleted organization) are nobody's to see.
  webhookEndpoint: rowLoader(db, WebhookEndpointEntity, { table: 'webhook_endpoints', column: 'id', type: 'uuid', property: 'id', where: 'deleted_at IS NULL' }),
  webhookDelivery: rowLoader(db, WebhookDeliveryEntity, { table: 'webhook_deliveries', column: 'id', type: 'uuid', property: 'id' }),
  webhookEndpointsPage: childPagesLoader<WebhookEndpointEntity, null>(db, {
    from: 'webhook_endpoints t',
    parentColumn: 't.organization_id',
    parentType: 'uuid',
    order: 'ASC',
    where: () => ['t.deleted_at IS NULL'],
  }, entityReader(WebhookEndpointEntity)),
  /** A partner service's own endpoints, by client id. */
  serviceWebhookEndpointsPage: childPagesLoader<WebhookEndpointEntity, null>(db, {
    from: 'webhook_endpoints t',
    parentColumn: 't.owner_client_id',
    parentType: 'text',
    order: 'ASC',
    where: () => ['t.organization_id IS NULL', 't.deleted_at IS NULL'],
  }, entityReader(WebhookEndpointEntity)),
  webhookDeliveriesPage: childPagesLoader<WebhookDeliveryEntity, WebhookDeliveryStatus | null>(db, {
    from: 'webhook_deliveries t',
    parentColumn: 't.endpoint_id',
    parentType: 'uuid',
    order: 'DESC',
    throughParentIndex: true,
    where: (status: WebhookDeliveryStatus | null, params: SqlParams) => (status ? [`t.status = ${params.add(status)}`] : []),
  }, entityReader(WebhookDeliveryEntity)),
});
