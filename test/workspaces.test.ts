import { addMember, createOrganization, failure, gql, newUser, ok, sql, type TestUser } from './support/client';

const CREATE = 'mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id slug name viewerRole } }';
const UPDATE = 'mutation($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { id name slug description } }';
const DELETE = 'mutation($id: ID!) { deleteWorkspace(id: $id) }';
const SET_ACCESS = 'mutation($input: SetWorkspaceAccessInput!) { setWorkspaceAccess(input: $input) { id workspaceAccess { roleOverride workspace { id } } } }';
const LIST = 'query($id: ID!) { organization(id: $id) { workspaces(first: 100) { totalCount nodes { id viewerRole } } } }';
const ONE = 'query($id: ID!) { workspace(id: $id) { id name viewerRole viewerPermissions organization { id } } }';

interface World {
  org: { id: string; slug: string };
  ws: Record<'w1' | 'w2' | 'w3', string>;
  users: Record<string, TestUser>;
  memberships: Record<string, string>;
}

/**
 * owner, admin, wsAdmin (VIEWER + WORKSPACES_ADMIN), developer, viewer, guest; workspaces w1..w3.
 * developer: w1 (no override), w3 (ADMIN). viewer: w1 (DEVELOPER), w2. guest: w2 (DEVELOPER).
 */
async function world(): Promise<World> {
  const users: World['users'] = { owner: newUser('Owner') };
  const org = await createOrganization(users.owner, 'Works');
  const memberships: Record<string, string> = {};
  for (const [key, role, assignments] of [
    ['admin', 'ADMIN', []],
    ['wsAdmin', 'VIEWER', ['WORKSPACES_ADMIN']],
    ['developer', 'DEVELOPER', []],
    ['viewer', 'VIEWER', []],
    ['guest', 'GUEST', []],
  ] as [string, string, string[]][]) {
    users[key] = newUser(key);
    memberships[key] = await addMember(org.id, users[key], role, assignments);
  }
  const ws = {} as World['ws'];
  for (const key of ['w1', 'w2', 'w3'] as const) {
    ws[key] = (await ok(CREATE, { input: { organizationId: org.id, name: `Space ${key}` } }, users.owner)).createWorkspace.id;
  }
  const assign = (member: string, workspaces: { workspaceId: string; roleOverride?: string }[]) =>
    ok(SET_ACCESS, { input: { membershipId: memberships[member], workspaces } }, users.owner);
  await assign('developer', [{ workspaceId: ws.w1 }, { workspaceId: ws.w3, roleOverride: 'ADMIN' }]);
  await assign('viewer', [{ workspaceId: ws.w1, roleOverride: 'DEVELOPER' }, { workspaceId: ws.w2 }]);
  await assign('guest', [{ workspaceId: ws.w2, roleOverride: 'DEVELOPER' }]);
  return { org, ws, users, memberships };
}

