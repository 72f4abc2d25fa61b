import { addMember, createOrganization, failure, invitationToken, newUser, ok, sql, unique, userWithEmail, type TestUser } from './support/client';
import { decode, issue } from './support/organization-tokens';

const CREATE_ROLE = 'mutation($input: CreateRoleInput!) { createRole(input: $input) { id key name permissions memberCount } }';
const UPDATE_ROLE = 'mutation($input: UpdateRoleInput!) { updateRole(input: $input) { id permissions memberCount } }';
const DELETE_ROLE = 'mutation($id: ID!) { deleteRole(id: $id) }';
const GRANT = 'mutation($m: ID!, $r: [ID!], $role: OrganizationRole) { updateMembership(input: { membershipId: $m, roleIds: $r, role: $role }) { id role roles { key } permissions } }';
const INVITE = 'mutation($id: ID!, $e: [String!]!, $r: [ID!]) { inviteMembers(input: { organizationId: $id, emails: $e, roleIds: $r }) { id roleIds } }';
const VIEW = 'query($id: ID!) { organization(id: $id) { viewerPermissions viewerPermissionKeys } }';
const ROLES = 'query($id: ID!) { organization(id: $id) { roles { key permissions memberCount } } }';

let n = 0;
const createRole = (org: string, by: TestUser, permissions: string[], key = `role-${++n}`) =>
  ok(CREATE_ROLE, { input: { organizationId: org, key, name: key, permissions } }, by).then((d) => d.createRole.id as string);
const grant = (membership: string, roleIds: string[], by: TestUser) => ok(GRANT, { m: membership, r: roleIds }, by);
const keysOf = async (user: TestUser, org: string): Promise<string[]> => (await ok(VIEW, { id: org }, user)).organization.viewerPermissionKeys;

/** What role_permissions must be: the union of the member's roles' permissions, as they are now. */
async function staleMemberships(org: string): Promise<unknown[]> {
  return sql(
    `SELECT m.id, m.role_permissions, coalesce((SELECT array_agg(DISTINCT p COLLATE "C" ORDER BY p COLLATE "C") FROM roles r, unnest(r.permissions) p WHERE r.id = ANY(m.role_ids)), '{}') AS expected
     FROM memberships m WHERE m.organization_id = $1`,
    [org],
  ).then((rows) => rows.filter((r) => JSON.stringify(r.role_permissions) !== JSON.stringify(r.expected)));
}

