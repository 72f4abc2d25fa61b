import { lockOrganization } from '../../../authz/locks';
import { isUuid } from '../../../common/ids';
import type { RequestContext } from '../../../context';
import { isUniqueViolation, type Database } from '../../../db/database';
import { SqlParams } from '../../../db/sql-params';
import { recordAudit } from '../../audit/audit.service';
import { applyDirectoryGrants } from '../directory.grants';
import { DirectoryGroupEntity } from '../directory.entity';
import { compileFilter, type FilterSchema } from './scim.filter';
import { invalidValue, ScimError, scimNotFound } from './scim.errors';
import { changeOfPatch, changeOfPut, type GroupChange } from './scim.group-changes';
import { directoryOf, GROUP_SCHEMA, type Page } from './scim.request';

export const GROUP_FILTER: FilterSchema = {
  urn: GROUP_SCHEMA,
  attributes: {
    id: { sql: 'g.id', kind: 'uuid' },
    displayname: { sql: 'g.display_name', kind: 'caseless' },
    externalid: { sql: 'g.external_id', kind: 'text' },
  },
  related: {
    // Entra checks a membership with `members[value eq "…"]`-like filters on the group: here `members.value eq "…"`.
    'members.value': (_op, value, params) =>
      isUuid(value) ? `EXISTS (SELECT 1 FROM directory_group_members gm WHERE gm.group_id = g.id AND gm.directory_user_id = ${params.add(value)}::uuid)` : 'false',
  },
};

interface Member {
  value: string;
  display?: string;
  $ref?: string;
}

export interface ScimGroup {
  schemas: string[];
  id: string;
  displayName: string;
  externalId?: string;
  members?: Member[];
  meta: { resourceType: 'Group'; created: string; lastModified: string; location: string };
}

/** Members of these groups, with their userName as `display`: one statement. */
async function membersOf(db: Database, groupIds: string[]): Promise<Map<string, { value: string; display: string }[]>> {
  const rows = groupIds.length
    ? await db.query<{ group_id: string; id: string; user_name: string }>(
        `SELECT gm.group_id, d.id, d.user_name FROM directory_group_members gm JOIN directory_users d ON d.id = gm.directory_user_id
         WHERE gm.group_id = ANY($1::uuid[]) ORDER BY d.id`,
        [groupIds],
      )
    : [];
  const byGroup = new Map<string, { value: string; display: string }[]>(groupIds.map((id) => [id, []]));
  for (const r of rows) byGroup.get(r.group_id)!.push({ value: r.id, display: r.user_name });
  return byGroup;
}

export async function toScimGroups(db: Database, groups: DirectoryGroupEntity[], base: string, withMembers: boolean): Promise<ScimGroup[]> {
  const members = withMembers ? await membersOf(db, groups.map((g) => g.id)) : null;
  return groups.map((g) => ({
    schemas: [GROUP_SCHEMA],
    id: g.id,
    displayName: g.displayName,
    ...(g.externalId !== null ? { externalId: g.externalId } : {}),
    ...(members ? { members: members.get(g.id)!.map((m) => ({ ...m, $ref: `${base}/Users/${m.value}` })) } : {}),
    meta: { resourceType: 'Group', created: g.createdAt.toISOString(), lastModified: g.updatedAt.toISOString(), location: `${base}/Groups/${g.id}` },
  }));
}

export async function getGroup(ctx: RequestContext, id: string): Promise<DirectoryGroupEntity> {
  const group = isUuid(id)
    ? await ctx.db.selectOne(DirectoryGroupEntity, 'SELECT * FROM directory_groups WHERE id = $1 AND organization_id = $2', [id, directoryOf(ctx).organizationId])
    : undefined;
  if (!group) throw scimNotFound('Group');
  return group;
}