describe('who sees which workspace, in which role', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });

  it.each([
    ['owner', { w1: 'ADMIN', w2: 'ADMIN', w3: 'ADMIN' }],
    ['admin', { w1: 'ADMIN', w2: 'ADMIN', w3: 'ADMIN' }],
    ['wsAdmin', { w1: 'ADMIN', w2: 'ADMIN', w3: 'ADMIN' }],
    ['developer', { w1: 'DEVELOPER', w3: 'ADMIN' }],
    ['viewer', { w1: 'DEVELOPER', w2: 'VIEWER' }],
  ])('%s lists exactly %j in Organization.workspaces', async (who, expected) => {
    const { organization } = await ok(LIST, { id: w.org.id }, w.users[who]);
    const seen = Object.fromEntries(organization.workspaces.nodes.map((n: any) => [Object.entries(w.ws).find(([, id]) => id === n.id)![0], n.viewerRole]));
    expect(seen).toEqual(expected);
    expect(organization.workspaces.totalCount).toBe(Object.keys(expected).length);
  });

  it.each([
    ['developer', 'w2'],
    ['viewer', 'w3'],
    ['guest', 'w1'],
    ['guest', 'w3'],
  ])('%s gets NOT_FOUND for %s, exactly as for another tenant\'s workspace', async (who, key) => {
    const res = await failure(ONE, { id: w.ws[key as 'w1'] }, w.users[who]);
    expect(res).toMatchObject({ code: 'NOT_FOUND', message: 'Workspace not found' });
    const stranger = await failure(ONE, { id: w.ws.w1 }, newUser());
    expect(stranger).toMatchObject({ code: 'NOT_FOUND', message: 'Workspace not found' });
  });

  it('shows the effective role and permissions: overrides raise and set roles per workspace', async () => {
    expect((await ok(ONE, { id: w.ws.w3 }, w.users.developer)).workspace).toMatchObject({
      viewerRole: 'ADMIN',
      viewerPermissions: ['WORKSPACES_MANAGE', 'WORKSPACE_READ', 'WORKSPACE_OPERATE'],
    });
    expect((await ok(ONE, { id: w.ws.w1 }, w.users.viewer)).workspace).toMatchObject({ viewerRole: 'DEVELOPER', viewerPermissions: ['WORKSPACE_READ', 'WORKSPACE_OPERATE'] });
    expect((await ok(ONE, { id: w.ws.w2 }, w.users.viewer)).workspace).toMatchObject({ viewerRole: 'VIEWER', viewerPermissions: ['WORKSPACE_READ'] });
  });

  it('a GUEST reaches its assigned workspace, and lists it, alone, on the organization and through its own membership', async () => {
    expect((await ok(ONE, { id: w.ws.w2 }, w.users.guest)).workspace).toMatchObject({ id: w.ws.w2, viewerRole: 'DEVELOPER' });
    const listed = (await ok(LIST, { id: w.org.id }, w.users.guest)).organization.workspaces;
    expect(listed.nodes.map((n: { id: string }) => n.id)).toEqual([w.ws.w2]);
    const { viewer } = await ok('{ viewer { memberships { nodes { organization { id } role workspaceAccess { roleOverride role permissions workspace { id name } } } } } }', {}, w.users.guest);
    const here = viewer.memberships.nodes.find((m: any) => m.organization.id === w.org.id);
    expect(here).toEqual({
      organization: { id: w.org.id },
      role: 'GUEST',
      workspaceAccess: [{ roleOverride: 'DEVELOPER', role: 'DEVELOPER', permissions: ['WORKSPACE_READ', 'WORKSPACE_OPERATE'], workspace: { id: w.ws.w2, name: 'Space w2' } }],
    });
  });

  it('another member\'s assignments show only the workspaces the viewer may see', async () => {
    const query = 'query($id: ID!) { organization(id: $id) { members(first: 100) { nodes { id workspaceAccess { workspace { id } } } } } }';
    const { organization } = await ok(query, { id: w.org.id }, w.users.viewer);
    const developer = organization.members.nodes.find((m: any) => m.id === w.memberships.developer);
    expect(developer.workspaceAccess).toEqual([{ workspace: { id: w.ws.w1 } }]);
    const roles = await ok('query($id: ID!) { organization(id: $id) { members(first: 100) { nodes { id workspaceAccess { role roleOverride workspace { id } } } } } }', { id: w.org.id }, w.users.owner);
    const viewer = roles.organization.members.nodes.find((m: any) => m.id === w.memberships.viewer);
    expect(viewer.workspaceAccess).toEqual([
      { role: 'DEVELOPER', roleOverride: 'DEVELOPER', workspace: { id: w.ws.w1 } },
      { role: 'VIEWER', roleOverride: null, workspace: { id: w.ws.w2 } },
    ]);
  });

  it('Workspace.members lists who can enter: by role, by WORKSPACES_ADMIN, by assignment', async () => {
    const query = 'query($id: ID!) { workspace(id: $id) { members(first: 100) { totalCount nodes { id role } } } }';
    const { workspace } = await ok(query, { id: w.ws.w2 }, w.users.owner);
    const ids = workspace.members.nodes.map((m: any) => m.id);
    expect(ids).toEqual(expect.arrayContaining([w.memberships.admin, w.memberships.wsAdmin, w.memberships.viewer, w.memberships.guest]));
    expect(ids).not.toContain(w.memberships.developer);
    expect(workspace.members.totalCount).toBe(5);
    expect((await failure(query, { id: w.ws.w2 }, w.users.guest)).code).toBe('FORBIDDEN');
  });
});

