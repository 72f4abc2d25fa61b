import { requireMembership } from '../../authz/access';
import { grantRefusal } from '../../authz/effective-permissions';
import { holdableWorkspaceRole, Permission, WorkspaceRole, workspaceRoleCap } from '../../authz/permissions';
import { isUuid } from '../../common/ids';
import { toConnection } from '../../common/connection';
import { toPage, type PageArgs } from '../../common/page';
import { insertUnderFreeSlug } from '../../common/slugs';
import { cleanDescription, cleanName, cleanSlug } from '../../common/validation';
import type { RequestContext } from '../../context';
import { isUniqueViolation, type Database } from '../../db/database';
import { badInput, conflict, forbidden, notFound } from '../../errors';
import { changes, recordAudit } from '../audit/audit.service';
import { withdrawWhatMemberNoLongerGrants } from '../membership/member-grants';
import { assertWorkspaceSlot } from '../billing/subscription.service';
import type { MembershipEntity } from '../membership/membership.entity';
import { lockObject, lockOrganization, membershipObject } from '../../authz/locks';
import { WorkspaceAccessEntity, WorkspaceEntity } from './workspace.entity';
import { viewOf, type WorkspaceFilter, type WorkspaceView } from './workspace.loaders';
import type { CreateWorkspaceInput, SetWorkspaceAccessInput, UpdateWorkspaceInput } from './workspace.types';

/** The workspace if the asker may see it; NOT_FOUND otherwise, exactly like another tenant's. */
export async function visibleWorkspace(ctx: RequestContext, id: string): Promise<WorkspaceView> {
  const view = await ctx.loaders.workspaceView.load(id);
  if (!view) throw notFound('Workspace');
  return view;
}

/** A page of the organization's workspaces the asker may read; `properties`: only what the page's fields read (WORKSPACE_READS). */
export async function organizationWorkspaces(ctx: RequestContext, organizationId: string, args: PageArgs, properties?: readonly string[]) {
  const page = toPage(args);
  const access = await ctx.loaders.access.load(organizationId);
  const principal = ctx.principal;
  let filter: WorkspaceFilter | null = null;
  if (access?.boundWorkspaceId) filter = { only: access.boundWorkspaceId };
  else if (
    access?.permissions.has(Permission.WORKSPACES_ACCESS_ALL) ||
    // ADMIN in every workspace (workspaceRoleOf), as a custom role carrying WORKSPACES_MANAGE alone makes a member: it lists them all.
    (principal?.kind === 'user' && access?.permissions.has(Permission.WORKSPACES_MANAGE)) ||
    (principal?.kind === 'apiKey' && access?.permissions.has(Permission.WORKSPACE_READ))
  )
    filter = { all: true };
  else if (access && principal?.kind === 'user') filter = { assignedToUser: principal.userId };
  if (!filter) return toConnection<WorkspaceEntity>([], page, async () => 0);
  const key = { parentId: organizationId, filter };
  const rows = await ctx.loaders.workspacesPage.load({ parentId: organizationId, filter, page, properties });
  return toConnection(rows, page, () => ctx.loaders.workspacesCount.load(key));
}

/** Locks the organization and reads the asker's role in one of its workspaces afresh, inside the transaction. */
async function lockWorkspace(tx: Database, ctx: RequestContext, workspaceId: string, need: Permission) {
  const { organization, actor, row: workspace } = await lockObject(tx, ctx, { entity: WorkspaceEntity, table: 'workspaces', id: workspaceId, subject: 'Workspace' });
  const assignment = actor.membership
    ? await tx.selectOne(WorkspaceAccessEntity, 'SELECT * FROM workspace_access WHERE workspace_id = $1 AND membership_id = $2', [workspaceId, actor.membership.id])
    : null;
  const view = viewOf(workspace, actor, assignment ?? null, ctx.principal);
  if (!view) throw notFound('Workspace');
  if (!view.permissions.has(need)) throw forbidden(`This needs the ${need} permission in this workspace`);
  return { organization, workspace: view.workspace };
}

