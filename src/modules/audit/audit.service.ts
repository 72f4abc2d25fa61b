import { displayName } from '../../auth/principal';
import type { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { isUuid } from '../../common/pagination';
import { badInput, notFound } from '../../errors';
import { cleanIdempotencyKey, idempotent } from '../billing/idempotency';
import { ActorType } from './audit.entity';
import type { RecordAuditEventInput } from './audit.types';

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

/** Writes one audit event inside the caller's transaction, so it commits or fails with the change. Returns its id. */
export async function recordAudit(tx: Database, ctx: RequestContext, event: AuditRecord): Promise<string> {
  const actor = actorOf(ctx);
  const [row] = await tx.query<{ id: string }>(
    `INSERT INTO audit_events
       (organization_id, action, actor_type, actor_id, actor_display, target_type, target_id, target_display, metadata, ip, user_agent, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
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
  return row.id;
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

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const TARGET_TYPE = /^[A-Za-z][A-Za-z0-9_]*$/;

/** audit:write. A partner appends to an organization's log; the actor is the service. */
export async function recordPartnerEvent(ctx: RequestContext, input: RecordAuditEventInput): Promise<string> {
  const key = cleanIdempotencyKey(input.idempotencyKey);
  const action = input.action.trim();
  if (action.length > 100 || !ACTION.test(action)) throw badInput('action', 'action must look like <target>.<verb>, lower-case, at most 100 characters');
  const target = input.target ?? null;
  if (target) {
    if (target.type.length > 100 || !TARGET_TYPE.test(target.type)) throw badInput('type', 'target.type must be a type name such as Workspace');
    if (target.id.length < 1 || target.id.length > 255) throw badInput('id', 'target.id must be 1 to 255 characters');
    if ((target.display?.length ?? 0) > 200) throw badInput('display', 'target.display must be at most 200 characters');
  }
  const metadata = input.metadata ?? {};
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw badInput('metadata', 'metadata must be an object');
  if (JSON.stringify(metadata).length > 16_384) throw badInput('metadata', 'metadata must be at most 16 KB of JSON');
  const eventId = await ctx.write(async (tx) => {
    const [organization] = isUuid(input.organizationId) ? await tx.query('SELECT id FROM organizations WHERE id = $1', [input.organizationId]) : [];
    if (!organization) throw notFound('Organization');
    return idempotent(tx, ctx, 'recordAuditEvent', key, { ...input, idempotencyKey: undefined }, () =>
      recordAudit(tx, ctx, { organizationId: input.organizationId, action, target: target ?? undefined, metadata: metadata as Record<string, unknown> }),
    );
  });
  ctx.showToService(input.organizationId);
  return eventId;
}