describe('who may change workspaces', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });
  const code = async (p: ReturnType<typeof gql>) => (await p).errors?.[0]?.extensions.code ?? 'OK';

  it('createWorkspace needs WORKSPACES_CREATE', async () => {
    const create = (who: string) => code(gql(CREATE, { input: { organizationId: w.org.id, name: `By ${who}` } }, w.users[who]));
    expect(await create('owner')).toBe('OK');
    expect(await create('admin')).toBe('OK');
    expect(await create('wsAdmin')).toBe('OK');
    expect(await create('developer')).toBe('FORBIDDEN');
    expect(await create('viewer')).toBe('FORBIDDEN');
    expect(await create('guest')).toBe('FORBIDDEN');
    expect(await code(gql(CREATE, { input: { organizationId: w.org.id, name: 'By stranger' } }, newUser()))).toBe('NOT_FOUND');
  });

  it('updateWorkspace and deleteWorkspace need WORKSPACES_MANAGE in that workspace', async () => {
    expect(await code(gql(UPDATE, { input: { id: w.ws.w3, name: 'Mine now' } }, w.users.developer))).toBe('OK');
    expect(await code(gql(UPDATE, { input: { id: w.ws.w1, name: 'Not mine' } }, w.users.developer))).toBe('FORBIDDEN');
    expect(await code(gql(UPDATE, { input: { id: w.ws.w2, name: 'Unseen' } }, w.users.developer))).toBe('NOT_FOUND');
    expect(await code(gql(DELETE, { id: w.ws.w1 }, w.users.viewer))).toBe('FORBIDDEN');
    expect(await code(gql(DELETE, { id: w.ws.w2 }, w.users.guest))).toBe('FORBIDDEN');
    expect(await code(gql(DELETE, { id: w.ws.w3 }, w.users.developer))).toBe('OK');
    const [row] = await sql('SELECT name FROM workspaces WHERE id = $1', [w.ws.w1]);
    expect(row.name).toBe('Space w1');
  });

  it('setWorkspaceAccess needs WORKSPACES_MANAGE organization-wide, and replaces the assignments (audited)', async () => {
    const set = (who: string, workspaces: object[]) => gql(SET_ACCESS, { input: { membershipId: w.memberships.viewer, workspaces } }, w.users[who]);
    expect(await code(set('developer', [{ workspaceId: w.ws.w3 }]))).toBe('FORBIDDEN');
    const res = await set('wsAdmin', [{ workspaceId: w.ws.w3, roleOverride: 'VIEWER' }]);
    expect(res.data?.setWorkspaceAccess.workspaceAccess).toEqual([{ roleOverride: 'VIEWER', workspace: { id: w.ws.w3 } }]);
    expect((await failure(ONE, { id: w.ws.w1 }, w.users.viewer)).code).toBe('NOT_FOUND');
    const [event] = await sql(`SELECT metadata FROM audit_events WHERE organization_id = $1 AND action = 'member.workspace_access_changed' AND target_id = $2 ORDER BY id DESC LIMIT 1`, [w.org.id, w.memberships.viewer]);
    expect(event.metadata.after).toEqual([{ workspaceId: w.ws.w3, roleOverride: 'VIEWER' }]);
    expect(event.metadata.before).toHaveLength(2);
  });

  it('refuses bad assignments and changes nothing', async () => {
    const before = await sql('SELECT workspace_id, role_override FROM workspace_access WHERE membership_id = $1 ORDER BY workspace_id', [w.memberships.guest]);
    const set = (workspaces: object[], membershipId = w.memberships.guest) => failure(SET_ACCESS, { input: { membershipId, workspaces } }, w.users.owner);
    expect(await set([{ workspaceId: w.ws.w1, roleOverride: 'ADMIN' }])).toMatchObject({ code: 'BAD_USER_INPUT', field: 'workspaces' });
    expect(await set([{ workspaceId: w.ws.w1 }, { workspaceId: w.ws.w1 }])).toMatchObject({ code: 'BAD_USER_INPUT', field: 'workspaces' });
    expect((await set([{ workspaceId: '01900000-0000-7000-8000-000000000000' }])).code).toBe('NOT_FOUND');
    const other = await world();
    expect((await set([{ workspaceId: other.ws.w1 }])).code).toBe('NOT_FOUND');
    expect((await set([{ workspaceId: w.ws.w1 }], other.memberships.viewer)).code).toBe('NOT_FOUND');
    expect(await sql('SELECT workspace_id, role_override FROM workspace_access WHERE membership_id = $1 ORDER BY workspace_id', [w.memberships.guest])).toEqual(before);
  });

  it('removing a member removes its workspace access; what it created stays', async () => {
    const created = (await ok(CREATE, { input: { organizationId: w.org.id, name: 'Left behind' } }, w.users.wsAdmin)).createWorkspace.id;
    await ok('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: w.memberships.developer }, w.users.owner);
    await ok('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: w.memberships.wsAdmin }, w.users.owner);
    expect(await sql('SELECT 1 FROM workspace_access WHERE membership_id = $1', [w.memberships.developer])).toHaveLength(0);
    expect((await failure(ONE, { id: w.ws.w3 }, w.users.developer)).code).toBe('NOT_FOUND');
    expect((await ok(ONE, { id: created }, w.users.owner)).workspace.name).toBe('Left behind');
  });

  it('deleting a workspace removes every access to it', async () => {
    await ok(DELETE, { id: w.ws.w2 }, w.users.admin);
    expect(await sql('SELECT 1 FROM workspace_access WHERE workspace_id = $1', [w.ws.w2])).toHaveLength(0);
    expect((await failure(ONE, { id: w.ws.w2 }, w.users.owner)).code).toBe('NOT_FOUND');
    expect(await sql(`SELECT 1 FROM audit_events WHERE target_id = $1 AND action = 'workspace.deleted'`, [w.ws.w2])).toHaveLength(1);
  });
});

