/** The permission catalog, roles and assignments of API.md, and what each grants. */

export enum Permission {
  ORGANIZATION_UPDATE = 'ORGANIZATION_UPDATE',
  ORGANIZATION_DELETE = 'ORGANIZATION_DELETE',
  OWNERSHIP_TRANSFER = 'OWNERSHIP_TRANSFER',
  MEMBERS_READ = 'MEMBERS_READ',
  MEMBERS_INVITE = 'MEMBERS_INVITE',
  MEMBERS_MANAGE = 'MEMBERS_MANAGE',
  BILLING_READ = 'BILLING_READ',
  BILLING_MANAGE = 'BILLING_MANAGE',
  BYOK_MANAGE = 'BYOK_MANAGE',
  WORKSPACES_CREATE = 'WORKSPACES_CREATE',
  WORKSPACES_MANAGE = 'WORKSPACES_MANAGE',
  WORKSPACES_ACCESS_ALL = 'WORKSPACES_ACCESS_ALL',
  WORKSPACE_READ = 'WORKSPACE_READ',
  WORKSPACE_OPERATE = 'WORKSPACE_OPERATE',
  API_KEYS_MANAGE = 'API_KEYS_MANAGE',
  AUDIT_READ = 'AUDIT_READ',
  /** Webhook endpoints of the organization (API.md, Events): OWNER and ADMIN; used only with AUDIT_READ (ORGANIZATION_WEBHOOKS below). */
  WEBHOOKS_MANAGE = 'WEBHOOKS_MANAGE',
  /** Verified domains and their enrollment (API.md, Enterprise identity): OWNER and ADMIN. */
  DOMAINS_MANAGE = 'DOMAINS_MANAGE',
  /** The organization's SSO connection and its enforcement (API.md, Enterprise identity): OWNER only. */
  SSO_MANAGE = 'SSO_MANAGE',
  /** Custom roles of the organization (API.md, Product permissions): OWNER and ADMIN. */
  ROLES_MANAGE = 'ROLES_MANAGE',
}

export enum OrganizationRole {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  DEVELOPER = 'DEVELOPER',
  VIEWER = 'VIEWER',
  GUEST = 'GUEST',
}

export enum Assignment {
  AUDITOR = 'AUDITOR',
  BILLING_MANAGER = 'BILLING_MANAGER',
  WORKSPACES_ADMIN = 'WORKSPACES_ADMIN',
  MEMBERS_ADMIN = 'MEMBERS_ADMIN',
}

/** A member's role inside one workspace (API.md: a per-workspace role override). */
export enum WorkspaceRole {
  ADMIN = 'ADMIN',
  DEVELOPER = 'DEVELOPER',
  VIEWER = 'VIEWER',
}

export const ALL_PERMISSIONS: readonly Permission[] = Object.values(Permission);

const ADMIN_LACKS = new Set<Permission>([
  Permission.BILLING_READ,
  Permission.BILLING_MANAGE,
  Permission.BYOK_MANAGE,
  Permission.ORGANIZATION_DELETE,
  Permission.OWNERSHIP_TRANSFER,
  Permission.AUDIT_READ,
  Permission.SSO_MANAGE,
]);

/**
 * Organization-wide permissions of each role. What DEVELOPER, VIEWER and GUEST may do inside
 * the workspaces they are assigned to is workspace-scoped, not organization-wide.
 */
export const ROLE_PERMISSIONS: Readonly<Record<OrganizationRole, ReadonlySet<Permission>>> = {
  OWNER: new Set(ALL_PERMISSIONS),
  ADMIN: new Set(ALL_PERMISSIONS.filter((p) => !ADMIN_LACKS.has(p))),
  DEVELOPER: new Set([Permission.MEMBERS_READ, Permission.API_KEYS_MANAGE]),
  VIEWER: new Set([Permission.MEMBERS_READ]),
  GUEST: new Set(),
};

export const ASSIGNMENT_PERMISSIONS: Readonly<Record<Assignment, readonly Permission[]>> = {
  AUDITOR: [Permission.AUDIT_READ],
  BILLING_MANAGER: [Permission.BILLING_READ, Permission.BILLING_MANAGE],
  WORKSPACES_ADMIN: [Permission.WORKSPACES_CREATE, Permission.WORKSPACES_MANAGE, Permission.WORKSPACES_ACCESS_ALL],
  MEMBERS_ADMIN: [Permission.MEMBERS_INVITE, Permission.MEMBERS_MANAGE],
};

/**
 * A member's organization-wide built-in permissions: its role's, its assignments', and those its
 * custom roles carry (`rolePermissions`: every key of them; product keys are left to
 * effective-permissions.ts). The one place a member's built-in permissions are computed.
 */
export function permissionsOf(role: OrganizationRole, assignments: readonly Assignment[] = [], rolePermissions: readonly string[] = []): Set<Permission> {
  const granted = new Set(ROLE_PERMISSIONS[role]);
  // A GUEST sees nothing of the organization beyond its name: assignments and custom roles cannot widen that.
  if (role === OrganizationRole.GUEST) return granted;
  for (const assignment of assignments) for (const p of ASSIGNMENT_PERMISSIONS[assignment]) granted.add(p);
  for (const key of rolePermissions) if (isBuiltInPermission(key)) granted.add(key);
  return granted;
}

