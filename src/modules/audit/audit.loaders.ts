import { childCountLoader, childPageLoader, rowLoader, type SqlParams } from '../../common/pagination';
import type { Database } from '../../db/database';
import { AuditEventEntity } from './audit.entity';

export interface AuditFilter {
  actions: string[] | null;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  since: string | null;
  until: string | null;
}

const EVENTS_OF_ORGANIZATION = {
  from: 'audit_events t',
  parentColumn: 't.organization_id',
  parentType: 'uuid' as const,
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
  auditPage: childPageLoader(db, AuditEventEntity, { ...EVENTS_OF_ORGANIZATION, order: 'DESC' }),
  auditCount: childCountLoader(db, EVENTS_OF_ORGANIZATION),
});
