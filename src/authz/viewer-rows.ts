import DataLoader from 'dataloader';
import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { Principal } from '../auth/principal';
import { isUuid } from '../common/ids';
import type { Database } from '../db/database';
import { columnList, joinedEntity, mapRows } from '../db/entity-rows';
import { MembershipEntity } from '../modules/membership/membership.entity';
import { WorkspaceAccessEntity } from '../modules/workspace/workspace.entity';

export interface ViewerRowsOptions<T> {
  table: string;
  /** The column the keys are matched against: `id` (a UUID) unless told. */
  key?: { column: string; type: 'uuid' | 'text'; property: keyof T & string };
  /** Column of the row holding its organization's id (`id` for organizations themselves). */
  organizationColumn: string;
  /** Also join the viewer's assignment to the row (a workspace). */
  withAssignment?: boolean;
  /** Every row loaded, for the plain loader to reuse. */
  prime: (row: T) => void;
  primeMembership: (organizationId: string, membership: MembershipEntity | null) => void;
  primeAssignment?: (workspaceId: string, assignment: WorkspaceAccessEntity | null) => void;
}

/**
 * Rows by id (or another unique key) together with the asking user's membership in their
 * organization (and its assignment to them, for workspaces), in ONE statement for any number
 * of ids. It primes the loaders authorization reads, so that resolving a hundred entity
 * references and checking who may see them costs one SQL statement per entity type, and
 * another tenant's row costs the same statements as a made-up key. Other principals get plain rows.
 */
export function viewerRowsLoader<T extends ObjectLiteral & { id: string }>(
  db: Database,
  principal: Principal | null,
  entity: EntityTarget<T>,
  options: ViewerRowsOptions<T>,
): DataLoader<string, T | null> {
  const membership = joinedEntity(MembershipEntity, 'm', '__m');
  const assignment = joinedEntity(WorkspaceAccessEntity, 'wa', '__wa');
  const key = options.key ?? { column: 'id', type: 'uuid', property: 'id' };
  return new DataLoader(async (keys) => {
    const ids = key.type === 'uuid' ? keys.filter(isUuid) : [...keys];
    if (!ids.length) return keys.map(() => null);
    const userId = principal?.kind === 'user' ? principal.userId : null;
    // The membership with its organization's SSO enforcement (MembershipEntity.organizationSsoEnforced, src/authz/access.ts).
    const joins = userId
      ? `LEFT JOIN memberships m ON m.organization_id = t.${options.organizationColumn} AND m.user_id = $2 LEFT JOIN organizations so ON so.id = m.organization_id` +
        (options.withAssignment ? ` LEFT JOIN workspace_access wa ON wa.workspace_id = t.id AND wa.membership_id = m.id` : '')
      : '';
    const own = columnList(entity, 't.');
    const columns = userId ? [own, membership.select, 'so.sso_enforced AS "__sso_enforced"', ...(options.withAssignment ? [assignment.select] : [])].join(', ') : own;
    const raw = await db.query(`SELECT ${columns} FROM ${options.table} t ${joins} WHERE t.${key.column} = ANY($1::${key.type}[])`, userId ? [ids, userId] : [ids], { prepare: true });
    const rows = mapRows(entity, raw);
    const byKey = new Map<string, T>();
    // Every row of an organization carries the same membership: its access is computed once (a
    // hundred workspaces of ten organizations made it a hundred times, 18% of `_entities`' CPU).
    const accessPrimed = new Set<string>();
    rows.forEach((row, i) => {
      byKey.set(String(row[key.property]), row);
      options.prime(row);
      if (!userId) return;
      const organizationId = String(raw[i][options.organizationColumn]);
      if (options.withAssignment) options.primeAssignment?.(row.id, assignment.from(raw[i]));
      if (accessPrimed.has(organizationId)) return;
      accessPrimed.add(organizationId);
      const member = membership.from(raw[i]);
      if (member) member.organizationSsoEnforced = raw[i].__sso_enforced === true;
      options.primeMembership(organizationId, member);
    });
    return keys.map((k) => byKey.get(k) ?? null);
  });
}
