import { createHash } from 'node:crypto';
import { canonical } from '../../common/canonical';

/** What an event's hash covers: every stored field but the hash itself, in a fixed order. */
export interface ChainedContent {
  id: string;
  organizationId: string;
  seq: string;
  occurredAt: Date;
  action: string;
  actorType: string;
  actorId: string;
  actorDisplay: string | null;
  targetType: string | null;
  targetId: string | null;
  targetDisplay: string | null;
  metadata: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  prevHash: string;
}

export function eventHash(e: ChainedContent): string {
  const content = canonical([
    e.id,
    e.organizationId,
    String(e.seq),
    e.occurredAt.toISOString(),
    e.action,
    e.actorType,
    e.actorId,
    e.actorDisplay,
    e.targetType,
    e.targetId,
    e.targetDisplay,
    e.metadata ?? {},
    e.ip,
    e.userAgent,
    e.requestId,
  ]);
  return createHash('sha256').update(e.prevHash).update('\n').update(content).digest('hex');
}
