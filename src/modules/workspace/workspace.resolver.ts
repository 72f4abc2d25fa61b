import { sortKeys } from '../../authz/effective-permissions';
import type { GraphQLResolveInfo } from 'graphql';
import { Directive, Arg, Args, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Permission, permissionsOf, sortPermissions, WORKSPACE_ROLE_PERMISSIONS, WorkspaceRole, workspaceRoleOf } from '../../authz/permissions';
import { toConnection } from '../../common/connection';
import { PageArgs, toPage } from '../../common/page';
import type { RequestContext } from '../../context';
import type { MembershipEntity } from '../membership/membership.entity';
import { Membership, MembershipConnection } from '../membership/membership.types';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import { propertiesRead } from '../../db/selection';
import type { WorkspaceAccessEntity, WorkspaceEntity } from './workspace.entity';
import { WORKSPACE_READS } from './workspace.loaders';
import * as workspaces from './workspace.service';
import { CreateWorkspaceInput, SetWorkspaceAccessInput, UpdateWorkspaceInput, Workspace, WorkspaceAccess, WorkspaceConnection } from './workspace.types';

@Resolver(() => Workspace)
export class WorkspaceResolver {
  @Query(() => Workspace, { nullable: true, description: 'A workspace the viewer may see; null with NOT_FOUND otherwise.' })
  async workspace(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<WorkspaceEntity> {
    return (await workspaces.visibleWorkspace(ctx, id)).workspace;
  }

  @Mutation(() => Workspace, { description: 'Needs WORKSPACES_CREATE; refused past the plan\'s workspace limit (QUOTA_EXCEEDED).' })
  createWorkspace(@Ctx() ctx: RequestContext, @Arg('input', () => CreateWorkspaceInput) input: CreateWorkspaceInput) {
    return workspaces.createWorkspace(ctx, input);
  }

  @Mutation(() => Workspace, { description: 'Needs WORKSPACES_MANAGE in that workspace.' })
  updateWorkspace(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateWorkspaceInput) input: UpdateWorkspaceInput) {
    return workspaces.updateWorkspace(ctx, input);
  }

  @Mutation(() => Boolean, { description: 'Removes every access to it and every API key bound to it.' })
  deleteWorkspace(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return workspaces.deleteWorkspace(ctx, id);
  }

  @Directive('@authenticated')
  @Mutation(() => Membership, { description: 'Replaces a member\'s workspace assignments. Needs WORKSPACES_MANAGE.' })
  setWorkspaceAccess(@Ctx() ctx: RequestContext, @Arg('input', () => SetWorkspaceAccessInput) input: SetWorkspaceAccessInput) {
    return workspaces.setWorkspaceAccess(ctx, input);
  }

  @FieldResolver(() => Organization)
  async organization(@Root() workspace: WorkspaceEntity, @Ctx() ctx: RequestContext) {
    return ctx.loaders.organization.load(workspace.organizationId);
  }

  @FieldResolver(() => WorkspaceRole, { nullable: true, description: 'The viewer\'s effective role inside this workspace.' })
  async viewerRole(@Root() workspace: WorkspaceEntity, @Ctx() ctx: RequestContext): Promise<WorkspaceRole | null> {
    return (await ctx.loaders.workspaceView.load(workspace.id))?.role ?? null;
  }

  @FieldResolver(() => [Permission], { description: 'What the viewer may do inside this workspace.' })
  async viewerPermissions(@Root() workspace: WorkspaceEntity, @Ctx() ctx: RequestContext): Promise<Permission[]> {
    const view = await ctx.loaders.workspaceView.load(workspace.id);
    return view ? sortPermissions(view.permissions) : [];
  }

  @FieldResolver(() => [String], { description: 'What the viewer may do inside this workspace, as permission keys: built-in names and the catalog\'s WORKSPACE keys (sandboxes:create).' })
  async viewerPermissionKeys(@Root() workspace: WorkspaceEntity, @Ctx() ctx: RequestContext): Promise<string[]> {
    const view = await ctx.loaders.workspaceView.load(workspace.id);
    return view ? sortKeys(view.keys) : [];
  }

  @FieldResolver(() => MembershipConnection, { description: 'Members who can enter it: by organization role or by assignment. Needs MEMBERS_READ.' })
  async members(@Root() workspace: WorkspaceEntity, @Ctx() ctx: RequestContext, @Args() args: PageArgs) {
    const page = toPage(args);
    const rows = await ctx.loaders.workspaceMembersPage.load({ parentId: workspace.id, page, filter: null });
    return toConnection(rows, page, () => ctx.loaders.workspaceMembersCount.load({ parentId: workspace.id, filter: null }));
  }
}

@Resolver(() => Organization)
export class OrganizationWorkspacesResolver {
  @FieldResolver(() => WorkspaceConnection, { description: 'The workspaces the viewer may read.' })
  workspaces(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext, @Args() args: PageArgs, @Info() info: GraphQLResolveInfo) {
    return workspaces.organizationWorkspaces(ctx, organization.id, args, propertiesRead(info, WORKSPACE_READS));
  }
}

@Resolver(() => Membership)
export class MembershipWorkspaceAccessResolver {
  @FieldResolver(() => [WorkspaceAccess], { description: 'The member\'s workspace assignments, among the workspaces the viewer may see.' })
  async workspaceAccess(@Root() membership: MembershipEntity, @Ctx() ctx: RequestContext) {
    const assignments = await ctx.loaders.membershipWorkspaceAccess.load(membership.id);
    const views = await ctx.loaders.workspaceView.loadMany(assignments.map((a) => a.workspaceId));
    const organizationPermissions = permissionsOf(membership.role, membership.assignments, membership.rolePermissions);
    return assignments
      .filter((_, i) => views[i] && !(views[i] instanceof Error))
      .map((assignment) => {
        // Never null: an assignment always gives a role.
        const role = workspaceRoleOf(membership.role, organizationPermissions, assignment)!;
        return Object.assign({}, assignment, { role, permissions: sortPermissions(WORKSPACE_ROLE_PERMISSIONS[role]) });
      });
  }
}

@Resolver(() => WorkspaceAccess)
export class WorkspaceAccessResolver {
  @FieldResolver(() => Workspace)
  async workspace(@Root() access: WorkspaceAccessEntity, @Ctx() ctx: RequestContext) {
    return (await workspaces.visibleWorkspace(ctx, access.workspaceId)).workspace;
  }
}
