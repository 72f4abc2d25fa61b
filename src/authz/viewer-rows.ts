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

/** `alias."column" AS "prefix.column"` for every column of an entity. */
function aliased(db: Database, entity: EntityTarget<ObjectLiteral>, alias: string, prefix: string): string {
  return db.dataSource
    .getMetadata(entity)
    .columns.map((c) => `${alias}."${c.databaseName}" AS "${prefix}.${c.databaseName}"`)
    .join(', ');
}

function split(row: Record<string, unknown>, prefix: string): Record<string, unknown> | null {
  const part: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (key.startsWith(`${prefix}.`)) part[key.slice(prefix.length + 1)] = value;
  return part.id === null || part.id === undefined ? null : part;
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
  return new DataLoader(async (keys) => {
    const ids = keys.filter(isUuid);
    if (!ids.length) return keys.map(() => null);
    const userId = principal?.kind === 'user' ? principal.userId : null;
    const joins = userId
      ? `LEFT JOIN memberships m ON m.organization_id = t.${options.organizationColumn} AND m.user_id = $2` +
        (options.withAssignment ? ` LEFT JOIN workspace_access wa ON wa.workspace_id = t.id AND wa.membership_id = m.id` : '')
      : '';
    const columns = userId
      ? [`t.*`, aliased(db, MembershipEntity, 'm', '__m'), ...(options.withAssignment ? [aliased(db, WorkspaceAccessEntity, 'wa', '__wa')] : [])].join(', ')
      : 't.*';
    const raw = await db.query(`SELECT ${columns} FROM ${options.table} t ${joins} WHERE t.id = ANY($1::uuid[])`, userId ? [ids, userId] : [ids]);
    const rows = mapRows(db.dataSource, entity, raw);
    const byId = new Map<string, T>();
    rows.forEach((row, i) => {
      byId.set(row.id, row);
      options.prime(row);
      if (!userId) return;
      const organizationId = String(raw[i][options.organizationColumn]);
      const membership = split(raw[i], '__m');
      options.primeMembership(organizationId, membership ? mapRows(db.dataSource, MembershipEntity, [membership])[0] : null);
      if (options.withAssignment) {
        const assignment = split(raw[i], '__wa');
        options.primeAssignment?.(row.id, assignment ? mapRows(db.dataSource, WorkspaceAccessEntity, [assignment])[0] : null);
      }
    });
    return keys.map((key) => byId.get(key) ?? null);
  });
}
