import { catalog, type CatalogScope } from './catalog';
import { badInput } from '../errors';
import {
  ALL_PERMISSIONS,
  type Assignment,
  isBuiltInPermission,
  OrganizationRole,
  permissionsOf,
  WORKSPACE_ROLE_PERMISSIONS,
  WORKSPACE_SCOPES,
  type WorkspaceRole,
} from './permissions';

/*
 * Permission keys (API.md, "Product permissions"): the built-in permissions by their enum name,
 * the catalog's by `resource:action`. What a member or an API key holds is computed here and
 * nowhere else: Organization/Workspace.viewerPermissionKeys, organization tokens, `authorize`
 * and the escalation rules all read these functions.
 */

/** What a member is granted: its base role, assignments, and the union of its custom roles' permission keys. */
export interface Grant {
  role: OrganizationRole;
  assignments: readonly Assignment[];
  /** Every key its custom roles carry (memberships.role_permissions); none for someone new. */
  rolePermissions?: readonly string[];
}

/**
 * A member's organization-wide keys: its built-in permissions (role, assignments, custom roles),
 * the catalog's keys its base role holds, and its custom roles' product keys. A GUEST holds only
 * what the catalog gives GUEST: custom roles never widen a GUEST (as assignments never do).
 */
export function organizationKeysOf(grant: Grant): Set<string> {
  const keys = new Set<string>(permissionsOf(grant.role, grant.assignments, grant.rolePermissions));
  const products = catalog();
  for (const p of products.permissions) if (p.roles.includes(grant.role)) keys.add(p.key);
  if (grant.role !== OrganizationRole.GUEST) for (const key of grant.rolePermissions ?? []) if (products.byKey.has(key)) keys.add(key);
  return keys;
}

/**
 * Keys held inside one workspace by whoever has `role` there (null: not theirs to see, nothing):
 * the workspace role's built-in permissions, the catalog's WORKSPACE keys given to that
 * workspace role, and the WORKSPACE keys held organization-wide.
 */
export function workspaceKeysOf(organizationKeys: ReadonlySet<string>, role: WorkspaceRole | null): Set<string> {
  if (!role) return new Set();
  const keys = new Set<string>(WORKSPACE_ROLE_PERMISSIONS[role]);
  for (const p of catalog().permissions) {
    if (p.scope === 'WORKSPACE' && (p.workspaceRoles.includes(role) || organizationKeys.has(p.key))) keys.add(p.key);
  }
  return keys;
}

/** An API key's keys inside a workspace it acts in: its scopes that make sense there. */
export function workspaceKeysOfScopes(scopes: Iterable<string>): Set<string> {
  return new Set([...scopes].filter((key) => scopeOf(key) === 'WORKSPACE'));
}

/** Where a key is held: WORKSPACE for the workspace permissions, built-in or not; undefined when no such key exists. */
export function scopeOf(key: string): CatalogScope | undefined {
  if (isBuiltInPermission(key)) return WORKSPACE_SCOPES.has(key) ? 'WORKSPACE' : 'ORGANIZATION';
  return catalog().byKey.get(key)?.scope;
}

export function isPermissionKey(key: string): boolean {
  return scopeOf(key) !== undefined;
}

/** Built-in ones in enum order, then the catalog's in its order; keys no longer in the catalog are dropped. */
export function sortKeys(keys: Iterable<string>): string[] {
  const held = new Set(keys);
  return [...ALL_PERMISSIONS, ...catalog().permissions.map((p) => p.key)].filter((key) => held.has(key));
}

export function holdsAllKeys(held: ReadonlySet<string>, wanted: Iterable<string>): boolean {
  for (const key of wanted) if (!held.has(key)) return false;
  return true;
}

/** Keys from input: each must exist (BAD_USER_INPUT naming the first unknown one), returned unique and sorted. */
export function cleanPermissionKeys(field: string, keys: readonly string[]): string[] {
  const unknown = keys.find((key) => !isPermissionKey(key));
  if (unknown !== undefined) throw badInput(field, `Unknown permission key "${unknown}": expected a built-in permission (MEMBERS_INVITE) or a catalog key (sandboxes:create)`);
  return sortKeys(keys);
}

/**
 * Whether an actor may move a member from `current` (absent for someone new) to `next` (absent
 * for a removal). Nobody grants what they do not hold, nobody changes or removes a member
 * holding more than themselves — custom roles and product keys counted on both sides — and only
 * an OWNER makes or unmakes an OWNER. Returns the reason when refused.
 */
export function grantRefusal(actor: Grant, current: Grant | undefined, next: Grant | undefined): string | undefined {
  const held = organizationKeysOf(actor);
  const touchesOwner = current?.role === OrganizationRole.OWNER || next?.role === OrganizationRole.OWNER;
  if (touchesOwner && actor.role !== OrganizationRole.OWNER) return 'Only an OWNER can make, change or remove an OWNER';
  if (current && !holdsAllKeys(held, organizationKeysOf(current))) {
    return 'You cannot change a member who holds permissions you do not hold';
  }
  if (next && !holdsAllKeys(held, organizationKeysOf(next))) {
    return 'You cannot grant a role, assignment or custom role carrying permissions you do not hold';
  }
  return undefined;
}
