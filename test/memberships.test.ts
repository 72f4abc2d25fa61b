import { addMember, createOrganization, failure, gql, newUser, ok, serviceToken, sql, unique, userWithEmail, type TestUser } from './support/client';

const UPDATE = 'mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { id role assignments permissions } }';
const REMOVE = 'mutation($id: ID!) { removeMember(membershipId: $id) }';
const LEAVE = 'mutation($id: ID!) { leaveOrganization(organizationId: $id) }';
const TRANSFER = 'mutation($o: ID!, $m: ID!) { transferOwnership(organizationId: $o, membershipId: $m) { id viewerRole } }';
const VIEWER_ACCESS = 'query($id: ID!) { organization(id: $id) { viewerRole viewerPermissions } }';

const ALL = [
  'ORGANIZATION_UPDATE', 'ORGANIZATION_DELETE', 'OWNERSHIP_TRANSFER', 'MEMBERS_READ', 'MEMBERS_INVITE', 'MEMBERS_MANAGE',
  'BILLING_READ', 'BILLING_MANAGE', 'BYOK_MANAGE', 'WORKSPACES_CREATE', 'WORKSPACES_MANAGE', 'WORKSPACES_ACCESS_ALL',
  'WORKSPACE_READ', 'WORKSPACE_OPERATE', 'API_KEYS_MANAGE', 'AUDIT_READ', 'WEBHOOKS_MANAGE',
  'DOMAINS_MANAGE', 'SSO_MANAGE', 'ROLES_MANAGE',
];
const ADMIN_LACKS = ['BILLING_READ', 'BILLING_MANAGE', 'BYOK_MANAGE', 'ORGANIZATION_DELETE', 'OWNERSHIP_TRANSFER', 'AUDIT_READ', 'SSO_MANAGE'];

interface Team {
  org: { id: string; slug: string };
  owner: TestUser;
  ownerMembership: string;
  people: Record<string, { user: TestUser; membership: string }>;
}

/** An organization with one member per role (and a few with assignments). */
async function team(): Promise<Team> {
  const owner = newUser('Owner');
  const org = await createOrganization(owner, 'Crew');
  const [own] = await sql('SELECT id FROM memberships WHERE organization_id = $1 AND user_id = $2', [org.id, owner.id]);
  const people: Team['people'] = {};
  const specs: [string, string, string[]][] = [
    ['admin', 'ADMIN', []],
    ['developer', 'DEVELOPER', []],
    ['viewer', 'VIEWER', []],
    ['guest', 'GUEST', []],
    ['auditor', 'VIEWER', ['AUDITOR']],
    ['membersAdmin', 'DEVELOPER', ['MEMBERS_ADMIN']],
  ];
  for (const [key, role, assignments] of specs) {
    const user = newUser(key);
    people[key] = { user, membership: await addMember(org.id, user, role, assignments) };
  }
  return { org, owner, ownerMembership: own.id, people };
}

