import { childCountLoader, childPageLoader, rowLoader, type SqlParams } from '../../common/pagination';
import { cleanDate } from '../../common/validation';
import type { Database } from '../../db/database';
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

export const EVENTS_OF_ORGANIZATION = {
  from: 'audit_events t',
  parentColumn: 't.organization_id',
  parentType: 'uuid' as const,
  skewed: true,
  planEachFilter: true,
  where: (f: AuditFilter, params: SqlParams) => {
    const conditions: string[] = [];
    if (f.actions?.length) conditions.push(`t.action = ANY(${params.add(f.actions)}::text[])`);
    if (f.actorId) conditions.push(`t.actor_id = ${params.add(f.actorId)}`);
    if (f.targetType) conditions.push(`t.target_type = ${params.add(f.targetType)}`);
    if (f.targetId) conditions.push(`t.target_id = ${params.add(f.targetId)}`);
    if (f.since) conditions.push(`t.occurred_at >= ${params.add(f.since)}::timestamptz`);
    if (f.until) conditions.push(`t.occurred_at < ${params.add(f.until)}::timestamptz`);
    return conditions;
  },
};

export const auditLoaders = (db: Database) => ({
  auditEvent: rowLoader(db, AuditEventEntity, { table: 'audit_events', column: 'id', type: 'uuid', property: 'id' }),
  auditPage: childPageLoader(db, AuditEventEntity, Object.assign({}, EVENTS_OF_ORGANIZATION, { order: 'DESC' as const })),
  auditCount: childCountLoader(db, EVENTS_OF_ORGANIZATION),
});