describe('custom roles', () => {
  const owner = newUser('Owner Roles');
  const admin = newUser('Admin Roles');
  let org: string;
  let adminMembership: string;

  beforeAll(async () => {
    org = (await createOrganization(owner, 'Roles')).id;
    adminMembership = await addMember(org, admin, 'ADMIN');
    // Room for the members these tests add (a fixture: plans are billing.test.ts's).
    await sql(`UPDATE subscriptions SET plan = 'ENTERPRISE', seats = 500 WHERE organization_id = $1`, [org]);
  });

  it('are created, listed with member counts, and refuse unknown keys, OWNER-only permissions and a taken key', async () => {
    const id = await createRole(org, admin, ['sandboxes:create', 'MEMBERS_INVITE', 'MEMBERS_INVITE'], 'inviters');
    const member = await addMember(org, newUser(), 'VIEWER');
    await grant(member, [id], admin);
    const { roles } = (await ok(ROLES, { id: org }, admin)).organization;
    expect(roles).toContainEqual({ key: 'inviters', permissions: ['MEMBERS_INVITE', 'sandboxes:create'], memberCount: 1 });

    const input = (permissions: string[], key = 'other') => ({ input: { organizationId: org, key, name: 'X', permissions } });
    expect(await failure(CREATE_ROLE, input(['sandboxes:launch']), owner)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'permissions', message: expect.stringContaining('"sandboxes:launch"') });
    expect(await failure(CREATE_ROLE, input(['MEMBERS_INVITE', 'members_invite']), owner)).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('"members_invite"') });
    for (const ownerOnly of ['ORGANIZATION_DELETE', 'OWNERSHIP_TRANSFER']) {
      expect(await failure(CREATE_ROLE, input([ownerOnly]), owner)).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining(ownerOnly) });
    }
    expect(await failure(CREATE_ROLE, input([], 'inviters'), owner)).toMatchObject({ code: 'CONFLICT', field: 'key' });
    expect(await failure(CREATE_ROLE, input([], 'Not A Key'), owner)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'key' });
    // Nor can an update slip one in.
    expect(await failure(UPDATE_ROLE, { input: { id, permissions: ['OWNERSHIP_TRANSFER'] } }, owner)).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('are capped: 100 an organization, 20 a member', async () => {
    const full = (await createOrganization(owner, 'Full of Roles')).id;
    await sql(`INSERT INTO roles (organization_id, key, name) SELECT $1, 'r' || g, 'R' || g FROM generate_series(1, 100) g`, [full]);
    expect(await failure(CREATE_ROLE, { input: { organizationId: full, key: 'one-more', name: 'X', permissions: [] } }, owner)).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    const many = (await sql('SELECT id FROM roles WHERE organization_id = $1 LIMIT 21', [full])).map((r) => r.id);
    const [own] = await sql('SELECT id FROM memberships WHERE organization_id = $1', [full]);
    expect(await failure(GRANT, { m: own.id, r: many }, owner)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roleIds' });
  });

  it('count in the service\'s own checks: a VIEWER holding a role with MEMBERS_INVITE invites; its keys show the role', async () => {
    const viewer = newUser('Viewer Inviter');
    const membership = await addMember(org, viewer, 'VIEWER');
    expect(await failure(INVITE, { id: org, e: ['someone-1@example.test'] }, viewer)).toMatchObject({ code: 'FORBIDDEN' });
    const role = await createRole(org, admin, ['MEMBERS_INVITE', 'sandboxes:create']);
    const granted = (await grant(membership, [role], admin)).updateMembership;
    expect(granted.permissions).toContain('MEMBERS_INVITE');
    expect(await keysOf(viewer, org)).toEqual(expect.arrayContaining(['MEMBERS_INVITE', 'sandboxes:create', 'registries:read']));
    expect((await ok(INVITE, { id: org, e: ['someone-1@example.test'] }, viewer)).inviteMembers).toHaveLength(1);
    // And in the token of the next request.
    expect(decode((await issue(viewer, org)).token).payload.org_permissions).toEqual(expect.arrayContaining(['MEMBERS_INVITE', 'sandboxes:create']));
  });

  it('a role carrying WORKSPACES_MANAGE makes its holder ADMIN in every workspace, listed and opened alike', async () => {
    const holder = newUser('Workspace Manager');
    const membership = await addMember(org, holder, 'VIEWER');
    const ws = (await ok('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: org, name: `W ${++n}` } }, owner)).createWorkspace.id;
    const LIST = 'query($id: ID!, $ws: ID!) { organization(id: $id) { workspaces(first: 100) { nodes { id } } } workspace(id: $ws) { viewerRole viewerPermissionKeys } }';
    expect(await failure('query($ws: ID!) { workspace(id: $ws) { id } }', { ws }, holder)).toMatchObject({ code: 'NOT_FOUND' });
    await grant(membership, [await createRole(org, admin, ['WORKSPACES_MANAGE'])], admin);
    const seen = await ok(LIST, { id: org, ws }, holder);
    expect(seen.organization.workspaces.nodes).toContainEqual({ id: ws });
    expect(seen.workspace).toMatchObject({ viewerRole: 'ADMIN', viewerPermissionKeys: expect.arrayContaining(['WORKSPACES_MANAGE', 'sandboxes:admin']) });
  });

  it('a change to a role applies to every holder at once, and what a holder no longer holds is withdrawn', async () => {
    const holders = [newUser('Holder A'), newUser('Holder B')];
    const role = await createRole(org, admin, ['MEMBERS_INVITE', 'API_KEYS_MANAGE']);
    const memberships = await Promise.all(holders.map((h) => addMember(org, h, 'VIEWER')));
    for (const m of memberships) await grant(m, [role], admin);
    // A key made with the role's authority goes with it.
    const key = (await ok('mutation($id: ID!) { createApiKey(input: { organizationId: $id, name: "k", scopes: [MEMBERS_INVITE], permissionKeys: ["registries:read"] }) { apiKey { id permissionKeys } } }', { id: org }, holders[0])).createApiKey.apiKey;
    expect(key.permissionKeys).toEqual(['MEMBERS_INVITE', 'registries:read']);
    const updated = (await ok(UPDATE_ROLE, { input: { id: role, permissions: ['sandboxes:create'] } }, admin)).updateRole;
    expect(updated).toMatchObject({ permissions: ['sandboxes:create'], memberCount: 2 });
    for (const h of holders) {
      const keys = await keysOf(h, org);
      expect(keys).toContain('sandboxes:create');
      expect(keys).not.toContain('MEMBERS_INVITE');
      expect(await failure(INVITE, { id: org, e: [`later-${h.id}@example.test`] }, h)).toMatchObject({ code: 'FORBIDDEN' });
    }
    const [revoked] = await sql('SELECT revoked_at FROM api_keys WHERE id = $1', [key.id]);
    expect(revoked.revoked_at).not.toBeNull();
    expect(await staleMemberships(org)).toEqual([]);
  });

  it('an invitation grants its roles at acceptance, and only what its inviter may still grant', async () => {
    const role = await createRole(org, admin, ['MEMBERS_INVITE', 'sandboxes:create']);
    const email = `${unique('invitee')}@example.test`;
    const invitation = (await ok(INVITE, { id: org, e: [email], r: [role] }, admin)).inviteMembers[0];
    expect(invitation.roleIds).toEqual([role]);
    const invitee = userWithEmail(email);
    const accepted = (await ok('mutation($t: String) { acceptInvitation(token: $t) { id roles { id } permissions } }', { t: await invitationToken(invitation.id) }, invitee)).acceptInvitation;
    expect(accepted).toMatchObject({ roles: [{ id: role }], permissions: expect.arrayContaining(['MEMBERS_INVITE']) });
    expect(await keysOf(invitee, org)).toEqual(expect.arrayContaining(['MEMBERS_INVITE', 'sandboxes:create']));
    // An inviter may not invite to a role carrying what it lacks.
    const billing = await createRole(org, owner, ['BILLING_READ']);
    expect(await failure(INVITE, { id: org, e: [`${unique('x')}@example.test`], r: [billing] }, admin)).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('API keys take permission keys; an unknown key is BAD_USER_INPUT naming it', async () => {
    const CREATE_KEY = 'mutation($id: ID!, $k: [String!]) { createApiKey(input: { organizationId: $id, name: "k", scopes: [], permissionKeys: $k }) { apiKey { scopes permissionKeys } } }';
    expect((await ok(CREATE_KEY, { id: org, k: ['sandboxes:create', 'MEMBERS_READ'] }, admin)).createApiKey.apiKey).toEqual({ scopes: ['MEMBERS_READ'], permissionKeys: ['MEMBERS_READ', 'sandboxes:create'] });
    expect(await failure(CREATE_KEY, { id: org, k: ['sandboxes:destroy'] }, admin)).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('"sandboxes:destroy"') });
    // Never more than its creator holds: a VIEWER lacks sandboxes:create organization-wide.
    const viewer = newUser();
    await addMember(org, viewer, 'DEVELOPER');
    expect(await failure(CREATE_KEY, { id: org, k: ['sandboxes:create'] }, viewer)).toMatchObject({ code: 'FORBIDDEN' });
  });

  describe('escalation', () => {
    // A VIEWER made a role manager by a custom role: ROLES_MANAGE, MEMBERS_MANAGE, MEMBERS_READ.
    const manager = newUser('Role Manager');
    let managerMembership: string;
    beforeAll(async () => {
      managerMembership = await addMember(org, manager, 'VIEWER');
      await grant(managerMembership, [await createRole(org, admin, ['ROLES_MANAGE', 'MEMBERS_MANAGE', 'sandboxes:read'])], admin);
    });

    it('nobody creates or edits a role carrying a permission they lack', async () => {
      expect(await failure(CREATE_ROLE, { input: { organizationId: org, key: 'billing', name: 'B', permissions: ['BILLING_READ'] } }, admin)).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('BILLING_READ') });
      expect(await failure(CREATE_ROLE, { input: { organizationId: org, key: 'snap', name: 'S', permissions: ['snapshots:admin'] } }, manager)).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('snapshots:admin') });
      const mine = await createRole(org, manager, ['sandboxes:read']);
      expect(await failure(UPDATE_ROLE, { input: { id: mine, permissions: ['sandboxes:read', 'MEMBERS_INVITE'] } }, manager)).toMatchObject({ code: 'FORBIDDEN' });
      // A role carrying what the manager lacks cannot be touched by it, even to remove that.
      const admins = await createRole(org, admin, ['MEMBERS_INVITE']);
      expect(await failure(UPDATE_ROLE, { input: { id: admins, name: 'Renamed' } }, manager)).toMatchObject({ code: 'FORBIDDEN' });
      expect(await failure(UPDATE_ROLE, { input: { id: admins, permissions: [] } }, manager)).toMatchObject({ code: 'FORBIDDEN' });
      expect(await failure(DELETE_ROLE, { id: admins }, manager)).toMatchObject({ code: 'FORBIDDEN' });
    });

    it('nobody grants or removes a role carrying a permission they lack', async () => {
      const inviters = await createRole(org, admin, ['MEMBERS_INVITE']);
      const target = await addMember(org, newUser(), 'VIEWER');
      expect(await failure(GRANT, { m: target, r: [inviters] }, manager)).toMatchObject({ code: 'FORBIDDEN' });
      await grant(target, [inviters], admin);
      expect(await failure(GRANT, { m: target, r: [] }, manager)).toMatchObject({ code: 'FORBIDDEN' });
      // A role it may grant: granted.
      const readers = await createRole(org, manager, ['sandboxes:read']);
      const other = await addMember(org, newUser(), 'VIEWER');
      expect((await grant(other, [readers], manager)).updateMembership.roles).toEqual([{ key: expect.any(String) }]);
      // Another organization's role, or a made-up id, is NOT_FOUND.
      const elsewhere = (await createOrganization(owner, 'Other Roles')).id;
      const theirs = await createRole(elsewhere, owner, []);
      expect(await failure(GRANT, { m: other, r: [theirs] }, admin)).toMatchObject({ code: 'NOT_FOUND' });
      expect(await failure(GRANT, { m: other, r: ['nope'] }, admin)).toMatchObject({ code: 'NOT_FOUND' });
      // A GUEST holds none.
      const guest = await addMember(org, newUser(), 'GUEST');
      expect(await failure(GRANT, { m: guest, r: [readers] }, admin)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roleIds' });
    });

    it('the rank rule counts custom roles: MEMBERS_MANAGE through a role changes no OWNER, nor anyone holding more', async () => {
      const [ownerMembership] = await sql('SELECT id FROM memberships WHERE organization_id = $1 AND user_id = $2', [org, owner.id]);
      expect(await failure(GRANT, { m: ownerMembership.id, role: 'VIEWER' }, manager)).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('OWNER') });
      expect(await failure(GRANT, { m: adminMembership, role: 'VIEWER' }, manager)).toMatchObject({ code: 'FORBIDDEN' });
      expect(await failure('mutation($m: ID!) { removeMember(membershipId: $m) }', { m: adminMembership }, manager)).toMatchObject({ code: 'FORBIDDEN' });
      // An ADMIN cannot change a member whose custom role carries what the ADMIN lacks.
      const auditor = await addMember(org, newUser(), 'VIEWER', ['AUDITOR']);
      expect(await failure(GRANT, { m: auditor, role: 'DEVELOPER' }, admin)).toMatchObject({ code: 'FORBIDDEN' });
      // It does change a plain VIEWER (holding no more than it).
      const plain = await addMember(org, newUser(), 'VIEWER');
      expect(await ok('mutation($m: ID!) { removeMember(membershipId: $m) }', { m: plain }, manager)).toEqual({ removeMember: true });
    });

    it('a role with holders is deleted only by someone who may take it from each; they lose it in that transaction', async () => {
      const readers = await createRole(org, manager, ['sandboxes:read']);
      // The ADMIN holds it: the manager may not change an ADMIN, so it may not delete the role.
      await grant(adminMembership, [readers], owner);
      const plain = await addMember(org, newUser(), 'VIEWER');
      await grant(plain, [readers], manager);
      expect(await failure(DELETE_ROLE, { id: readers }, manager)).toMatchObject({ code: 'FORBIDDEN' });
      const [still] = await sql('SELECT count(*)::int AS n FROM memberships WHERE role_ids @> ARRAY[$1::uuid]', [readers]);
      expect(still.n).toBe(2);
      // A pending invitation granting it stops granting it.
      const invited = (await ok(INVITE, { id: org, e: ['with-role@example.test'], r: [readers] }, admin)).inviteMembers[0];
      expect(invited.roleIds).toEqual([readers]);
      expect(await ok(DELETE_ROLE, { id: readers }, admin)).toEqual({ deleteRole: true });
      expect(await sql('SELECT id FROM memberships WHERE role_ids @> ARRAY[$1::uuid]', [readers])).toEqual([]);
      expect(await sql('SELECT id FROM invitations WHERE role_ids @> ARRAY[$1::uuid]', [readers])).toEqual([]);
      expect(await staleMemberships(org)).toEqual([]);
      await grant(adminMembership, [], owner);
    });
  });

  it('under concurrent edits and grants, every holder holds exactly its roles\' current permissions', async () => {
    const second = newUser('Second Admin');
    await addMember(org, second, 'ADMIN');
    const role = await createRole(org, admin, ['sandboxes:read']);
    const members = await Promise.all([1, 2, 3].map(() => addMember(org, newUser(), 'VIEWER')));
    for (let round = 0; round < 6; round++) {
      const permissions = round % 2 ? ['sandboxes:read'] : ['sandboxes:create', 'MEMBERS_INVITE'];
      const results = await Promise.allSettled([
        ok(UPDATE_ROLE, { input: { id: role, permissions } }, admin),
        ...members.map((m, i) => grant(m, (round + i) % 2 ? [role] : [], second)),
      ]);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await staleMemberships(org)).toEqual([]);
    }
    // And what they are shown agrees.
    const [{ permissions }] = await sql('SELECT permissions FROM roles WHERE id = $1', [role]);
    const holders = await sql('SELECT id FROM memberships WHERE role_ids @> ARRAY[$1::uuid]', [role]);
    expect((await ok(ROLES, { id: org }, admin)).organization.roles).toContainEqual(expect.objectContaining({ permissions, memberCount: holders.length }));
  });

  it('a role deleted while it is being granted: granted first and lost with it, or not found — never a holder of a role that is gone', async () => {
    const members = await Promise.all([1, 2, 3].map(() => addMember(org, newUser(), 'VIEWER')));
    for (let round = 0; round < 4; round++) {
      const role = await createRole(org, admin, ['sandboxes:create', 'MEMBERS_INVITE']);
      const results = await Promise.allSettled([...members.map((m) => grant(m, [role], owner)), ok(DELETE_ROLE, { id: role }, admin)]);
      expect(results[results.length - 1].status).toBe('fulfilled');
      for (const r of results.slice(0, -1)) if (r.status === 'rejected') expect(String(r.reason)).toContain('NOT_FOUND');
      expect(await sql('SELECT id FROM memberships WHERE organization_id = $1 AND role_ids && ARRAY(SELECT unnest(role_ids) FROM memberships EXCEPT SELECT id FROM roles)', [org])).toEqual([]);
      expect(await staleMemberships(org)).toEqual([]);
    }
  });

  it('two managers at once: one adds to a role what the other lacks while the other grants it — never granted beyond the granter', async () => {
    const manager = newUser('Racing Manager');
    const managerMembership = await addMember(org, manager, 'VIEWER');
    await grant(managerMembership, [await createRole(org, admin, ['ROLES_MANAGE', 'MEMBERS_MANAGE', 'sandboxes:read'])], admin);
    for (let round = 0; round < 5; round++) {
      const role = await createRole(org, manager, ['sandboxes:read']);
      const target = await addMember(org, newUser(), 'VIEWER');
      const [edit, granted] = await Promise.allSettled([
        ok(UPDATE_ROLE, { input: { id: role, permissions: ['sandboxes:read', 'MEMBERS_INVITE'] } }, admin),
        grant(target, [role], manager),
      ]);
      expect(edit.status).toBe('fulfilled');
      if (granted.status === 'fulfilled') {
        // Granted before the edit (both hold the organization's lock in turn): the audit log says so.
        const events = await sql(`SELECT action FROM audit_events WHERE organization_id = $1 AND (target_id = $2 OR target_id = $3) AND action IN ('role.updated', 'member.roles_changed') ORDER BY seq`, [org, role, target]);
        expect(events.map((e) => e.action)).toEqual(['member.roles_changed', 'role.updated']);
      } else {
        expect(String(granted.reason)).toContain('FORBIDDEN');
      }
      expect(await staleMemberships(org)).toEqual([]);
    }
  });
});