describe('roles and permissions as each member sees them', () => {
  let t: Team;
  beforeAll(async () => {
    t = await team();
  });

  it.each([
    ['owner', 'OWNER', ALL],
    ['admin', 'ADMIN', ALL.filter((p) => !ADMIN_LACKS.includes(p))],
    ['developer', 'DEVELOPER', ['MEMBERS_READ', 'API_KEYS_MANAGE']],
    ['viewer', 'VIEWER', ['MEMBERS_READ']],
    ['guest', 'GUEST', []],
    ['auditor', 'VIEWER', ['MEMBERS_READ', 'AUDIT_READ']],
    ['membersAdmin', 'DEVELOPER', ['MEMBERS_READ', 'MEMBERS_INVITE', 'MEMBERS_MANAGE', 'API_KEYS_MANAGE']],
  ])('%s: viewerRole %s with the permissions of API.md', async (who, role, permissions) => {
    const user = who === 'owner' ? t.owner : t.people[who].user;
    const { organization } = await ok(VIEWER_ACCESS, { id: t.org.id }, user);
    expect(organization).toEqual({ viewerRole: role, viewerPermissions: permissions });
  });

  it('Membership.permissions shows every member\'s role plus assignments', async () => {
    const { organization } = await ok('query($id: ID!) { organization(id: $id) { members(first: 100) { nodes { id role assignments permissions } } } }', { id: t.org.id }, t.owner);
    const auditor = organization.members.nodes.find((m: { id: string }) => m.id === t.people.auditor.membership);
    expect(auditor).toEqual({ id: t.people.auditor.membership, role: 'VIEWER', assignments: ['AUDITOR'], permissions: ['MEMBERS_READ', 'AUDIT_READ'] });
  });

  it('a GUEST sees the id, slug and name, and nothing else of the organization', async () => {
    const guest = t.people.guest.user;
    const { organization } = await ok('query($id: ID!) { organization(id: $id) { id slug name viewerRole } }', { id: t.org.id }, guest);
    expect(organization).toEqual({ id: t.org.id, slug: t.org.slug, name: 'Crew', viewerRole: 'GUEST' });
    for (const field of ['kind', 'description', 'createdAt', 'discoverable', 'members { totalCount }', 'auditEvents { totalCount }']) {
      const res = await gql(`query($id: ID!) { organization(id: $id) { id ${field} } }`, { id: t.org.id }, guest);
      expect(res.errors?.[0].extensions.code).toBe('FORBIDDEN');
      // The same through their own memberships, where their access is known before any rule asks.
      const own = await gql(`{ viewer { memberships(first: 50) { nodes { organization { id name ${field} } } } } }`, {}, guest);
      expect(own.errors?.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
      const shown = own.data?.viewer.memberships.nodes.find((m: any) => m.organization?.id === t.org.id)?.organization;
      expect(shown?.[field.split(' ')[0]] ?? null).toBeNull();
    }
    // Their own organization's fields, and the team's name, they read that way.
    const names = await ok(`{ viewer { memberships(first: 50) { nodes { role organization { id name } } } } }`, {}, guest);
    expect(names.viewer.memberships.nodes).toContainEqual({ role: 'GUEST', organization: { id: t.org.id, name: 'Crew' } });
  });

  it('members are readable with MEMBERS_READ; the audit log only with AUDIT_READ', async () => {
    const members = 'query($id: ID!) { organization(id: $id) { members { totalCount } } }';
    expect((await ok(members, { id: t.org.id }, t.people.viewer.user)).organization.members.totalCount).toBe(7);
    const audit = 'query($id: ID!) { organization(id: $id) { auditEvents { nodes { action } } } }';
    expect((await ok(audit, { id: t.org.id }, t.people.auditor.user)).organization.auditEvents.nodes[0].action).toBe('organization.created');
    expect((await failure(audit, { id: t.org.id }, t.people.admin.user)).code).toBe('FORBIDDEN');
  });

  it('filters members by role and by email or name, and pages with cursors', async () => {
    const filtered = await ok('query($id: ID!) { organization(id: $id) { members(role: DEVELOPER) { totalCount nodes { role } } } }', { id: t.org.id }, t.owner);
    expect(filtered.organization.members).toEqual({ totalCount: 2, nodes: [{ role: 'DEVELOPER' }, { role: 'DEVELOPER' }] });
    const searched = await ok('query($id: ID!, $s: String) { organization(id: $id) { members(search: $s) { nodes { id } } } }', { id: t.org.id, s: 'AUDITOR' }, t.owner);
    expect(searched.organization.members.nodes).toEqual([{ id: t.people.auditor.membership }]);
    const PAGE = 'query($id: ID!, $after: String) { organization(id: $id) { members(first: 3, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }';
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { organization }: any = await ok(PAGE, { id: t.org.id, after }, t.owner);
      seen.push(...organization.members.nodes.map((n: { id: string }) => n.id));
      if (!organization.members.pageInfo.hasNextPage) break;
      after = organization.members.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
  });

  // Whatever fields a query asks of a page's nodes together, through edges, fragments or
  // aliases, each comes back whole (a page reading only some columns must not lose the others).
  it('a members or workspaces page answers every field, whichever fields are asked together', async () => {
    const workspace = (await ok('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: t.org.id, name: 'Described', description: 'on the page' } }, t.owner)).createWorkspace.id;
    const { organization } = await ok(
      `query($id: ID!) { organization(id: $id) {
        few: members(first: 50) { nodes { id role email displayName user { id } } }
        all: members(first: 50) { edges { node { id ...Whole } } }
        names: workspaces(first: 50) { nodes { id name } }
        more: workspaces(first: 50) { nodes { ... on Workspace { id name description createdAt } } }
      } }
      fragment Whole on Membership { role assignments joinedAt permissions invitedBy { id } }`,
      { id: t.org.id },
      t.owner,
    );
    const stored = await sql(`SELECT m.id, m.role, m.assignments, m.created_at, u.id AS user_id, u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 ORDER BY m.id`, [t.org.id]);
    expect(organization.few.nodes.map((m: any) => [m.id, m.role, m.email, m.user.id])).toEqual(stored.map((r) => [r.id, r.role, r.email, r.user_id]));
    const whole = organization.all.edges.map((e: any) => e.node);
    expect(whole.map((m: any) => [m.id, m.role, m.assignments, new Date(m.joinedAt).getTime()])).toEqual(stored.map((r) => [r.id, r.role, r.assignments, r.created_at.getTime()]));
    expect(whole.find((m: any) => m.id === t.people.auditor.membership).permissions).toEqual(['MEMBERS_READ', 'AUDIT_READ']);
    const described = organization.more.nodes.find((w: any) => w.id === workspace);
    expect(described).toMatchObject({ name: 'Described', description: 'on the page' });
    expect(Number.isNaN(Date.parse(described.createdAt))).toBe(false);
    expect(organization.names.nodes.map((w: any) => w.id)).toEqual(organization.more.nodes.map((w: any) => w.id));

    // The same page asked for few fields and for more is one statement.
    const statements = async (query: string) => (await gql(query, { id: t.org.id }, t.owner)).statements;
    const full = `members(first: 50) { nodes { id joinedAt } } workspaces(first: 50) { nodes { id createdAt } }`;
    const both = `few: members(first: 50) { nodes { id } } few2: workspaces(first: 50) { nodes { id } } ${full}`;
    expect(await statements(`query($id: ID!) { organization(id: $id) { ${both} } }`)).toBe(await statements(`query($id: ID!) { organization(id: $id) { ${full} } }`));
  });

  it('organizations read along with a user\'s memberships are whole, and the same as read by id', async () => {
    const fields = 'id slug kind name description discoverable createdAt updatedAt';
    await ok('mutation($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { id } }', { input: { id: t.org.id, description: 'read along' } }, t.owner);
    const byId = (await ok(`query($id: ID!) { organization(id: $id) { ${fields} } }`, { id: t.org.id }, t.owner)).organization;
    const own = await gql(`{ viewer { memberships(first: 50) { nodes { organization { ${fields} } } } } }`, {}, t.owner);
    expect(own.errors).toBeUndefined();
    expect(own.data!.viewer.memberships.nodes.map((m: any) => m.organization)).toContainEqual(byId);
    // Memberships and their organizations in one statement; their members in a second.
    const withMembers = await gql(`{ viewer { memberships(first: 50) { nodes { organization { name members(first: 5) { nodes { id } } } } } } }`, {}, t.owner);
    expect(withMembers.statements).toBe(2);
    // Another member's memberships, as the owner sees them: the shared organization, whole.
    const theirs = await ok(`query($id: ID!) { node: organization(id: $id) { members(first: 50) { nodes { user { memberships(first: 50) { nodes { organization { ${fields} } } } } } } } }`, { id: t.org.id }, t.owner);
    const seen = theirs.node.members.nodes.flatMap((m: any) => m.user.memberships.nodes.map((n: any) => n.organization));
    expect(seen.filter((o: any) => o.id === t.org.id)).toEqual(Array(seen.filter((o: any) => o.id === t.org.id).length).fill(byId));
    expect(seen.filter((o: any) => o.id === t.org.id).length).toBeGreaterThan(1);
  });

  it('refuses first over 100 and a forged cursor with BAD_USER_INPUT', async () => {
    expect(await failure('query($id: ID!) { organization(id: $id) { members(first: 101) { totalCount } } }', { id: t.org.id }, t.owner)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(await failure('query($id: ID!) { organization(id: $id) { members(after: "zzz") { totalCount } } }', { id: t.org.id }, t.owner)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('Membership.emailVerified', () => {
  it('tells a verified address from a merely claimed one, on a members page and elsewhere, at no extra statement', async () => {
    const owner = newUser('Owner');
    const org = await createOrganization(owner, 'Verified?');
    const claimer = userWithEmail(`${unique('claimer')}@example.test`, 'Claimer', false);
    const claimed = await addMember(org.id, claimer, 'VIEWER');
    const checked = newUser('Checked');
    const verified = await addMember(org.id, checked, 'VIEWER');
    const page = (fields: string) => gql(`query($id: ID!) { organization(id: $id) { members(first: 10) { nodes { ${fields} } } } }`, { id: org.id }, owner);
    const withFlag = await page('id email emailVerified');
    expect(withFlag.errors).toBeUndefined();
    const byId = new Map(withFlag.data!.organization.members.nodes.map((m: any) => [m.id, m]));
    expect(byId.get(claimed)).toEqual({ id: claimed, email: claimer.email, emailVerified: false });
    expect(byId.get(verified)).toEqual({ id: verified, email: checked.email, emailVerified: true });
    expect(withFlag.statements).toBe((await page('id email')).statements);
    expect(withFlag.statements).toBe((await page('id email emailVerified joinedAt')).statements);
    // Read without a members page: through the user loader.
    const own = await ok('{ viewer { memberships { nodes { id emailVerified } } } }', {}, claimer);
    expect(own.viewer.memberships.nodes).toContainEqual({ id: claimed, emailVerified: false });
    const entities = await ok('query($r: [_Any!]!) { _entities(representations: $r) { ... on Membership { id emailVerified } } }', { r: [claimed, verified].map((id) => ({ __typename: 'Membership', id })) }, owner);
    expect(entities._entities).toEqual([{ id: claimed, emailVerified: false }, { id: verified, emailVerified: true }]);
  });

  it('a provisioned address reads verified: the accounts service is authoritative for the address it provisions', async () => {
    const owner = newUser('Owner');
    const org = await createOrganization(owner, 'Provisioned');
    const userId = unique('provisioned');
    await ok('mutation($input: ProvisionUserInput!) { provisionUser(input: $input) { id } }', { input: { userId, email: `${userId}@example.test` } }, serviceToken(unique('accounts'), 'users:provision'));
    const [{ id }] = await sql<{ id: string }>(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'VIEWER') RETURNING id`, [org.id, userId]);
    const { _entities } = await ok('query($r: [_Any!]!) { _entities(representations: $r) { ... on Membership { email emailVerified } } }', { r: [{ __typename: 'Membership', id }] }, owner);
    expect(_entities).toEqual([{ email: `${userId}@example.test`, emailVerified: true }]);
  });
});

describe('changing members: nobody grants what they do not hold', () => {
  let t: Team;
  beforeEach(async () => {
    t = await team();
  });
  const change = (by: TestUser, membershipId: string, input: Record<string, unknown>) => gql(UPDATE, { input: { membershipId, ...input } }, by);
  const code = async (p: ReturnType<typeof change>) => (await p).errors?.[0]?.extensions.code ?? 'OK';

  it('only an OWNER makes an OWNER', async () => {
    expect(await code(change(t.people.admin.user, t.people.viewer.membership, { role: 'OWNER' }))).toBe('FORBIDDEN');
    expect(await code(change(t.people.admin.user, t.people.admin.membership, { role: 'OWNER' }))).toBe('FORBIDDEN');
    const res = await change(t.owner, t.people.viewer.membership, { role: 'OWNER' });
    expect(res.data?.updateMembership.role).toBe('OWNER');
  });

  it('an ADMIN cannot change or remove an OWNER', async () => {
    expect(await code(change(t.people.admin.user, t.ownerMembership, { role: 'VIEWER' }))).toBe('FORBIDDEN');
    expect((await failure(REMOVE, { id: t.ownerMembership }, t.people.admin.user)).code).toBe('FORBIDDEN');
    const [row] = await sql('SELECT role FROM memberships WHERE id = $1', [t.ownerMembership]);
    expect(row.role).toBe('OWNER');
  });

  it('an ADMIN cannot grant assignments carrying permissions it lacks, but can grant what it holds', async () => {
    expect(await code(change(t.people.admin.user, t.people.viewer.membership, { assignments: ['AUDITOR'] }))).toBe('FORBIDDEN');
    expect(await code(change(t.people.admin.user, t.people.viewer.membership, { assignments: ['BILLING_MANAGER'] }))).toBe('FORBIDDEN');
    expect(await code(change(t.people.admin.user, t.people.admin.membership, { assignments: ['AUDITOR'] }))).toBe('FORBIDDEN');
    const res = await change(t.people.admin.user, t.people.viewer.membership, { role: 'DEVELOPER', assignments: ['MEMBERS_ADMIN', 'WORKSPACES_ADMIN'] });
    expect(res.data?.updateMembership).toMatchObject({ role: 'DEVELOPER', assignments: ['MEMBERS_ADMIN', 'WORKSPACES_ADMIN'] });
  });

  it('a DEVELOPER with MEMBERS_ADMIN manages those below it, not above', async () => {
    const by = t.people.membersAdmin.user;
    expect(await code(change(by, t.people.viewer.membership, { role: 'DEVELOPER' }))).toBe('OK');
    expect(await code(change(by, t.people.viewer.membership, { role: 'ADMIN' }))).toBe('FORBIDDEN');
    expect(await code(change(by, t.people.admin.membership, { role: 'VIEWER' }))).toBe('FORBIDDEN');
    expect(await code(change(by, t.people.auditor.membership, { role: 'DEVELOPER' }))).toBe('FORBIDDEN');
  });

  it('members without MEMBERS_MANAGE cannot change anyone, themselves included', async () => {
    expect(await code(change(t.people.developer.user, t.people.viewer.membership, { role: 'GUEST' }))).toBe('FORBIDDEN');
    expect(await code(change(t.people.viewer.user, t.people.viewer.membership, { role: 'ADMIN' }))).toBe('FORBIDDEN');
    expect(await code(change(t.people.guest.user, t.people.guest.membership, { role: 'VIEWER' }))).toBe('FORBIDDEN');
  });

  it('a GUEST cannot hold assignments', async () => {
    expect(await failure(UPDATE, { input: { membershipId: t.people.guest.membership, assignments: ['AUDITOR'] } }, t.owner)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'assignments' });
  });

  it('writes member.role_changed with before and after', async () => {
    await change(t.owner, t.people.viewer.membership, { role: 'DEVELOPER' });
    const [event] = await sql(`SELECT actor_id, target_id, metadata FROM audit_events WHERE organization_id = $1 AND action = 'member.role_changed'`, [t.org.id]);
    expect(event).toEqual({
      actor_id: t.owner.id,
      target_id: t.people.viewer.membership,
      metadata: { userId: t.people.viewer.user.id, changes: { role: { before: 'VIEWER', after: 'DEVELOPER' } } },
    });
  });

  it('removes a member: it loses the organization; audited', async () => {
    expect(await ok(REMOVE, { id: t.people.viewer.membership }, t.people.admin.user)).toEqual({ removeMember: true });
    expect((await failure('query($id: ID!) { organization(id: $id) { id } }', { id: t.org.id }, t.people.viewer.user)).code).toBe('NOT_FOUND');
    expect(await sql(`SELECT 1 FROM audit_events WHERE organization_id = $1 AND action = 'member.removed' AND target_id = $2`, [t.org.id, t.people.viewer.membership])).toHaveLength(1);
  });

  it('an ADMIN removing its own membership leaves; audited (found by test/fuzz.test.ts)', async () => {
    const x = await team();
    expect(await ok(REMOVE, { id: x.people.admin.membership }, x.people.admin.user)).toEqual({ removeMember: true });
    expect(await sql('SELECT 1 FROM memberships WHERE id = $1', [x.people.admin.membership])).toHaveLength(0);
    expect(await sql(`SELECT actor_id FROM audit_events WHERE organization_id = $1 AND action = 'member.removed' AND target_id = $2`, [x.org.id, x.people.admin.membership])).toEqual([
      { actor_id: x.people.admin.user.id },
    ]);
  });

  it('lets a member leave; audited', async () => {
    expect(await ok(LEAVE, { id: t.org.id }, t.people.admin.user)).toEqual({ leaveOrganization: true });
    expect(await sql('SELECT 1 FROM memberships WHERE id = $1', [t.people.admin.membership])).toHaveLength(0);
    expect(await sql(`SELECT actor_id FROM audit_events WHERE organization_id = $1 AND action = 'member.left'`, [t.org.id])).toEqual([{ actor_id: t.people.admin.user.id }]);
  });

  it('transfers ownership: that member becomes OWNER, the caller ADMIN', async () => {
    expect((await failure(TRANSFER, { o: t.org.id, m: t.people.admin.membership }, t.people.admin.user)).code).toBe('FORBIDDEN');
    const { transferOwnership } = await ok(TRANSFER, { o: t.org.id, m: t.people.developer.membership }, t.owner);
    expect(transferOwnership).toEqual({ id: t.org.id, viewerRole: 'ADMIN' });
    const rows = await sql('SELECT id, role FROM memberships WHERE id = ANY($1) ORDER BY role', [[t.ownerMembership, t.people.developer.membership]]);
    expect(rows).toEqual([
      { id: t.ownerMembership, role: 'ADMIN' },
      { id: t.people.developer.membership, role: 'OWNER' },
    ]);
    expect(await sql(`SELECT 1 FROM audit_events WHERE organization_id = $1 AND action = 'organization.ownership_transferred'`, [t.org.id])).toHaveLength(1);
  });
});

describe('an organization always keeps an OWNER', () => {
  it('refuses to demote, remove or let leave the last OWNER', async () => {
    const t = await team();
    expect((await failure(UPDATE, { input: { membershipId: t.ownerMembership, role: 'ADMIN' } }, t.owner)).code).toBe('FAILED_PRECONDITION');
    expect((await failure(REMOVE, { id: t.ownerMembership }, t.owner)).code).toBe('FAILED_PRECONDITION');
    expect((await failure(LEAVE, { id: t.org.id }, t.owner)).code).toBe('FAILED_PRECONDITION');
  });

  it('lets an OWNER step down while another remains', async () => {
    const t = await team();
    await ok(UPDATE, { input: { membershipId: t.people.admin.membership, role: 'OWNER' } }, t.owner);
    expect((await ok(UPDATE, { input: { membershipId: t.ownerMembership, role: 'ADMIN' } }, t.owner)).updateMembership.role).toBe('ADMIN');
  });

  it.each([
    ['demote each other', (a: Side, b: Side) => [gql(UPDATE, { input: { membershipId: b.membership, role: 'ADMIN' } }, a.user), gql(UPDATE, { input: { membershipId: a.membership, role: 'ADMIN' } }, b.user)]],
    ['remove each other', (a: Side, b: Side) => [gql(REMOVE, { id: b.membership }, a.user), gql(REMOVE, { id: a.membership }, b.user)]],
    ['both leave', (a: Side, b: Side, org: string) => [gql(LEAVE, { id: org }, a.user), gql(LEAVE, { id: org }, b.user)]],
    ['demote themselves', (a: Side, b: Side) => [gql(UPDATE, { input: { membershipId: a.membership, role: 'VIEWER' } }, a.user), gql(UPDATE, { input: { membershipId: b.membership, role: 'VIEWER' } }, b.user)]],
    ['one leaves while the other is removed', (a: Side, b: Side, org: string) => [gql(LEAVE, { id: org }, a.user), gql(REMOVE, { id: b.membership }, a.user)]],
  ])('when two OWNERs %s at the same moment (20 rounds)', async (_label, race) => {
    for (let round = 0; round < 20; round++) {
      const a = newUser();
      const b = newUser();
      const org = await createOrganization(a, 'Race');
      const [am] = await sql('SELECT id FROM memberships WHERE organization_id = $1', [org.id]);
      const bm = await addMember(org.id, b, 'OWNER');
      const results = await Promise.all(race({ user: a, membership: am.id }, { user: b, membership: bm }, org.id));
      for (const res of results) expect(['FAILED_PRECONDITION', 'NOT_FOUND', 'FORBIDDEN', undefined]).toContain(res.errors?.[0]?.extensions.code);
      const [{ owners }] = await sql(`SELECT count(*)::int AS owners FROM memberships WHERE organization_id = $1 AND role = 'OWNER'`, [org.id]);
      expect(owners).toBeGreaterThanOrEqual(1);
      expect(results.filter((r) => !r.errors).length).toBeGreaterThanOrEqual(1);
    }
  });
});

interface Side {
  user: TestUser;
  membership: string;
}

describe('another tenant\'s objects are NOT_FOUND, never FORBIDDEN', () => {
  let t: Team;
  let outsider: TestUser;
  beforeAll(async () => {
    t = await team();
    outsider = newUser('Outsider');
    await createOrganization(outsider, 'Elsewhere');
  });

  it.each([
    ['organization', 'query($id: ID!) { organization(id: $id) { id } }', (x: Team) => ({ id: x.org.id })],
    ['organizationBySlug', 'query($s: String!) { organizationBySlug(slug: $s) { id } }', (x: Team) => ({ s: x.org.slug })],
    ['updateOrganization', 'mutation($id: ID!) { updateOrganization(input: { id: $id, name: "Pwned" }) { id } }', (x: Team) => ({ id: x.org.id })],
    ['deleteOrganization', 'mutation($id: ID!, $s: String!) { deleteOrganization(id: $id, confirmSlug: $s) }', (x: Team) => ({ id: x.org.id, s: x.org.slug })],
    ['transferOwnership', TRANSFER, (x: Team) => ({ o: x.org.id, m: x.people.viewer.membership })],
    ['switchOrganization', 'mutation($id: ID!) { switchOrganization(organizationId: $id) { id } }', (x: Team) => ({ id: x.org.id })],
    ['updateMembership', UPDATE, (x: Team) => ({ input: { membershipId: x.people.viewer.membership, role: 'ADMIN' } })],
    ['removeMember', REMOVE, (x: Team) => ({ id: x.people.viewer.membership })],
    ['leaveOrganization', LEAVE, (x: Team) => ({ id: x.org.id })],
    ['_entities Organization', 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id name } } }', (x: Team) => ({ r: [{ __typename: 'Organization', id: x.org.id }] })],
    ['_entities Membership', 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Membership { id role } } }', (x: Team) => ({ r: [{ __typename: 'Membership', id: x.people.viewer.membership }] })],
  ])('%s', async (_name, query, variables) => {
    const res = await gql(query, variables(t), outsider);
    expect(res.errors?.map((e) => e.extensions.code)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(res.data ?? {})).not.toMatch(/Crew|Pwned/);
    // The same answer as for ids that exist nowhere: nothing tells the two apart.
    const nowhere = JSON.parse(JSON.stringify(variables(t)).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '01900000-0000-7000-8000-000000000000').replace(new RegExp(t.org.slug, 'g'), 'no-such-slug'));
    const missing = await gql(query, nowhere, outsider);
    expect(missing.errors?.map((e) => e.message)).toEqual(res.errors?.map((e) => e.message));
  });

  afterAll(async () => {
    const [row] = await sql('SELECT name FROM organizations WHERE id = $1', [t.org.id]);
    expect(row.name).toBe('Crew');
    expect(await sql('SELECT role FROM memberships WHERE id = $1', [t.people.viewer.membership])).toEqual([{ role: 'VIEWER' }]);
  });
});

describe('switchOrganization', () => {
  it('remembers the active organization across sessions, and falls back to the personal one after leaving', async () => {
    const t = await team();
    const user = t.people.admin.user;
    const ACTIVE = '{ viewer { activeOrganization { id } personalOrganization { id } } }';
    const before = await ok(ACTIVE, {}, user);
    expect(before.viewer.activeOrganization.id).toBe(before.viewer.personalOrganization.id);
    await ok('mutation($id: ID!) { switchOrganization(organizationId: $id) { activeOrganization { id } } }', { id: t.org.id }, user);
    // A new session: a fresh token for the same user.
    const later = newUser();
    const again = await ok(ACTIVE, {}, { ...later, token: user.token });
    expect(again.viewer.activeOrganization.id).toBe(t.org.id);
    await ok(LEAVE, { id: t.org.id }, user);
    const after = await ok(ACTIVE, {}, user);
    expect(after.viewer.activeOrganization.id).toBe(before.viewer.personalOrganization.id);
  });
});
