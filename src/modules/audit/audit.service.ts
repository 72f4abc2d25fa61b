import { displayName } from '../../auth/principal';
import type { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { ActorType } from './audit.entity';

export interface AuditTargetRef {
  type: string;
  id: string;
  display?: string | null;
}

export interface AuditRecord {
  organizationId: string;
  /** `<target>.<verb>`, e.g. `member.role_changed`. */
  action: string;
  target?: AuditTargetRef;
  /** Before and after values of what changed; never a secret or a token. */
  metadata?: Record<string, unknown>;
}

function actorOf(ctx: RequestContext): { type: ActorType; id: string; display: string | null } {
  const p = ctx.principal;
  if (p?.kind === 'user') return { type: ActorType.USER, id: p.userId, display: displayName(p) };
  if (p?.kind === 'service') return { type: ActorType.SERVICE, id: p.clientId, display: p.clientId };
  if (p?.kind === 'apiKey') return { type: ActorType.API_KEY, id: p.keyId, display: `${p.name} (${p.prefix}…)` };
  return { type: ActorType.SYSTEM, id: 'system', display: null };
}

/** Writes one audit event inside the caller's transaction, so it commits or fails with the change. */
export async function recordAudit(tx: Database, ctx: RequestContext, event: AuditRecord): Promise<void> {
  const actor = actorOf(ctx);
  await tx.query(
    `INSERT INTO audit_events
       (organization_id, action, actor_type, actor_id, actor_display, target_type, target_id, target_display, metadata, ip, user_agent, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      event.organizationId,
      event.action,
      actor.type,
      actor.id,
      actor.display,
      event.target?.type ?? null,
      event.target?.id ?? null,
      event.target?.display ?? null,
      JSON.stringify(event.metadata ?? {}),
      ctx.request.ip,
      ctx.request.userAgent,
      ctx.request.requestId,
    ],
  );
}

/** `{ field: { before, after } }` for the fields whose values differ. */
export function changes<T extends object>(before: T, after: Partial<T>): Record<string, { before: unknown; after: unknown }> {
  const diff: Record<string, { before: unknown; after: unknown }> = {};
  for (const key of Object.keys(after) as (keyof T)[]) {
    const was = before[key];
    const now = after[key];
    if (now !== undefined && JSON.stringify(was) !== JSON.stringify(now)) diff[String(key)] = { before: was, after: now };
  }
  return diff;
}