export async function createWorkspace(ctx: RequestContext, input: CreateWorkspaceInput): Promise<WorkspaceEntity> {
  const name = cleanName('name', input.name);
  const slug = input.slug === null || input.slug === undefined ? undefined : cleanSlug('slug', input.slug);
  const description = cleanDescription('description', input.description);
  return ctx.write(async (tx) => {
    const { organization } = await lockOrganization(tx, ctx, input.organizationId, Permission.WORKSPACES_CREATE);
    await assertWorkspaceSlot(tx, organization.id);
    const createdBy = ctx.principal?.kind === 'user' ? ctx.principal.userId : null;
    const workspace = await insertUnderFreeSlug(
      name,
      slug,
      (candidate) =>
        tx.selectOne(
          WorkspaceEntity,
          `INSERT INTO workspaces (organization_id, slug, name, description, created_by_id) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (organization_id, slug) DO NOTHING RETURNING *`,
          [organization.id, candidate, name, description, createdBy],
        ),
      { tryBare: true, fallback: 'workspace' },
    );
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'workspace.created',
      target: { type: 'Workspace', id: workspace.id, display: workspace.name },
      metadata: { slug: workspace.slug, name: workspace.name },
    });
    return workspace;
  });
}

export async function updateWorkspace(ctx: RequestContext, input: UpdateWorkspaceInput): Promise<WorkspaceEntity> {
  const wanted: Partial<WorkspaceEntity> = {};
  if (input.name !== undefined && input.name !== null) wanted.name = cleanName('name', input.name);
  if (input.slug !== undefined && input.slug !== null) wanted.slug = cleanSlug('slug', input.slug);
  if (input.description !== undefined) wanted.description = cleanDescription('description', input.description);
  return ctx.write(async (tx) => {
    const { workspace } = await lockWorkspace(tx, ctx, input.id, Permission.WORKSPACES_MANAGE);
    const diff = changes(workspace, wanted);
    if (Object.keys(diff).length === 0) return workspace;
    if (wanted.slug) {
      const [taken] = await tx.query('SELECT 1 FROM workspaces WHERE organization_id = $1 AND slug = $2 AND id <> $3', [workspace.organizationId, wanted.slug, workspace.id]);
      if (taken) throw conflict(`The slug "${wanted.slug}" is already taken in this organization`, 'slug');
    }
    let updated: WorkspaceEntity | undefined;
    try {
      updated = await tx.selectOne(
        WorkspaceEntity,
        'UPDATE workspaces SET name = $2, slug = $3, description = $4, updated_at = now() WHERE id = $1 RETURNING *',
        [workspace.id, wanted.name ?? workspace.name, wanted.slug ?? workspace.slug, 'description' in wanted ? wanted.description : workspace.description],
      );
    } catch (error) {
      if (isUniqueViolation(error, 'workspaces_organization_slug_key')) throw conflict(`The slug "${wanted.slug}" is already taken in this organization`, 'slug');
      throw error;
    }
    await recordAudit(tx, ctx, {
      organizationId: workspace.organizationId,
      action: 'workspace.updated',
      target: { type: 'Workspace', id: workspace.id, display: updated!.name },
      metadata: { changes: diff },
    });
    return updated!;
  });
}

/** Deletes the workspace; every assignment to it and every key bound to it go with it. */
export async function deleteWorkspace(ctx: RequestContext, id: string): Promise<boolean> {
  return ctx.write(async (tx) => {
    const { workspace } = await lockWorkspace(tx, ctx, id, Permission.WORKSPACES_MANAGE);
    const [{ assignments, keys }] = await tx.query<{ assignments: number; keys: number }>(
      `SELECT (SELECT count(*)::int FROM workspace_access WHERE workspace_id = $1) AS assignments,
              (SELECT count(*)::int FROM api_keys WHERE workspace_id = $1) AS keys`,
      [workspace.id],
    );
    await tx.query('DELETE FROM workspaces WHERE id = $1', [workspace.id]);
    await recordAudit(tx, ctx, {
      organizationId: workspace.organizationId,
      action: 'workspace.deleted',
      target: { type: 'Workspace', id: workspace.id, display: workspace.name },
      metadata: { slug: workspace.slug, name: workspace.name, assignmentsRemoved: assignments, apiKeysDeleted: keys },
    });
    return true;
  });
}

