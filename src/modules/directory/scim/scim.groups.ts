import { parse, type Filter } from 'scim2-parse-filter';
import type { DirectoryPrincipal } from '../../../auth/principal';
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
import { patchOperations, type Page } from './scim.users';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

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

const directoryOf = (ctx: RequestContext): DirectoryPrincipal => ctx.principal as DirectoryPrincipal;

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

const MAX_TEXT = 500;

function text(name: string, value: unknown, required: boolean): string | null {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalidValue(`${name} is required`);
    return null;
  }
  if (typeof value !== 'string' || value.length > MAX_TEXT || value.includes('\u0000')) throw invalidValue(`${name} must be a string of at most ${MAX_TEXT} characters, without NUL`);
  return value;
}

function field(body: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

/** `[{ value }]` → the ids; one of a value that is no User of this organization is refused when written. */
function memberIds(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.map((m: unknown) => {
    const id = m && typeof m === 'object' ? field(m as Record<string, unknown>, 'value') : undefined;
    if (typeof id !== 'string') throw invalidValue('members holds objects with a value: a User id');
    return id;
  });
}

/** The member ids a path filter names: `members[value eq "…"]` (several with `or`). */
function idsOfMemberFilter(filter: Filter): string[] {
  if (filter.op === 'or') return filter.filters.flatMap(idsOfMemberFilter);
  if (filter.op === 'eq' && filter.attrPath.toLowerCase() === 'value' && typeof filter.compValue === 'string') return [filter.compValue];
  throw new ScimError(400, 'A members filter names members by value: members[value eq "…"]', 'invalidFilter');
}

/** A change to a group, as the PATCH operations or a PUT say it. */
interface GroupChange {
  displayName?: string;
  externalId?: string | null;
  /** The whole member list (PUT, replace). */
  setMembers?: string[];
  add: string[];
  remove: string[];
}

function parsePath(path: string): { attribute: string; filter: Filter | null } {
  const bracket = /^([^[]+)\[(.*)\]$/.exec(path.trim());
  if (!bracket) return { attribute: path.trim().toLowerCase().replace(`${GROUP_SCHEMA.toLowerCase()}:`, ''), filter: null };
  let filter: Filter;
  try {
    filter = parse(bracket[2]);
  } catch {
    throw new ScimError(400, `The path ${path.slice(0, 200)} does not parse`, 'invalidPath');
  }
  return { attribute: bracket[1].trim().toLowerCase(), filter };
}

/** RFC 7644 §3.5.2 on a Group: displayName, externalId and members, with and without path; members removed by value (Entra) or by filter. */
function changeOfPatch(body: unknown): GroupChange {
  const change: GroupChange = { add: [], remove: [] };
  for (const { op, path, value } of patchOperations(body) as { op: 'add' | 'replace' | 'remove'; path?: string; value?: unknown }[]) {
    if (path === undefined) {
      if (op === 'remove') throw new ScimError(400, 'remove needs a path', 'noTarget');
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidValue('Without a path, value is an object of attributes');
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) apply(change, op, key.toLowerCase(), null, v);
    } else {
      const { attribute, filter } = parsePath(path);
      apply(change, op, attribute, filter, value);
    }
  }
  return change;
}

function apply(change: GroupChange, op: 'add' | 'replace' | 'remove', attribute: string, filter: Filter | null, value: unknown): void {
  switch (attribute) {
    case 'displayname':
      if (op === 'remove') throw new ScimError(400, 'displayName is required', 'mutability');
      change.displayName = text('displayName', value, true)!;
      return;
    case 'externalid':
      change.externalId = op === 'remove' ? null : text('externalId', value, false);
      return;
    case 'id':
    case 'schemas':
    case 'meta':
      // Entra sends the id back with a replace of the other attributes: unchanged, so nothing to do.
      return;
    case 'members': {
      const named = filter ? idsOfMemberFilter(filter) : null;
      if (op === 'add') {
        change.add.push(...memberIds(value));
      } else if (op === 'remove') {
        // By path filter, by value (Entra), or all of them.
        const ids = named ?? (value !== undefined ? memberIds(value) : null);
        if (ids) change.remove.push(...ids);
        else {
          change.setMembers = [];
          change.add = [];
          change.remove = [];
        }
      } else {
        if (named) throw new ScimError(400, 'Replace a member by removing it and adding another', 'invalidPath');
        change.setMembers = memberIds(value);
        change.add = [];
        change.remove = [];
      }
      return;
    }
    default:
      throw new ScimError(400, `${attribute} is not an attribute of a Group that can be changed`, 'invalidPath');
  }
}

function changeOfPut(body: unknown): GroupChange & { displayName: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ScimError(400, 'The body must be a SCIM Group', 'invalidSyntax');
  const b = body as Record<string, unknown>;
  return {
    displayName: text('displayName', field(b, 'displayName'), true)!,
    externalId: text('externalId', field(b, 'externalId'), false),
    setMembers: field(b, 'members') === undefined ? undefined : memberIds(field(b, 'members')),
    add: [],
    remove: [],
  };
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