describe('workspace input', () => {
  let owner: TestUser;
  let org: { id: string; slug: string };
  beforeAll(async () => {
    owner = newUser();
    org = await createOrganization(owner, 'Inputs');
  });
  const count = async () => (await sql('SELECT count(*)::int AS n FROM workspaces WHERE organization_id = $1', [org.id]))[0].n;

  it.each([
    ['an empty name', { name: '' }, 'name'],
    ['a 1,000-character name', { name: 'x'.repeat(1000) }, 'name'],
    ['a 2-character slug', { name: 'ok', slug: 'ab' }, 'slug'],
    ['a slug with spaces', { name: 'ok', slug: 'Not A Slug' }, 'slug'],
    ['a reserved slug', { name: 'ok', slug: 'admin' }, 'slug'],
    ['a 1,001-character description', { name: 'ok', description: 'd'.repeat(1001) }, 'description'],
  ])('refuses %s with BAD_USER_INPUT on %s, creating nothing', async (_label, input, field) => {
    const before = await count();
    expect(await failure(CREATE, { input: { organizationId: org.id, ...input } }, owner)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await count()).toBe(before);
  });

  it('keeps slugs unique within an organization, not across organizations', async () => {
    await ok(CREATE, { input: { organizationId: org.id, name: 'A', slug: 'shared-slug' } }, owner);
    expect(await failure(CREATE, { input: { organizationId: org.id, name: 'B', slug: 'SHARED-SLUG' } }, owner)).toMatchObject({ code: 'CONFLICT', field: 'slug' });
    const other = await createOrganization(owner, 'Other');
    expect((await ok(CREATE, { input: { organizationId: other.id, name: 'C', slug: 'shared-slug' } }, owner)).createWorkspace.slug).toBe('shared-slug');
    const second = (await ok(CREATE, { input: { organizationId: org.id, name: 'D', slug: 'second-slug' } }, owner)).createWorkspace.id;
    expect(await failure(UPDATE, { input: { id: second, slug: 'shared-slug' } }, owner)).toMatchObject({ code: 'CONFLICT', field: 'slug' });
  });

  it('unknown or malformed ids are NOT_FOUND', async () => {
    for (const id of ['01900000-0000-7000-8000-000000000000', 'nope']) {
      expect((await failure(ONE, { id }, owner)).code).toBe('NOT_FOUND');
      expect((await failure(UPDATE, { input: { id, name: 'x' } }, owner)).code).toBe('NOT_FOUND');
      expect((await failure(DELETE, { id }, owner)).code).toBe('NOT_FOUND');
    }
    expect((await failure(CREATE, { input: { organizationId: 'nope', name: 'x' } }, owner)).code).toBe('NOT_FOUND');
  });
});

describe('the plan\'s workspace limit', () => {
  const personal = async (user: TestUser) => (await ok('{ viewer { personalOrganization { id } } }', {}, user)).viewer.personalOrganization.id;

  it('STARTER (a personal organization) allows 3 workspaces: the 4th is QUOTA_EXCEEDED', async () => {
    const user = newUser();
    const id = await personal(user);
    for (let i = 0; i < 3; i++) await ok(CREATE, { input: { organizationId: id, name: `W${i}` } }, user);
    expect((await failure(CREATE, { input: { organizationId: id, name: 'W3' } }, user)).code).toBe('QUOTA_EXCEEDED');
    expect((await sql('SELECT count(*)::int AS n FROM workspaces WHERE organization_id = $1', [id]))[0].n).toBe(3);
  });

  it('two creations racing for the last slot: exactly one wins (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      const user = newUser();
      const id = await personal(user);
      for (let i = 0; i < 2; i++) await ok(CREATE, { input: { organizationId: id, name: `W${i}` } }, user);
      const results = await Promise.all([1, 2, 3].map((i) => gql(CREATE, { input: { organizationId: id, name: `Race ${i}` } }, user)));
      expect(results.filter((r) => !r.errors).length).toBe(1);
      expect(results.filter((r) => r.errors?.[0].extensions.code === 'QUOTA_EXCEEDED').length).toBe(2);
      expect((await sql('SELECT count(*)::int AS n FROM workspaces WHERE organization_id = $1', [id]))[0].n).toBe(3);
    }
  });
});
