import type { ChainedContent } from '../audit/audit-chain';

/** What an event carries (API.md, Events): the audit event without its request details (ip, user agent) and chain fields. Never a secret: audit metadata holds none. */
export interface EventData {
  id: string;
  type: string;
  organizationId: string;
  occurredAt: string;
  actor: { type: string; id: string; display: string | null };
  target: { type: string; id: string; display: string | null } | null;
  metadata: Record<string, unknown>;
}

/** The audit event's fields an event carries: its hashed content without the request details and the chain. */
export type AuditContent = Omit<ChainedContent, 'seq' | 'ip' | 'userAgent' | 'requestId' | 'prevHash' | 'metadata'> & { metadata: Record<string, unknown> };

/** An audit event's data as an event, the same for the feed and for webhooks. */
export function eventData(audit: AuditContent): EventData {
  return {
    id: audit.id,
    type: audit.action,
    organizationId: audit.organizationId,
    occurredAt: audit.occurredAt.toISOString(),
    actor: { type: audit.actorType, id: audit.actorId, display: audit.actorDisplay },
    target: audit.targetType && audit.targetId ? { type: audit.targetType, id: audit.targetId, display: audit.targetDisplay } : null,
    metadata: audit.metadata,
  };
}
