import type { Config } from '../../config';
import type { Database } from '../../db/database';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics';
import { claimDue, OutboxWorker, releaseLeases, retryDelay, type OutboxTable } from '../../common/outbox';
import { open, sealingKeys } from '../../common/sealing';
import { postWebhook, storable, type Attempt } from './sender';
import { signatureHeader } from './signing';

interface Claimed {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** With this attempt: the claim counted it. */
  attempts: number;
  max_attempts: number | null;
}

interface Target {
  type: string;
  url: string;
  key_version: string;
  secret: string;
  previous_key_version: string | null;
  previous_secret: string | null;
  previous_valid: boolean;
  data: Record<string, unknown> | null;
  occurred_at: Date | null;
}

/** Retry-After is honoured up to this: a receiver cannot park a delivery for longer. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
/** Rows a retention statement deletes at most (purge). */
const PURGE_BATCH = 1000;

/**
 * Delivers webhooks (API.md, Events) through the shared outbox worker (src/common/outbox.ts):
 * each process claims due deliveries with FOR UPDATE SKIP LOCKED, at most
 * WEBHOOK_ENDPOINT_CONCURRENCY at once per endpoint, so that one slow endpoint never takes the
 * room of the others. Standard Webhooks: webhook-id (the event id, the same on every retry),
 * webhook-timestamp and webhook-signature headers; body { type, timestamp, data }; any 2xx is
 * success; failures retry on WEBHOOK_RETRY_SCHEDULE with jitter, never sooner than Retry-After;
 * 410 Gone disables the endpoint, and so do WEBHOOK_DISABLE_AFTER_HOURS of failures only.
 */
export class WebhookWorker {
  private readonly worker: OutboxWorker<Claimed>;
  private readonly perEndpoint = new Map<string, number>();
  private readonly outbox: OutboxTable;

  constructor(
    private readonly db: Database,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.outbox = { table: 'webhook_deliveries', pending: `status = 'PENDING'`, leaseMs: config.env.WEBHOOK_TIMEOUT_MS + 30_000 };
    this.worker = new OutboxWorker<Claimed>({
      name: 'webhook',
      logger,
      pollIntervalMs: config.env.WEBHOOK_POLL_INTERVAL_MS,
      concurrency: config.env.WEBHOOK_CONCURRENCY,
      claim: (limit) =>
        claimDue<Claimed>(db, this.outbox, {
          limit,
          // A disabled endpoint's deliveries wait for it to be enabled again.
          where: 'EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id AND e.enabled)',
          perKey: { column: 'endpoint_id', max: config.env.WEBHOOK_ENDPOINT_CONCURRENCY, inFlight: this.perEndpoint },
        }),
      send: (delivery) => this.send(delivery),
      release: (deliveries) => releaseLeases(db, this.outbox, deliveries),
      housekeeping: { everyMs: 3_600_000, run: () => this.purge() },
    });
  }

  start(): void {
    this.worker.start();
  }

