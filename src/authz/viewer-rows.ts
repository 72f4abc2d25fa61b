import DataLoader from 'dataloader';
import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { Principal } from '../auth/principal';
import { isUuid } from '../common/pagination';
import { mapRows, type Database } from '../db/database';
import { MembershipEntity } from '../modules/membership/membership.entity';
import { WorkspaceAccessEntity } from '../modules/workspace/workspace.entity';

export interface ViewerRowsOptions<T> {
  table: string;
  /** Column of the row holding its organization's id (`id` for organizations themselves). */
  organizationColumn: string;
  /** Also join the viewer's assignment to the row (a workspace). */
  withAssignment?: boolean;
  /** Every row loaded, for the plain loader to reuse. */
  prime: (row: T) => void;
  primeMembership: (organizationId: string, membership: MembershipEntity | null) => void;
  primeAssignment?: (workspaceId: string, assignment: WorkspaceAccessEntity | null) => void;
}

/** An entity's columns read under a prefix: `alias."column" AS "prefix.column"`, and splitting them off a row. */
function prefixed(db: Database, entity: EntityTarget<ObjectLiteral>, alias: string, prefix: string) {
  const columns = db.dataSource.getMetadata(entity).columns.map((c) => [c.databaseName, `${prefix}.${c.databaseName}`] as const);
  const id = `${prefix}.id`;
  return {
    select: columns.map(([column, key]) => `${alias}."${column}" AS "${key}"`).join(', '),
    /** The entity's columns of `row`, or null when the outer join found none. */
    split(row: Record<string, unknown>): Record<string, unknown> | null {
      if (row[id] === null || row[id] === undefined) return null;
      const part: Record<string, unknown> = {};
      for (const [column, key] of columns) part[column] = row[key];
      return part;
    },
  };
}

/**
 * Rows by id together with the asking user's membership in their organization (and its
 * assignment to them, for workspaces), in ONE statement for any number of ids. It primes the
 * loaders authorization reads, so that resolving a hundred entity references and checking
 * who may see them costs one SQL statement per entity type. Other principals get plain rows.
 */
export function viewerRowsLoader<T extends ObjectLiteral & { id: string }>(
  db: Database,
  principal: Principal | null,
  entity: EntityTarget<T>,
  options: ViewerRowsOptions<T>,
): DataLoader<string, T | null> {
  const membership = prefixed(db, MembershipEntity, 'm', '__m');
  const assignment = prefixed(db, WorkspaceAccessEntity, 'wa', '__wa');
  return new DataLoader(async (keys) => {
    const ids = keys.filter(isUuid);
    if (!ids.length) return keys.map(() => null);
    const userId = principal?.kind === 'user' ? principal.userId : null;
    const joins = userId
      ? `LEFT JOIN memberships m ON m.organization_id = t.${options.organizationColumn} AND m.user_id = $2` +
        (options.withAssignment ? ` LEFT JOIN workspace_access wa ON wa.workspace_id = t.id AND wa.membership_id = m.id` : '')
      : '';
    const columns = userId ? ['t.*', membership.select, ...(options.withAssignment ? [assignment.select] : [])].join(', ') : 't.*';
    const raw = await db.query(`SELECT ${columns} FROM ${options.table} t ${joins} WHERE t.id = ANY($1::uuid[])`, userId ? [ids, userId] : [ids]);
    const rows = mapRows(db.dataSource, entity, raw);
    const byId = new Map<string, T>();
    rows.forEach((row, i) => {
      byId.set(row.id, row);
      options.prime(row);
      if (!userId) return;
      const organizationId = String(raw[i][options.organizationColumn]);
      const membershipRow = membership.split(raw[i]);
      options.primeMembership(organizationId, membershipRow ? mapRows(db.dataSource, MembershipEntity, [membershipRow])[0] : null);
      if (options.withAssignment) {
        const assignmentRow = assignment.split(raw[i]);
        options.primeAssignment?.(row.id, assignmentRow ? mapRows(db.dataSource, WorkspaceAccessEntity, [assignmentRow])[0] : null);
      }
    });
    return keys.map((key) => byId.get(key) ?? null);
  });
}