/**
 * Lowers a member's workspace overrides to what its role may hold (a GUEST: at most
 * DEVELOPER), inside the transaction that changes its role; returns what was lowered.
 */
export async function capWorkspaceAccess(tx: Database, membership: Pick<MembershipEntity, 'id' | 'role'>) {
  const { cap, above } = workspaceRoleCap(membership.role);
  if (!above.length) return [];
  return tx.query<{ workspaceId: string; before: WorkspaceRole; after: WorkspaceRole }>(
    `UPDATE workspace_access a SET role_override = $2 FROM workspace_access old
     WHERE a.membership_id = $1 AND a.role_override = ANY($3::text[]) AND old.id = a.id
     RETURNING a.workspace_id AS "workspaceId", old.role_override AS before, a.role_override AS after`,
    [membership.id, cap, above],
  );
}

/** Replaces a member's workspace assignments. */
export async function setWorkspaceAccess(ctx: RequestContext, input: SetWorkspaceAccessInput): Promise<MembershipEntity> {
  if (input.workspaces.length > 1000) throw badInput('workspaces', 'At most 1,000 workspaces at once');
  const ids = input.workspaces.map((w) => w.workspaceId.toLowerCase());
  if (new Set(ids).size !== ids.length) throw badInput('workspaces', 'A workspace appears twice');
  if (!ids.every(isUuid)) throw notFound('Workspace');
  return ctx.write(async (tx) => {
    const { organization, actor, row: target } = await lockObject(tx, ctx, membershipObject(input.membershipId), Permission.WORKSPACES_MANAGE);
    // An override one gave oneself would outlive the assignment that allowed it.
    if (target.id === requireMembership(actor).id) throw forbidden('You cannot change your own workspace access: ask another member who manages workspaces');
    // Nobody changes a member holding more than they do (an ADMIN's or the OWNER's access included).
    const refusal = grantRefusal(requireMembership(actor), target, target);
    if (refusal) throw forbidden(refusal);
    const above = input.workspaces.find((w) => w.roleOverride && holdableWorkspaceRole(target.role, w.roleOverride) !== w.roleOverride);
    if (above) throw badInput('workspaces', `A ${target.role} can be at most ${holdableWorkspaceRole(target.role, above.roleOverride!)} inside a workspace`);
    const found = await tx.query<{ id: string }>('SELECT id FROM workspaces WHERE organization_id = $1 AND id = ANY($2::uuid[])', [organization.id, ids]);
    if (found.length !== ids.length) throw notFound('Workspace');
    const before = await tx.query<{ workspace_id: string; role_override: WorkspaceRole | null }>(
      'SELECT workspace_id, role_override FROM workspace_access WHERE membership_id = $1 ORDER BY workspace_id',
      [target.id],
    );
    await tx.query('DELETE FROM workspace_access WHERE membership_id = $1', [target.id]);
    if (ids.length) {
      await tx.query(
        `INSERT INTO workspace_access (organization_id, workspace_id, membership_id, role_override)
         SELECT $1, w, $2, o FROM unnest($3::uuid[], $4::text[]) AS a(w, o)`,
        [organization.id, target.id, ids, input.workspaces.map((w) => w.roleOverride ?? null)],
      );
    }
    // Keys the member bound to a workspace it no longer holds enough in go with that access.
    await withdrawWhatMemberNoLongerGrants(tx, ctx, organization.id, target.userId, target);
    const describe = (rows: { workspaceId: string; roleOverride: WorkspaceRole | null }[]) =>
      [...rows].sort((a, b) => a.workspaceId.localeCompare(b.workspaceId));
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: 'member.workspace_access_changed',
      target: { type: 'Membership', id: target.id },
      metadata: {
        userId: target.userId,
        before: describe(before.map((r) => ({ workspaceId: r.workspace_id, roleOverride: r.role_override }))),
        after: describe(input.workspaces.map((w, i) => ({ workspaceId: ids[i], roleOverride: w.roleOverride ?? null }))),
      },
    });
    return target;
  });
}
