import { childCountsLoader, childPagesLoader, rowLoader, type ChildList } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { entityReader } from '../../db/entity-rows';
import { WebhookDeliveryEntity, WebhookEndpointEntity, type WebhookDeliveryStatus } from './webhook.entity';

/** An organization's endpoints, oldest first; retired ones (of a deleted organization) are nobody's to see. */
const ENDPOINTS_OF_ORGANIZATION: ChildList<null> = {
  from: 'webhook_endpoints t',
  parentColumn: 't.organization_id',
  parentType: 'uuid',
  order: 'ASC',
  where: () => ['t.deleted_at IS NULL'],
};

/** A partner service's own endpoints, by client id. */
const ENDPOINTS_OF_SERVICE: ChildList<null> = {
  from: 'webhook_endpoints t',
  parentColumn: 't.owner_client_id',
  parentType: 'text',
  order: 'ASC',
  where: () => ['t.organization_id IS NULL', 't.deleted_at IS NULL'],
};

/** An endpoint's deliveries, newest first, by status. */
const DELIVERIES_OF_ENDPOINT: ChildList<WebhookDeliveryStatus | null> = {
  from: 'webhook_deliveries t',
  parentColumn: 't.endpoint_id',
  parentType: 'uuid',
  order: 'DESC',
  throughParentIndex: true,
  where: (status, params) => (status ? [`t.status = ${params.add(status)}`] : []),
};

export const webhookLoaders = (db: Database) => ({
  webhookEndpoint: rowLoader(db, WebhookEndpointEntity, { table: 'webhook_endpoints', column: 'id', type: 'uuid', property: 'id', where: 'deleted_at IS NULL' }),
  webhookDelivery: rowLoader(db, WebhookDeliveryEntity, { table: 'webhook_deliveries', column: 'id', type: 'uuid', property: 'id' }),
  webhookEndpointsPage: childPagesLoader(db, ENDPOINTS_OF_ORGANIZATION, entityReader(WebhookEndpointEntity)),
  webhookEndpointsCount: childCountsLoader(db, ENDPOINTS_OF_ORGANIZATION),
  serviceWebhookEndpointsPage: childPagesLoader(db, ENDPOINTS_OF_SERVICE, entityReader(WebhookEndpointEntity)),
  serviceWebhookEndpointsCount: childCountsLoader(db, ENDPOINTS_OF_SERVICE),
  webhookDeliveriesPage: childPagesLoader(db, DELIVERIES_OF_ENDPOINT, entityReader(WebhookDeliveryEntity)),
  webhookDeliveriesCount: childCountsLoader(db, DELIVERIES_OF_ENDPOINT),
});
