import { v7 as uuidv7 } from 'uuid';
import type { RequestContext } from '../../context';
import type { MembershipEntity } from '../membership/membership.entity';
import type { Database } from '../../db/database';
import { isUuid } from '../../common/ids';
import { seal } from '../../common/sealing';
import { cleanDescription } from '../../common/validation';
import { lockObject, lockOrganization } from '../../authz/locks';
import { ORGANIZATION_WEBHOOKS, Permission, permissionsOf } from '../../authz/permissions';
import { badInput, failedPrecondition, notFound } from '../../errors';
import { changes, recordAudit, type AuditRecord } from '../audit/audit.service';
import { parseTypeFilter, typeList } from '../event/event-types';
import { refusedHost } from './network';
import { newWebhookSecret } from './signing';
import { WebhookDeliveryEntity, WebhookDeliveryStatus, WebhookEndpointEntity } from './webhook.entity';
import type { CreateWebhookEndpointInput, UpdateWebhookEndpointInput } from './webhook.types';

/** How long the secret before a rotation keeps signing too, so that receivers can switch without losing a webhook. */
const ROTATION_OVERLAP_HOURS = 24;
const MAX_URL = 2000;

/**
 * A URL that may receive webhooks: http(s) (https in production), no credentials in it, and,
 * unless WEBHOOK_ALLOW_PRIVATE_NETWORKS, a host that resolves to public addresses only. The
 * worker checks the address again at each delivery (network.ts).
 */
async function cleanUrl(ctx: RequestContext, value: string): Promise<string> {
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput('url', 'url must be an absolute http(s) URL');
  }
  if (text.length > MAX_URL) throw badInput('url', `url must be at most ${MAX_URL} characters`);
  const { requireHttps, allowPrivateNetworks } = ctx.config.webhooks;
  if (url.protocol !== 'https:' && (requireHttps || url.protocol !== 'http:')) throw badInput('url', requireHttps ? 'url must start with https://' : 'url must start with https:// or http://');
  if (url.username || url.password) throw badInput('url', 'url may not carry a user name or password');
  if (!allowPrivateNetworks) {
    const refusal = await refusedHost(url.hostname);
    if (refusal) throw badInput('url', `url is refused: ${refusal}`);
  }
  return url.toString();
}

/**
 * What the audit log, events and logs say of a webhook URL: its origin (scheme://host[:port])
 * only. Many receivers take a secret in the path or the query, and the log reaches the event
 * feed, partners' endpoints and every holder of AUDIT_READ.
 */
const origin = (url: string): string => new URL(url).origin;

/**
 * The endpoint, locked, if the asker may manage it: for an organization's endpoint, a member
 * holding ORGANIZATION_WEBHOOKS, read afresh under the organization's lock, taken first as by
 * every write of an organization (the lock order that keeps its writes from deadlocking); for
 * a service's, the service that owns it.
 */
async function lockEndpoint(tx: Database, ctx: RequestContext, id: string, subject = 'Webhook endpoint'): Promise<WebhookEndpointEntity> {
  const principal = ctx.requirePrincipal();
  if (principal.kind === 'service') {
    const endpoint = isUuid(id) ? await tx.selectOne(WebhookEndpointEntity, 'SELECT * FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL FOR UPDATE', [id]) : undefined;
    if (!endpoint || endpoint.ownerClientId !== principal.clientId) throw notFound(subject);
    return endpoint;
  }
  const endpoint = { entity: WebhookEndpointEntity, table: 'webhook_endpoints', id, subject, where: 'deleted_at IS NULL' };
  return (await lockObject(tx, ctx, endpoint, ORGANIZATION_WEBHOOKS)).row;
}

/** An organization endpoint's changes are in its organization's audit log (and so are events); a service endpoint belongs to none, and is logged. */
async function audit(tx: Database, ctx: RequestContext, endpoint: WebhookEndpointEntity, record: Omit<AuditRecord, 'organizationId' | 'target'>): Promise<void> {
  if (endpoint.organizationId) {
    await recordAudit(tx, ctx, Object.assign({}, record, { organizationId: endpoint.organizationId, target: { type: 'WebhookEndpoint', id: endpoint.id, display: origin(endpoint.url) } }));
  } else {
    ctx.app.logger.info({ action: record.action, endpointId: endpoint.id, url: origin(endpoint.url), clientId: endpoint.ownerClientId, metadata: record.metadata }, 'service webhook endpoint changed');
  }
}

function sealSecret(ctx: RequestContext, endpointId: string, secret: string) {
  return seal(secret, ctx.config.encryptionKeys.current, `webhook:${endpointId}`);
}

