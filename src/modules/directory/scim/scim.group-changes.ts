import { parse, type Filter } from 'scim2-parse-filter';
import { invalidValue, ScimError } from './scim.errors';
import { field, GROUP_SCHEMA, patchOperations, text } from './scim.request';

/** What a PATCH (RFC 7644 §3.5.2) or a PUT asks of a Group, read and checked before any SQL (scim.groups.ts applies it). */

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
export interface GroupChange {
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
export function changeOfPatch(body: unknown): GroupChange {
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

export function changeOfPut(body: unknown): GroupChange & { displayName: string } {
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
