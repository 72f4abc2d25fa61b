import DataLoader from 'dataloader';
import { isUuid } from '../../common/ids';
import { groupLoader, rowLoader } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { RoleEntity } from './role.entity';

export const roleLoaders = (db: Database) => ({
  role: rowLoader(db, RoleEntity, { table: 'roles', column: 'id', type: 'uuid', property: 'id' }),
  /** An organization's custom roles, by key. */
  organizationRoles: groupLoader(db, RoleEntity, { table: 'roles', column: 'organization_id', type: 'uuid', property: 'organizationId', orderBy: 'key' }),
  /** How many members hold each role: one statement for a page of roles. */
  roleMemberCount: new DataLoader<string, number>(async (ids) => {
    const wanted = ids.filter(isUuid);
    const rows = wanted.length
      ? await db.query<{ role_id: string; count: number }>(
          'SELECT r AS role_id, count(*)::int AS count FROM memberships, unnest(role_ids) r WHERE role_ids && $1::uuid[] AND r = ANY($1::uuid[]) GROUP BY r',
          [wanted],
        )
      : [];
    const counts = new Map(rows.map((row) => [row.role_id, row.count]));
    return ids.map((id) => counts.get(id) ?? 0);
  }),
});
