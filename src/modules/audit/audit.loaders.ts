import { cleanDate } from '../../common/validation';
import { childCountsLoader, childPagesLoader, rowLoader, type ChildList } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { entityReader } from '../../db/entity-rows';
import type { FieldReads } from '../../db/selection';
import type { SqlParams } from '../../db/sql-params';
import { badInput } from '../../errors';
import { AuditEventEntity } from './audit.entity';

export interface AuditFilter {
  actions: string[] | null;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  since: string | null;
  until: string | null;
}

/** A filter as the API takes it (GraphQL or the export's query string), checked. */
export function auditFilter(f: { actions?: string[] | null; actorId?: string | null; targetType?: string | null; targetId?: string | null; since?: Date | null; until?: Date | null }): AuditFilter {
  for (const key of ['since', 'until'] as const) if (f[key]) cleanDate(key, f[key]!);
  if ((f.actions?.length ?? 0) > 100) throw badInput('actions', 'At most 100 actions');
  return {
    actions: f.actions?.length ? f.actions : null,
    actorId: f.actorId ?? null,
    targetType: f.targetType ?? null,
    targetId: f.targetId ?? null,
    since: f.since?.toISOString() ?? null,
    until: f.until?.toISOString() ?? null,
  };
}

/** The filter's conditions on audit events `t`: for the pages and the export alike. */
export function auditConditions(f: AuditFilter, params: SqlParams): string[] {
  const conditions: string[] = [];
  if (f.actions?.length) conditions.push(`t.action = ANY(${params.add(f.actions)}::text[])`);
  if (f.actorId) conditions.push(`t.actor_id = ${params.add(f.actorId)}`);
  if (f.targetType) conditions.push(`t.target_type = ${params.add(f.targetType)}`);
  if (f.targetId) conditions.push(`t.target_id = ${params.add(f.targetId)}`);
  if (f.since) conditions.push(`t.occurred_at >= ${params.add(f.since)}::timestamptz`);
  if (f.until) conditions.push(`t.occurred_at < ${params.add(f.until)}::timestamptz`);
  return conditions;
}

/** An organization's audit events, newest first, filtered. */
const EVENTS_OF_ORGANIZATION: ChildList<AuditFilter> = {
  from: 'audit_events t',
  parentColumn: 't.organization_id',
  parentType: 'uuid',
  order: 'DESC',
  // A big organization holds nearly every event.
  throughParentIndex: true,
  // An actor, a target or a date range may match nearly none or nearly all of them.
  planEachFilter: true,
  where: auditConditions,
};

/**
 * What each AuditEvent field reads of its row (db/selection.ts): a page showing an action and
 * who did it reads neither the metadata (JSON parsed row by row) nor the chain's hashes.
 */
export const AUDIT_EVENT_READS: FieldReads = {
  always: ['id', 'organizationId'],
  byField: {
    id: [],
    occurredAt: ['occurredAt'],
    action: ['action'],
    metadata: ['metadata'],
    ip: ['ip'],
    userAgent: ['userAgent'],
    requestId: ['requestId'],
    hash: ['hash'],
    organization: [],
    origin: ['action'],
    actor: ['actorType', 'actorId', 'actorDisplay'],
    target: ['targetType', 'targetId', 'targetDisplay'],
  },
};

export const auditLoaders = (db: Database) => ({
  auditEvent: rowLoader(db, AuditEventEntity, { table: 'audit_events', column: 'id', type: 'uuid', property: 'id' }),
  auditPage: childPagesLoader(db, EVENTS_OF_ORGANIZATION, entityReader(AuditEventEntity)),
  auditCount: childCountsLoader(db, EVENTS_OF_ORGANIZATION),
});