  nudge(): void {
    this.worker.nudge();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  private async send(delivery: Claimed): Promise<void> {
    this.perEndpoint.set(delivery.endpoint_id, (this.perEndpoint.get(delivery.endpoint_id) ?? 0) + 1);
    try {
      await this.attempt(delivery);
    } finally {
      const left = (this.perEndpoint.get(delivery.endpoint_id) ?? 1) - 1;
      if (left > 0) this.perEndpoint.set(delivery.endpoint_id, left);
      else this.perEndpoint.delete(delivery.endpoint_id);
    }
  }

  /** The attempts a delivery may take: the first and one per step of the schedule, or what a retry by hand allowed. */
  private maxAttempts(delivery: Claimed): number {
    return delivery.max_attempts ?? this.config.webhooks.retrySchedule.length + 1;
  }

  private async attempt(delivery: Claimed): Promise<void> {
    // Claimed past its last attempt: the outcome of that one was never recorded (a process that
    // died mid-send, a database that refused it). It is not sent again.
    if (delivery.attempts > this.maxAttempts(delivery)) {
      await this.giveUp(delivery, 'no outcome was recorded for its last attempt (the sender stopped, or the database refused it): given up');
      return;
    }
    // The delivery's organization is its endpoint's, and its event one of that organization (any,
    // for a partner's endpoint): the tenant wall lets a request write only delivery rows of its
    // own organization, and nothing else here is to be taken on their word. The type is the event's.
    const [target] = await this.db.query<Target>(
      `SELECT coalesce(ev.type, d.event_type) AS type, e.url, e.key_version, e.secret, e.previous_key_version, e.previous_secret,
              coalesce(e.previous_secret_expires_at > now(), false) AS previous_valid,
              coalesce(ev.data, d.payload) AS data, ev.occurred_at
       FROM webhook_deliveries d
       JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.organization_id IS NOT DISTINCT FROM d.organization_id
       LEFT JOIN events ev ON ev.id = d.event_id AND (d.organization_id IS NULL OR ev.organization_id = d.organization_id)
       WHERE d.id = $1`,
      [delivery.id],
    );
    // The endpoint was deleted meanwhile (and its deliveries with it), or this is no delivery of its organization's.
    if (!target) return this.giveUp(delivery, 'not a delivery of its endpoint\'s organization');
    if (!target.data) return this.giveUp(delivery, 'the event is no longer kept (WEBHOOK_RETENTION_DAYS), or is not its organization\'s');
    const keys = sealingKeys(this.config);
    const context = `webhook:${delivery.endpoint_id}`;
    const secrets = [open({ keyVersion: target.key_version, box: target.secret }, keys, context)];
    if (target.previous_valid && target.previous_secret && target.previous_key_version) {
      secrets.push(open({ keyVersion: target.previous_key_version, box: target.previous_secret }, keys, context));
    }
    const data = target.data as { occurredAt?: string };
    const body = JSON.stringify({ type: target.type, timestamp: data.occurredAt ?? new Date().toISOString(), data: target.data });
    const now = new Date();
    const result = await postWebhook(
      target.url,
      {
        'content-type': 'application/json',
        'user-agent': 'organizations-subgraph-webhooks',
        'webhook-id': delivery.event_id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signatureHeader(secrets, delivery.event_id, now, body),
      },
      body,
      { timeoutMs: this.config.env.WEBHOOK_TIMEOUT_MS, allowPrivate: this.config.webhooks.allowPrivateNetworks },
    );
    await this.record(delivery, result);
    if (result.status !== null && result.status >= 200 && result.status < 300 && target.occurred_at && target.type !== 'webhook.test') {
      this.metrics?.webhookLag.observe((Date.now() - target.occurred_at.getTime()) / 1000);
    }
  }

  /** Ends a delivery that was not sent: it counts no attempt, and leaves its endpoint's failure streak alone. */
  private async giveUp(delivery: Claimed, reason: string): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET attempts = attempts - 1, status = 'FAILED', finished_at = now(), last_error = $2 WHERE id = $1 AND status = 'PENDING'`,
      [delivery.id, reason],
    );
    this.metrics?.webhookFailures.inc();
    this.logger.warn({ deliveryId: delivery.id, endpointId: delivery.endpoint_id, eventId: delivery.event_id, attempts: delivery.attempts - 1, reason }, 'webhook delivery failed for good');
  }

  /** Stores what an attempt came to: success, a retry on the schedule, or the end (the schedule spent, 410). */
  private async record(delivery: Claimed, result: Attempt): Promise<void> {
    const attempts = delivery.attempts;
    const succeeded = result.status !== null && result.status >= 200 && result.status < 300;
    const gone = result.status === 410;
    const schedule = this.config.webhooks.retrySchedule;
    const givenUp = !succeeded && (gone || attempts >= this.maxAttempts(delivery));
    const delayMs = succeeded || givenUp ? 0 : retryDelay(schedule, attempts, { notBeforeMs: Math.min(result.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS) });
    const status = succeeded ? 'SUCCEEDED' : givenUp ? 'FAILED' : 'PENDING';
    const [endpoint] = await this.db.transaction(async (tx) => {
      // The endpoint's row before its delivery's, the order deleting the endpoint takes (the row,
      // then its deliveries by cascade): the other order deadlocked with deleteWebhookEndpoint.
      await tx.query('SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR UPDATE', [delivery.endpoint_id]);
      return tx.query<{ enabled: boolean; disabled_reason: string | null; was_enabled: boolean }>(
      `WITH delivery AS (
         UPDATE webhook_deliveries SET last_attempt_at = now(), status = $2,
           response_status = $3, response_excerpt = $4, last_error = $5,
           next_attempt_at = now() + make_interval(secs => $6::double precision / 1000),
           finished_at = CASE WHEN $2 = 'PENDING' THEN NULL ELSE now() END
         WHERE id = $1 RETURNING endpoint_id
       ), before AS (
         SELECT e.id, e.enabled, e.failing_since FROM webhook_endpoints e JOIN delivery ON e.id = delivery.endpoint_id
       ), decided AS (
         SELECT id, enabled,
           CASE WHEN $7 THEN NULL ELSE coalesce(failing_since, now()) END AS failing_since,
           CASE
             WHEN $7 THEN NULL
             WHEN $8 THEN 'The endpoint answered 410 Gone'
             WHEN failing_since <= now() - make_interval(hours => $9) THEN
               'Every delivery failed for ' || $9 || ' hours (since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
           END AS reason
         FROM before
       )
       UPDATE webhook_endpoints e SET failing_since = decided.failing_since,
         enabled = e.enabled AND decided.reason IS NULL,
         disabled_reason = CASE WHEN e.enabled AND decided.reason IS NOT NULL THEN decided.reason ELSE e.disabled_reason END
       FROM decided WHERE e.id = decided.id
       RETURNING e.enabled, e.disabled_reason, decided.enabled AS was_enabled`,
      [delivery.id, status, result.status, storable(result.excerpt), storable(result.error), delayMs, succeeded, gone, this.config.env.WEBHOOK_DISABLE_AFTER_HOURS],
      );
    });
    this.metrics?.webhookAttempts.inc({ outcome: succeeded ? 'success' : 'failure' });
    const log = { deliveryId: delivery.id, endpointId: delivery.endpoint_id, eventId: delivery.event_id, type: delivery.event_type, attempts, status: result.status };
    if (succeeded) this.logger.info(log, 'webhook delivered');
    else if (givenUp) {
      this.metrics?.webhookFailures.inc();
      this.logger.warn(Object.assign({}, log, { reason: result.error }), 'webhook delivery failed for good');
    } else this.logger.warn(Object.assign({}, log, { reason: result.error, retryInMs: delayMs }), 'webhook not delivered; will retry');
    if (endpoint?.was_enabled && !endpoint.enabled) this.logger.warn({ endpointId: delivery.endpoint_id, reason: endpoint.disabled_reason }, 'webhook endpoint disabled');
  }

  /**
   * Retention: finished deliveries and events older than WEBHOOK_RETENTION_DAYS; retired endpoints
   * with nothing left to deliver; rotated-out secrets past their overlap. In statements of PURGE_BATCH rows, each its own short
   * transaction: one DELETE of a month of events would hold an xid for as long as it ran, and with
   * it the event feed's horizon (every consumer's next page) and vacuum.
   */
  async purge(): Promise<void> {
    const days = this.config.env.WEBHOOK_RETENTION_DAYS;
    const deliveries = await this.purgeBatches(
      `SELECT id FROM webhook_deliveries WHERE status <> 'PENDING' AND finished_at < now() - make_interval(days => $1)`,
      'webhook_deliveries',
      [days],
    );
    const events = await this.purgeBatches(
      `SELECT id FROM events ev WHERE occurred_at < now() - make_interval(days => $1)
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.id AND d.status = 'PENDING')`,
      'events',
      [days],
    );
    const endpoints = await this.purgeBatches(
      `SELECT id FROM webhook_endpoints e WHERE deleted_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'PENDING')`,
      'webhook_endpoints',
      [],
    );
    // A rotated-out secret signs nothing once its overlap ends: it is not kept, even sealed.
    const secrets = (
      await this.db.query(
        `UPDATE webhook_endpoints SET previous_secret = NULL, previous_key_version = NULL, previous_secret_expires_at = NULL
         WHERE previous_secret_expires_at <= now() RETURNING id`,
      )
    ).length;
    if (deliveries || events || endpoints || secrets) {
      this.logger.info({ deliveries, events, retiredEndpoints: endpoints, expiredSecrets: secrets, retentionDays: days }, 'webhook deliveries, events and secrets past their time purged');
    }
  }

  /** Deletes the rows of `table` whose ids `chosen` selects, PURGE_BATCH at a time; how many went. */
  private async purgeBatches(chosen: string, table: string, params: unknown[]): Promise<number> {
    let total = 0;
    for (;;) {
      const [{ n }] = await this.db.query<{ n: number }>(
        `WITH gone AS (DELETE FROM ${table} WHERE id IN (${chosen} LIMIT ${PURGE_BATCH}) RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        params,
      );
      total += n;
      if (n < PURGE_BATCH) return total;
    }
  }
}
