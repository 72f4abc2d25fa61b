import DataLoader from 'dataloader';
import type { Access } from '../../authz/access';
import type { Principal } from '../../auth/principal';
import { workspaceKeysOf, workspaceKeysOfScopes } from '../../authz/effective-permissions';
import {
  isBuiltInPermission,
  Permission,
  WORKSPACE_ROLE_PERMISSIONS,
  workspaceRoleOf,
  workspaceRoleOfScopes,
  type WorkspaceRole,
} from '../../authz/permissions';
import { childCountsLoader, childPagesLoader, groupLoader, rowLoader, type ChildList } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { entityReader } from '../../db/entity-rows';
import type { FieldReads } from '../../db/selection';
import { MembershipEntity } from '../membership/membership.entity';
import { WorkspaceAccessEntity, WorkspaceEntity } from './workspace.entity';

/** Which of an organization's workspaces a page lists. */
export type WorkspaceFilter = { all: true } | { assignedToUser: string } | { only: string };

/** An organization's workspaces, oldest first. */
const WORKSPACES_OF_ORGANIZATION: ChildList<WorkspaceFilter> = {
  from: 'workspaces t',
  parentColumn: 't.organization_id',
  parentType: 'uuid',
  order: 'ASC',
  where: (filter, params) => {
    if ('assignedToUser' in filter) {
      return [
        `EXISTS (SELECT 1 FROM workspace_access wa JOIN memberships m ON m.id = wa.membership_id
                 WHERE wa.workspace_id = t.id AND m.user_id = ${params.add(filter.assignedToUser)})`,
      ];
    }
    if ('only' in filter) return [`t.id = ${params.add(filter.only)}::uuid`];
    return [];
  },
};

/**
 * What each Workspace field reads of its row (db/selection.ts), as MEMBERSHIP_READS does for
 * members: a dashboard's twenty pages of ten workspaces showing an id and a name parsed 400
 * timestamps and four texts a row it never answered.
 */
export const WORKSPACE_READS: FieldReads = {
  always: ['id', 'organizationId'],
  byField: {
    id: [],
    slug: ['slug'],
    name: ['name'],
    description: ['description'],
    createdAt: ['createdAt'],
    updatedAt: ['updatedAt'],
    organization: [],
    viewerRole: [],
    viewerPermissions: [],
    viewerPermissionKeys: [],
    members: [],
  },
};

/**
 * Who can enter a workspace: holders of WORKSPACES_MANAGE organization-wide (OWNER, ADMIN, a
 * non-guest with WORKSPACES_ADMIN or a custom role carrying WORKSPACES_MANAGE — see workspaceRoleOf) and the members assigned to it.
 */
const MEMBERS_OF_WORKSPACE: ChildList<null> = {
  from: 'memberships t JOIN workspaces w ON w.organization_id = t.organization_id',
  parentColumn: 'w.id',
  parentType: 'uuid',
  order: 'ASC',
  where: () => [
    `(t.role IN ('OWNER', 'ADMIN')
      OR (t.role <> 'GUEST' AND ('WORKSPACES_ADMIN' = ANY(t.assignments) OR 'WORKSPACES_MANAGE' = ANY(t.role_permissions)))
      OR EXISTS (SELECT 1 FROM workspace_access wa WHERE wa.workspace_id = w.id AND wa.membership_id = t.id))`,
  ],
};

export const workspaceLoaders = (db: Database, principal: Principal | null) => ({
  workspace: rowLoader(db, WorkspaceEntity, { table: 'workspaces', column: 'id', type: 'uuid', property: 'id' }),
  /** The asking user's assignment to a workspace, by workspace id. */
  viewerWorkspaceAssignment:
    principal?.kind === 'user'
      ? rowLoader(db, WorkspaceAccessEntity, {
          table: 'workspace_access',
          column: 'workspace_id',
          type: 'uuid',
          property: 'workspaceId',
          where: 'membership_id IN (SELECT id FROM memberships WHERE user_id = $2)',
          params: [principal.userId],
        })
      : new DataLoader<string, WorkspaceAccessEntity | null>(async (keys) => keys.map(() => null)),
  workspacesPage: childPagesLoader(db, WORKSPACES_OF_ORGANIZATION, entityReader(WorkspaceEntity)),
  workspacesCount: childCountsLoader(db, WORKSPACES_OF_ORGANIZATION),
  workspaceMembersPage: childPagesLoader(db, MEMBERS_OF_WORKSPACE, entityReader(MembershipEntity)),
  workspaceMembersCount: childCountsLoader(db, MEMBERS_OF_WORKSPACE),
  /** A membership's workspace assignments, in the order the workspaces were made. */
  membershipWorkspaceAccess: groupLoader(db, WorkspaceAccessEntity, {
    table: 'workspace_access',
    column: 'membership_id',
    type: 'uuid',
    property: 'membershipId',
    orderBy: 'workspace_id',
  }),
});

/** A workspace as the asker sees it: its role there and what that role allows. */
export interface WorkspaceView {
  workspace: WorkspaceEntity;
  role: WorkspaceRole;
  permissions: ReadonlySet<Permission>;
  /** Permission keys held inside it, built-in and product (effective-permissions.ts). */
  keys: ReadonlySet<string>;
}

/** The asker's role in a workspace, from its organization access and its assignment. */
export function viewOf(workspace: WorkspaceEntity, access: Access | null, assignment: WorkspaceAccessEntity | null, principal: Principal | null): WorkspaceView | null {
  if (!access) return null;
  if (principal?.kind === 'apiKey') {
    if (access.boundWorkspaceId && access.boundWorkspaceId !== workspace.id) return null;
    const role = workspaceRoleOfScopes(principal.scopes);
    const keys = workspaceKeysOfScopes(principal.scopes);
    return role ? { workspace, role, permissions: new Set([...keys].filter(isBuiltInPermission)), keys } : null;
  }
  if (!access.role) return null;
  const role = workspaceRoleOf(access.role, access.permissions, assignment);
  return role ? { workspace, role, permissions: WORKSPACE_ROLE_PERMISSIONS[role], keys: workspaceKeysOf(access.keys, role) } : null;
}

export const workspaceViewLoaders = (
  principal: Principal | null,
  loaders: Pick<ReturnType<typeof workspaceLoaders>, 'workspace' | 'viewerWorkspaceAssignment'>,
  access: DataLoader<string, Access | null>,
) => ({
  /** Null for a workspace the asker may not see: it is NOT_FOUND to them. */
  workspaceView: new DataLoader<string, WorkspaceView | null>(async (ids) => {
    const rows = await loaders.workspace.loadMany(ids);
    const found = rows.filter((row): row is WorkspaceEntity => row !== null && !(row instanceof Error));
    // Read together with the workspaces for people (viewer-rows.ts): the loaders have them already.
    const [accesses, assignments] = await Promise.all([
      access.loadMany(found.map((workspace) => workspace.organizationId)),
      loaders.viewerWorkspaceAssignment.loadMany(found.map((workspace) => workspace.id)),
    ]);
    const views = new Map<WorkspaceEntity, WorkspaceView | Error | null>(
      found.map((workspace, i) => {
        const [organizationAccess, assignment] = [accesses[i], assignments[i]];
        // A refusal (SSO_REQUIRED) is that workspace's answer alone.
        if (organizationAccess instanceof Error) return [workspace, organizationAccess];
        if (assignment instanceof Error) return [workspace, assignment];
        return [workspace, viewOf(workspace, organizationAccess, assignment, principal)];
      }),
    );
    return rows.map((row) => (row instanceof Error ? row : row ? (views.get(row) ?? null) : null));
  }),
});