export async function listGroups(ctx: RequestContext, filter: string | undefined, startIndex: number, count: number): Promise<Page<DirectoryGroupEntity>> {
  const params = new SqlParams();
  const conditions = [`g.organization_id = ${params.add(directoryOf(ctx).organizationId)}::uuid`];
  if (filter) conditions.push(compileFilter(filter, GROUP_FILTER, params));
  const where = conditions.join(' AND ');
  const [{ total }] = await ctx.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM directory_groups g WHERE ${where}`, params.values);
  const rows =
    count > 0 && total >= startIndex
      ? await ctx.db.select(DirectoryGroupEntity, `SELECT g.* FROM directory_groups g WHERE ${where} ORDER BY g.id LIMIT ${count} OFFSET ${startIndex - 1}`, params.values)
      : [];
  return { total, startIndex, rows };
}

/** Users of this organization among `ids`; any other id is 400 invalidValue (another organization's is as unknown as a made-up one). */
async function assertUsers(tx: Database, organizationId: string, ids: string[]): Promise<void> {
  const unique = [...new Set(ids)];
  if (!unique.length) return;
  if (!unique.every(isUuid)) throw invalidValue('A member is not a User of this directory');
  const [{ found }] = await tx.query<{ found: number }>('SELECT count(*)::int AS found FROM directory_users WHERE organization_id = $1 AND id = ANY($2::uuid[])', [
    organizationId,
    unique,
  ]);
  if (found !== unique.length) throw invalidValue('A member is not a User of this directory');
}

function uniqueName<T>(work: () => Promise<T>): Promise<T> {
  return work().catch((error: unknown) => {
    if (isUniqueViolation(error, 'directory_groups_organization_display_name_key')) throw new ScimError(409, 'A Group with this displayName exists', 'uniqueness');
    throw error;
  });
}

/**
 * The group's members become what `change` says, and its attributes; the members who came or
 * went get what the mapping now gives them (directory.grants.ts), all in this transaction with
 * the audit events.
 */
async function applyChange(tx: Database, ctx: RequestContext, group: DirectoryGroupEntity, change: GroupChange): Promise<DirectoryGroupEntity> {
  const organizationId = group.organizationId;
  let updated = group;
  const renamed = change.displayName !== undefined && change.displayName !== group.displayName;
  const reIdentified = change.externalId !== undefined && change.externalId !== group.externalId;
  if (renamed || reIdentified) {
    updated = (await uniqueName(() =>
      tx.selectOne(DirectoryGroupEntity, 'UPDATE directory_groups SET display_name = $2, external_id = $3, updated_at = now() WHERE id = $1 RETURNING *', [
        group.id,
        change.displayName ?? group.displayName,
        change.externalId === undefined ? group.externalId : change.externalId,
      ]),
    ))!;
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'directory_group.updated',
      target: { type: 'DirectoryGroup', id: group.id, display: updated.displayName },
      metadata: Object.assign(
        {},
        renamed ? { displayName: { before: group.displayName, after: updated.displayName } } : {},
        reIdentified ? { externalId: { before: group.externalId, after: updated.externalId } } : {},
      ),
    });
  }
  await assertUsers(tx, organizationId, [...(change.setMembers ?? []), ...change.add]);
  let added: string[] = [];
  let removed: string[] = [];
  if (change.setMembers) {
    const wanted = [...new Set(change.setMembers)];
    removed = (
      await tx.query<{ directory_user_id: string }>(
        'DELETE FROM directory_group_members WHERE group_id = $1 AND NOT (directory_user_id = ANY($2::uuid[])) RETURNING directory_user_id',
        [group.id, wanted],
      )
    ).map((r) => r.directory_user_id);
    change.add = wanted;
  }
  if (change.remove.length) {
    const ids = [...new Set(change.remove)].filter(isUuid);
    removed.push(
      ...(await tx.query<{ directory_user_id: string }>('DELETE FROM directory_group_members WHERE group_id = $1 AND directory_user_id = ANY($2::uuid[]) RETURNING directory_user_id', [group.id, ids])).map(
        (r) => r.directory_user_id,
      ),
    );
  }
  if (change.add.length) {
    added = (
      await tx.query<{ directory_user_id: string }>(
        `INSERT INTO directory_group_members (group_id, directory_user_id, organization_id) SELECT $1, u, $3 FROM unnest($2::uuid[]) u
         ON CONFLICT DO NOTHING RETURNING directory_user_id`,
        [group.id, [...new Set(change.add)], organizationId],
      )
    ).map((r) => r.directory_user_id);
  }
  if (added.length || removed.length) {
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'directory_group.members_changed',
      target: { type: 'DirectoryGroup', id: group.id, display: updated.displayName },
      metadata: { added, removed },
    });
    await applyDirectoryGrants(tx, ctx, organizationId, [...added, ...removed]);
  }
  return updated;
}

export async function createGroup(ctx: RequestContext, body: unknown): Promise<DirectoryGroupEntity> {
  const change = changeOfPut(body);
  const { organizationId } = directoryOf(ctx);
  return ctx.write(async (tx) => {
    await lockOrganization(tx, ctx, organizationId);
    const group = (await uniqueName(() =>
      tx.selectOne(DirectoryGroupEntity, 'INSERT INTO directory_groups (organization_id, display_name, external_id) VALUES ($1, $2, $3) RETURNING *', [
        organizationId,
        change.displayName,
        change.externalId,
      ]),
    ))!;
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'directory_group.created',
      target: { type: 'DirectoryGroup', id: group.id, display: group.displayName },
      metadata: { displayName: group.displayName, externalId: group.externalId },
    });
    return applyChange(tx, ctx, group, { add: change.setMembers ?? [], remove: [] });
  });
}

async function changeGroup(ctx: RequestContext, id: string, change: GroupChange): Promise<DirectoryGroupEntity> {
  const { organizationId } = directoryOf(ctx);
  return ctx.write(async (tx) => {
    await lockOrganization(tx, ctx, organizationId);
    const group = isUuid(id)
      ? await tx.selectOne(DirectoryGroupEntity, 'SELECT * FROM directory_groups WHERE id = $1 AND organization_id = $2 FOR UPDATE', [id, organizationId])
      : undefined;
    if (!group) throw scimNotFound('Group');
    return applyChange(tx, ctx, group, change);
  });
}

export const putGroup = (ctx: RequestContext, id: string, body: unknown) => changeGroup(ctx, id, changeOfPut(body));
export const patchGroup = (ctx: RequestContext, id: string, body: unknown) => changeGroup(ctx, id, changeOfPatch(body));

/** DELETE /Groups/{id}: its members lose what it gave them. */
export async function deleteGroup(ctx: RequestContext, id: string): Promise<void> {
  const { organizationId } = directoryOf(ctx);
  await ctx.write(async (tx) => {
    await lockOrganization(tx, ctx, organizationId);
    const group = isUuid(id)
      ? await tx.selectOne(DirectoryGroupEntity, 'SELECT * FROM directory_groups WHERE id = $1 AND organization_id = $2 FOR UPDATE', [id, organizationId])
      : undefined;
    if (!group) throw scimNotFound('Group');
    const members = (await tx.query<{ directory_user_id: string }>('DELETE FROM directory_group_members WHERE group_id = $1 RETURNING directory_user_id', [group.id])).map(
      (r) => r.directory_user_id,
    );
    await tx.query('DELETE FROM directory_groups WHERE id = $1', [group.id]);
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'directory_group.deleted',
      target: { type: 'DirectoryGroup', id: group.id, display: group.displayName },
      metadata: { displayName: group.displayName, members: members.length },
    });
    await applyDirectoryGrants(tx, ctx, organizationId, members, { workspaces: group.workspaceId ? [group.workspaceId] : [], roleIds: group.roleIds });
  });
}
