import { randomUUID } from 'node:crypto';
import { RequestContext, type AppServices } from '../../context';
import { SYSTEM } from '../../db/database';
import { OrganizationDomainEntity } from './domain.entity';
import { outcomeOf, recordCheck, verificationRecord } from './domain.service';
import { findTxt } from './dns';

/** Domains one pass claims at most; a full batch is followed by another at once. */
const BATCH = 20;
/** How often a process looks for domains due, at most (a shorter DOMAIN_RECHECK_INTERVAL looks that often). */
const MAX_POLL_MS = 60_000;

/**
 * Looks up the TXT record of each VERIFIED domain again every DOMAIN_RECHECK_INTERVAL and
 * records what it found (domain.service.ts recordCheck: `unverifiedSince`, audited when it
 * changes). A domain is claimed by moving its last_checked_at to now in one statement (FOR UPDATE
 * SKIP LOCKED): any number of replicas may run this, and each due domain is looked up by one of
 * them once per interval. The lookups run with no transaction open.
 */
export class DomainWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly app: AppServices) {}

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .catch((error) => this.app.logger.error({ err: error }, 'domain re-check failed'))
        .finally(() => this.schedule(Math.min(this.app.config.domains.recheckIntervalMs, MAX_POLL_MS)));
    }, delay);
    this.timer.unref();
  }

  /** Every domain due now, in batches. */
  async pass(): Promise<void> {
    const db = this.app.db.as(SYSTEM);
    for (;;) {
      const due = await db.select(
        OrganizationDomainEntity,
        `UPDATE organization_domains SET last_checked_at = now() WHERE id IN (
           SELECT id FROM organization_domains
           WHERE status = 'VERIFIED' AND (last_checked_at IS NULL OR last_checked_at <= now() - $1 * interval '1 millisecond')
           ORDER BY last_checked_at NULLS FIRST, id LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [this.app.config.domains.recheckIntervalMs, BATCH],
      );
      for (const domain of due) {
        if (this.stopped) return;
        await this.check(domain);
      }
      if (due.length < BATCH || this.stopped) return;
    }
  }

  private async check(domain: OrganizationDomainEntity): Promise<void> {
    const record = verificationRecord(domain);
    const outcome = outcomeOf(await findTxt(this.app.config.domains.dnsServers, record.name, record.value));
    if (outcome === 'unknown') return;
    // The system acts: the audit log's actor, with a request id of its own.
    const ctx = new RequestContext(this.app, { requestId: `domain-recheck-${randomUUID()}`, ip: null, userAgent: null }, null);
    await ctx.write(async (tx) => {
      await tx.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [domain.organizationId]);
      const row = await tx.selectOne(OrganizationDomainEntity, 'SELECT * FROM organization_domains WHERE id = $1 FOR UPDATE', [domain.id]);
      if (row) await recordCheck(tx, ctx, row, outcome);
    }, { crossTenant: true });
  }
}