export async function createWebhookEndpoint(ctx: RequestContext, input: CreateWebhookEndpointInput): Promise<{ endpoint: WebhookEndpointEntity; secret: string }> {
  const principal = ctx.requirePrincipal();
  const organizationId = input.organizationId ?? null;
  if (principal.kind === 'service' && organizationId) {
    throw badInput('organizationId', 'A partner service\'s endpoint receives every organization\'s events: leave organizationId out');
  }
  if (principal.kind !== 'service' && !organizationId) throw badInput('organizationId', 'organizationId is required');
  const eventTypes = typeList(parseTypeFilter('eventTypes', input.eventTypes));
  const description = cleanDescription('description', input.description, 500);
  const url = await cleanUrl(ctx, input.url);
  const id = uuidv7();
  const secret = newWebhookSecret();
  const sealed = sealSecret(ctx, id, secret);
  const endpoint = await ctx.write(async (tx) => {
    if (organizationId) await lockOrganization(tx, ctx, organizationId, ORGANIZATION_WEBHOOKS);
    const created = (await tx.selectOne(
      WebhookEndpointEntity,
      `INSERT INTO webhook_endpoints (id, organization_id, owner_client_id, created_by_id, url, event_types, description, key_version, secret)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [
        id,
        organizationId,
        principal.kind === 'service' ? principal.clientId : null,
        principal.kind === 'user' ? principal.userId : null,
        url,
        eventTypes,
        description,
        sealed.keyVersion,
        sealed.box,
      ],
    ))!;
    await audit(tx, ctx, created, { action: 'webhook_endpoint.created', metadata: { url: origin(url), eventTypes, description } });
    return created;
  });
  return { endpoint, secret };
}

export async function updateWebhookEndpoint(ctx: RequestContext, input: UpdateWebhookEndpointInput): Promise<WebhookEndpointEntity> {
  const url = input.url === null || input.url === undefined ? undefined : await cleanUrl(ctx, input.url);
  const eventTypes = input.eventTypes === null || input.eventTypes === undefined ? undefined : typeList(parseTypeFilter('eventTypes', input.eventTypes));
  const description = input.description === undefined ? undefined : cleanDescription('description', input.description, 500);
  const enabled = input.enabled ?? undefined;
  return ctx.write(async (tx) => {
    const endpoint = await lockEndpoint(tx, ctx, input.id);
    const diff = changes(endpoint, { url, eventTypes, description, enabled });
    if (!Object.keys(diff).length) return endpoint;
    if (diff.url) diff.url = { before: origin(endpoint.url), after: origin(url!) };
    const updated = (await tx.selectOne(
      WebhookEndpointEntity,
      `UPDATE webhook_endpoints SET url = coalesce($2, url), event_types = coalesce($3, event_types),
         description = CASE WHEN $4 THEN $5 ELSE description END, enabled = coalesce($6, enabled),
         -- Enabled again: the reason goes, and so does the failure streak that may have disabled it.
         disabled_reason = CASE WHEN $6 IS NULL THEN disabled_reason WHEN $6 THEN NULL ELSE 'Disabled by hand' END,
         failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
         updated_at = now()
       WHERE id = $1 RETURNING *`,
      [endpoint.id, url ?? null, eventTypes ?? null, description !== undefined, description ?? null, enabled ?? null],
    ))!;
    await audit(tx, ctx, updated, { action: 'webhook_endpoint.updated', metadata: { changes: diff } });
    if (enabled) ctx.afterCommit(() => ctx.app.webhooks?.nudge());
    return updated;
  });
}

/** A new secret; the previous one keeps signing for 24 hours (both signatures in webhook-signature), so that receivers switch without losing a webhook. */
export async function rotateWebhookSecret(ctx: RequestContext, id: string): Promise<{ endpoint: WebhookEndpointEntity; secret: string }> {
  const secret = newWebhookSecret();
  return ctx.write(async (tx) => {
    const endpoint = await lockEndpoint(tx, ctx, id);
    const sealed = sealSecret(ctx, endpoint.id, secret);
    const rotated = (await tx.selectOne(
      WebhookEndpointEntity,
      `UPDATE webhook_endpoints SET previous_key_version = key_version, previous_secret = secret,
         previous_secret_expires_at = now() + make_interval(hours => $4), key_version = $2, secret = $3, updated_at = now()
       WHERE id = $1 RETURNING *`,
      [endpoint.id, sealed.keyVersion, sealed.box, ROTATION_OVERLAP_HOURS],
    ))!;
    await audit(tx, ctx, rotated, { action: 'webhook_endpoint.secret_rotated', metadata: { previousSecretExpiresAt: rotated.previousSecretExpiresAt } });
    return { endpoint: rotated, secret };
  });
}

/** The endpoint and what was still to be delivered to it. */
export async function deleteWebhookEndpoint(ctx: RequestContext, id: string): Promise<boolean> {
  return ctx.write(async (tx) => {
    const endpoint = await lockEndpoint(tx, ctx, id);
    await tx.query('DELETE FROM webhook_endpoints WHERE id = $1', [endpoint.id]);
    await audit(tx, ctx, endpoint, { action: 'webhook_endpoint.deleted', metadata: { url: origin(endpoint.url), eventTypes: endpoint.eventTypes } });
    return true;
  });
}

/** A `webhook.test` event to this endpoint alone, delivered like any other. */
export async function sendTestWebhook(ctx: RequestContext, id: string): Promise<WebhookDeliveryEntity> {
  return ctx.write(async (tx) => {
    const endpoint = await lockEndpoint(tx, ctx, id);
    if (!endpoint.enabled) throw failedPrecondition('The endpoint is disabled: enable it first');
    const eventId = uuidv7();
    const occurredAt = new Date().toISOString();
    const data = { id: eventId, type: 'webhook.test', organizationId: endpoint.organizationId, occurredAt, endpointId: endpoint.id };
    const delivery = (await tx.selectOne(
      WebhookDeliveryEntity,
      `INSERT INTO webhook_deliveries (endpoint_id, organization_id, event_id, event_type, payload) VALUES ($1, $2, $3, 'webhook.test', $4) RETURNING *`,
      [endpoint.id, endpoint.organizationId, eventId, JSON.stringify(data)],
    ))!;
    await audit(tx, ctx, endpoint, { action: 'webhook_endpoint.tested', metadata: { deliveryId: delivery.id } });
    ctx.afterCommit(() => ctx.app.webhooks?.nudge());
    return delivery;
  });
}

/** One more attempt now, for a delivery that failed for good (it may take one more than it had) or is waiting for its next one. */
export async function retryWebhookDelivery(ctx: RequestContext, id: string): Promise<WebhookDeliveryEntity> {
  return ctx.write(async (tx) => {
    const found = isUuid(id) ? await tx.selectOne(WebhookDeliveryEntity, 'SELECT * FROM webhook_deliveries WHERE id = $1', [id]) : undefined;
    if (!found) throw notFound('Webhook delivery');
    const endpoint = await lockEndpoint(tx, ctx, found.endpointId, 'Webhook delivery');
    if (!endpoint.enabled) throw failedPrecondition('The endpoint is disabled: enable it first');
    if (found.status === WebhookDeliveryStatus.SUCCEEDED) throw failedPrecondition('The delivery succeeded already: send a test webhook to try the endpoint again');
    // The worker may have recorded a success since the read above: such a delivery is not sent again.
    const delivery = await tx.selectOne(
      WebhookDeliveryEntity,
      `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = now(), finished_at = NULL,
         max_attempts = CASE WHEN status = 'FAILED' THEN attempts + 1 ELSE max_attempts END
       WHERE id = $1 AND status <> 'SUCCEEDED' RETURNING *`,
      [found.id],
    );
    if (!delivery) throw failedPrecondition('The delivery succeeded already: send a test webhook to try the endpoint again');
    await audit(tx, ctx, endpoint, { action: 'webhook_delivery.retried', metadata: { deliveryId: delivery.id, eventId: delivery.eventId, eventType: delivery.eventType } });
    ctx.afterCommit(() => ctx.app.webhooks?.nudge());
    return delivery;
  });
}

/**
 * An organization's endpoint streams its audit log only while its maker may read it: when the
 * member is removed or leaves (`member` null) or no longer holds ORGANIZATION_WEBHOOKS, its
 * endpoints are disabled, audited, in the same transaction — as its API keys are revoked.
 */
export async function disableEndpointsBeyondCreator(
  tx: Database,
  ctx: RequestContext,
  organizationId: string,
  userId: string,
  member: Pick<MembershipEntity, 'role' | 'assignments' | 'rolePermissions'> | null,
): Promise<void> {
  const permissions = member ? permissionsOf(member.role, member.assignments, member.rolePermissions) : new Set<Permission>();
  if (ORGANIZATION_WEBHOOKS.every((p) => permissions.has(p))) return;
  const reason = member ? 'creator_holds_less' : 'creator_left';
  const disabled = await tx.select(
    WebhookEndpointEntity,
    `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $3, updated_at = now()
     WHERE organization_id = $1 AND created_by_id = $2 AND enabled AND deleted_at IS NULL RETURNING *`,
    [organizationId, userId, `Its creator no longer holds ${ORGANIZATION_WEBHOOKS.join(' and ')} (${reason})`],
  );
  for (const endpoint of disabled) {
    await audit(tx, ctx, endpoint, { action: 'webhook_endpoint.updated', metadata: { changes: { enabled: { before: true, after: false } }, reason } });
  }
}
