import type { RequestContext } from '../../context';
import { recordAudit } from '../audit/audit.service';

/**
 * An OWNER reaching an organization that enforces SSO without having signed in through it
 * (break-glass: src/authz/access.ts) is audited as `sso.break_glass`, at most once an hour per
 * person and organization: the first request records it, the next ones within the hour find it
 * (in this process's memory first, then in the audit log, so that replicas do not each write
 * one). Ordinary requests never come here and cost no statement more.
 */
export const BREAK_GLASS_INTERVAL_MS = 60 * 60_000;
const KEPT = 10_000;
const recorded = new Map<string, number>();

export async function recordBreakGlass(ctx: RequestContext, organizationId: string): Promise<void> {
  const principal = ctx.principal;
  if (principal?.kind !== 'user') return;
  const key = `${principal.userId}\u0000${organizationId}`;
  const last = recorded.get(key);
  if (last !== undefined && Date.now() - last < BREAK_GLASS_INTERVAL_MS) return;
  await ctx.db.transaction(async (tx) => {
    // Concurrent first requests (here or on a replica) wait for each other: one writes, the others find it.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('sso.break_glass:' || $1 || ':' || $2, 0))`, [organizationId, principal.userId]);
    const [recent] = await tx.query(
      `SELECT 1 FROM audit_events WHERE organization_id = $1 AND action = 'sso.break_glass' AND actor_id = $2 AND occurred_at > now() - $3 * interval '1 millisecond' LIMIT 1`,
      [organizationId, principal.userId, BREAK_GLASS_INTERVAL_MS],
    );
    if (recent) return;
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'sso.break_glass',
      target: { type: 'Organization', id: organizationId, display: null },
      metadata: { reason: 'An OWNER used the organization without signing in through its enforced SSO connection', intervalMinutes: BREAK_GLASS_INTERVAL_MS / 60_000 },
    });
  });
  if (recorded.size >= KEPT) recorded.delete(recorded.keys().next().value!);
  recorded.set(key, Date.now());
}