export const isBuiltInPermission = (key: string): key is Permission => Object.prototype.hasOwnProperty.call(Permission, key);

/** OWNER-only: in no custom role, whoever makes it. */
export const OWNER_ONLY: ReadonlySet<Permission> = new Set([Permission.ORGANIZATION_DELETE, Permission.OWNERSHIP_TRANSFER]);

/** Catalog order, so that lists in responses are stable. */
export function sortPermissions(permissions: Iterable<Permission>): Permission[] {
  const held = new Set(permissions);
  return ALL_PERMISSIONS.filter((p) => held.has(p));
}

export function holdsAll(held: ReadonlySet<Permission>, wanted: Iterable<Permission>): boolean {
  for (const p of wanted) if (!held.has(p)) return false;
  return true;
}

/** What each workspace role may do inside that workspace. */
export const WORKSPACE_ROLE_PERMISSIONS: Readonly<Record<WorkspaceRole, ReadonlySet<Permission>>> = {
  ADMIN: new Set([Permission.WORKSPACE_READ, Permission.WORKSPACE_OPERATE, Permission.WORKSPACES_MANAGE]),
  DEVELOPER: new Set([Permission.WORKSPACE_READ, Permission.WORKSPACE_OPERATE]),
  VIEWER: new Set([Permission.WORKSPACE_READ]),
};

/** The highest workspace role a member of each role may hold: a GUEST at most DEVELOPER (API.md). */
const WORKSPACE_ROLE_CAP: Readonly<Record<OrganizationRole, WorkspaceRole>> = {
  OWNER: WorkspaceRole.ADMIN,
  ADMIN: WorkspaceRole.ADMIN,
  DEVELOPER: WorkspaceRole.ADMIN,
  VIEWER: WorkspaceRole.ADMIN,
  GUEST: WorkspaceRole.DEVELOPER,
};
const WORKSPACE_ROLE_RANK: readonly WorkspaceRole[] = [WorkspaceRole.VIEWER, WorkspaceRole.DEVELOPER, WorkspaceRole.ADMIN];

/**
 * What a member of `role` may hold of a wanted workspace role: the role itself, or its cap.
 * The one decision every writer (setWorkspaceAccess, role changes) and every reader
 * (workspaceRoleOf) applies, so an override stored under an older role never outranks the cap.
 */
export function holdableWorkspaceRole(role: OrganizationRole, wanted: WorkspaceRole): WorkspaceRole {
  const cap = WORKSPACE_ROLE_CAP[role];
  return WORKSPACE_ROLE_RANK.indexOf(wanted) > WORKSPACE_ROLE_RANK.indexOf(cap) ? cap : wanted;
}

/** The highest workspace role a member of `role` may hold, and those above it (the overrides a change to `role` must lower). */
export function workspaceRoleCap(role: OrganizationRole): { cap: WorkspaceRole; above: WorkspaceRole[] } {
  const cap = WORKSPACE_ROLE_CAP[role];
  return { cap, above: WORKSPACE_ROLE_RANK.slice(WORKSPACE_ROLE_RANK.indexOf(cap) + 1) };
}

/** The permissions that only make sense inside a workspace: all a workspace-bound API key may carry. */
export const WORKSPACE_SCOPES: ReadonlySet<Permission> = WORKSPACE_ROLE_PERMISSIONS.ADMIN;

/**
 * A member's role inside one workspace. Holders of WORKSPACES_MANAGE organization-wide
 * (OWNER, ADMIN, the WORKSPACES_ADMIN assignment) are ADMIN in every workspace. Anyone else
 * has a role only where assigned: the assignment's override, else DEVELOPER for a DEVELOPER
 * and VIEWER for a VIEWER or GUEST. Null: the workspace is not theirs to see.
 */
export function workspaceRoleOf(
  role: OrganizationRole,
  organizationPermissions: ReadonlySet<Permission>,
  assignment: { roleOverride: WorkspaceRole | null } | null,
): WorkspaceRole | null {
  if (organizationPermissions.has(Permission.WORKSPACES_MANAGE)) return WorkspaceRole.ADMIN;
  if (!assignment) return null;
  if (assignment.roleOverride) return holdableWorkspaceRole(role, assignment.roleOverride);
  return role === OrganizationRole.DEVELOPER ? WorkspaceRole.DEVELOPER : WorkspaceRole.VIEWER;
}

/** The workspace role an API key's scopes amount to. */
export function workspaceRoleOfScopes(scopes: ReadonlySet<string>): WorkspaceRole | null {
  if (scopes.has(Permission.WORKSPACES_MANAGE)) return WorkspaceRole.ADMIN;
  if (scopes.has(Permission.WORKSPACE_OPERATE)) return WorkspaceRole.DEVELOPER;
  if (scopes.has(Permission.WORKSPACE_READ) || scopes.has(Permission.WORKSPACES_ACCESS_ALL)) return WorkspaceRole.VIEWER;
  return null;
}

/** What managing an organization's webhook endpoints takes: an endpoint receives its events, which are its audit log. */
export const ORGANIZATION_WEBHOOKS: readonly Permission[] = [Permission.WEBHOOKS_MANAGE, Permission.AUDIT_READ];
