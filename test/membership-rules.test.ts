import { addMember, createOrganization, failure, gql, invitationToken, newUser, ok, sql, userWithEmail, unique, type TestUser } from './support/client';

/**
 * The rules that guard a membership hold on every path that reaches it: role changes,
 * workspace access, API keys, invitations accepted later.
 */
const UPDATE = 'mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { id role } }';
const SET_ACCESS = 'mutation($input: SetWorkspaceAccessInput!) { setWorkspaceAccess(input: $input) { id workspaceAccess { roleOverride workspace { id } } } }';
const CREATE_WORKSPACE = 'mutation($id: ID!, $name: String!) { createWorkspace(input: { organizationId: $id, name: $name }) { id } }';
const RENAME_WORKSPACE = 'mutation($id: ID!, $name: String!) { updateWorkspace(input: { id: $id, name: $name }) { id name } }';

async function team(): Promise<{ owner: TestUser; orgId: string; workspaceId: string }> {
  const owner = newUser('Owner');
  const orgId = (await createOrganization(owner, 'Rules')).id;
  const workspaceId = (await ok(CREATE_WORKSPACE, { id: orgId, name: 'Prod' }, owner)).createWorkspace.id;
  return { owner, orgId, workspaceId };
}

describe('a member demoted to GUEST keeps no workspace role above DEVELOPER', () => {
  it('the ADMIN override is lowered with the demotion (audited), and the workspace can no longer be renamed', async () => {
    const { owner, orgId, workspaceId } = await team();
    const member = newUser('Soon Guest');
    const membershipId = await addMember(orgId, member, 'DEVELOPER');
    await ok(SET_ACCESS, { input: { membershipId, workspaces: [{ workspaceId, roleOverride: 'ADMIN' }] } }, owner);
    // As DEVELOPER with an ADMIN override, the member may rename the workspace.
    await ok(RENAME_WORKSPACE, { id: workspaceId, name: 'Renamed by developer' }, member);

    await ok(UPDATE, { input: { membershipId, role: 'GUEST' } }, owner);
    const denied = await failure(RENAME_WORKSPACE, { id: workspaceId, name: 'Renamed by guest' }, member);
    expect(denied.code).toBe('FORBIDDEN');
    expect(await failure('mutation($id: ID!) { deleteWorkspace(id: $id) }', { id: workspaceId }, member)).toMatchObject({ code: 'FORBIDDEN' });
    const read = await ok('query($id: ID!) { workspace(id: $id) { name viewerRole } }', { id: workspaceId }, member);
    expect(read.workspace).toEqual({ name: 'Renamed by developer', viewerRole: 'DEVELOPER' });
    // Stored as setWorkspaceAccess itself would accept it, and the change is in the log.
    expect(await sql('SELECT role_override FROM workspace_access WHERE membership_id = $1', [membershipId])).toEqual([{ role_override: 'DEVELOPER' }]);
    const [event] = await sql(`SELECT metadata FROM audit_events WHERE organization_id = $1 AND action = 'member.role_changed' ORDER BY id DESC LIMIT 1`, [orgId]);
    expect(event.metadata.workspaceAccessLowered).toEqual([{ workspaceId, before: 'ADMIN', after: 'DEVELOPER' }]);
  });

  it('an override stored above the cap (written before this rule) still counts only as DEVELOPER', async () => {
    const { orgId, workspaceId } = await team();
    const guest = newUser('Old Guest');
    const membershipId = await addMember(orgId, guest, 'GUEST');
    await sql(`INSERT INTO workspace_access (organization_id, workspace_id, membership_id, role_override) VALUES ($1, $2, $3, 'ADMIN')`, [orgId, workspaceId, membershipId]);
    expect((await failure(RENAME_WORKSPACE, { id: workspaceId, name: 'x' }, guest)).code).toBe('FORBIDDEN');
    const read = await ok('query($id: ID!) { workspace(id: $id) { viewerRole } }', { id: workspaceId }, guest);
    expect(read.workspace.viewerRole).toBe('DEVELOPER');
  });
});

describe('setWorkspaceAccess follows the rank rule', () => {
  it('a DEVELOPER with WORKSPACES_ADMIN cannot rewrite the access of the OWNER or of an ADMIN, but can of a VIEWER', async () => {
    const { owner, orgId, workspaceId } = await team();
    const ownerMembership = (await sql('SELECT id FROM memberships WHERE organization_id = $1 AND role = $2', [orgId, 'OWNER']))[0].id;
    const adminMembership = await addMember(orgId, newUser('Admin'), 'ADMIN');
    const viewerMembership = await addMember(orgId, newUser('Viewer'), 'VIEWER');
    const developer = newUser('Workspace admin');
    await addMember(orgId, developer, 'DEVELOPER', ['WORKSPACES_ADMIN']);
    for (const membershipId of [ownerMembership, adminMembership]) {
      const refused = await failure(SET_ACCESS, { input: { membershipId, workspaces: [{ workspaceId, roleOverride: 'VIEWER' }] } }, developer);
      expect(refused.code).toBe('FORBIDDEN');
      expect(await sql('SELECT 1 FROM workspace_access WHERE membership_id = $1', [membershipId])).toEqual([]);
    }
    await ok(SET_ACCESS, { input: { membershipId: viewerMembership, workspaces: [{ workspaceId, roleOverride: 'VIEWER' }] } }, developer);
    // The OWNER may still do it for anyone.
    await ok(SET_ACCESS, { input: { membershipId: adminMembership, workspaces: [{ workspaceId }] } }, owner);
  });
});

describe('revoking an API key needs every scope it carries, as rotating does', () => {
  it('a DEVELOPER cannot revoke (nor rotate) a key carrying MEMBERS_MANAGE; it can revoke its own kind', async () => {
    const { owner, orgId } = await team();
    const developer = newUser('Developer');
    await addMember(orgId, developer, 'DEVELOPER');
    const CREATE = 'mutation($id: ID!, $s: [Permission!]!) { createApiKey(input: { organizationId: $id, name: "k", scopes: $s }) { apiKey { id } } }';
    const strong = (await ok(CREATE, { id: orgId, s: ['MEMBERS_MANAGE'] }, owner)).createApiKey.apiKey.id;
    const weak = (await ok(CREATE, { id: orgId, s: ['MEMBERS_READ'] }, owner)).createApiKey.apiKey.id;
    expect((await failure('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: strong }, developer)).code).toBe('FORBIDDEN');
    expect((await failure('mutation($id: ID!) { rotateApiKey(id: $id) { secret } }', { id: strong }, developer)).code).toBe('FORBIDDEN');
    expect((await sql('SELECT revoked_at FROM api_keys WHERE id = $1', [strong]))[0].revoked_at).toBeNull();
    const revoked = await ok('mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', { id: weak }, developer);
    expect(revoked.revokeApiKey.revokedAt).not.toBeNull();
  });
});

describe('an invitation grants only what its inviter can still grant', () => {
  const INVITE = 'mutation($input: InviteMembersInput!) { inviteMembers(input: $input) { id } }';
  const ACCEPT = 'mutation($token: String!) { acceptInvitation(token: $token) { id role assignments } }';

  it('the invitee of an ADMIN demoted since does not become ADMIN with MEMBERS_ADMIN; re-invited by the OWNER, it does', async () => {
    const { owner, orgId } = await team();
    const admin = newUser('Admin');
    const adminMembership = await addMember(orgId, admin, 'ADMIN');
    const email = `${unique('invitee')}@example.test`;
    const [invitation] = (await ok(INVITE, { input: { organizationId: orgId, emails: [email], role: 'ADMIN', assignments: ['MEMBERS_ADMIN'] } }, admin)).inviteMembers;
    const token = await invitationToken(invitation.id);
    await ok(UPDATE, { input: { membershipId: adminMembership, role: 'VIEWER' } }, owner);

    const invitee = userWithEmail(email);
    const refused = await failure(ACCEPT, { token }, invitee);
    expect(refused.code).toBe('FAILED_PRECONDITION');
    expect(await sql('SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND u.email = $2', [orgId, email])).toEqual([]);
    expect((await sql('SELECT status FROM invitations WHERE id = $1', [invitation.id]))[0].status).toBe('PENDING');

    await ok('mutation($id: ID!) { cancelInvitation(id: $id) { id } }', { id: invitation.id }, owner);
    const [again] = (await ok(INVITE, { input: { organizationId: orgId, emails: [email], role: 'ADMIN', assignments: ['MEMBERS_ADMIN'] } }, owner)).inviteMembers;
    const accepted = await ok(ACCEPT, { token: await invitationToken(again.id) }, invitee);
    expect(accepted.acceptInvitation).toMatchObject({ role: 'ADMIN', assignments: ['MEMBERS_ADMIN'] });
  });

  it('an inviter removed since leaves invitations that cannot be accepted; one still holding the grant leaves them valid', async () => {
    const { owner, orgId } = await team();
    const gone = newUser('Gone');
    const goneMembership = await addMember(orgId, gone, 'DEVELOPER', ['MEMBERS_ADMIN']);
    const stays = newUser('Stays');
    await addMember(orgId, stays, 'DEVELOPER', ['MEMBERS_ADMIN']);
    const first = `${unique('a')}@example.test`;
    const second = `${unique('b')}@example.test`;
    const [fromGone] = (await ok(INVITE, { input: { organizationId: orgId, emails: [first], role: 'VIEWER' } }, gone)).inviteMembers;
    const [fromStays] = (await ok(INVITE, { input: { organizationId: orgId, emails: [second], role: 'VIEWER' } }, stays)).inviteMembers;
    await ok('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: goneMembership }, owner);
    expect((await failure(ACCEPT, { token: await invitationToken(fromGone.id) }, userWithEmail(first))).code).toBe('FAILED_PRECONDITION');
    expect((await ok(ACCEPT, { token: await invitationToken(fromStays.id) }, userWithEmail(second))).acceptInvitation.role).toBe('VIEWER');
  });
});

describe('names refuse control and invisible formatting characters', () => {
  it.each([
    ['a newline', 'Acme\nCorp'],
    ['a tab', 'Acme\tCorp'],
    ['a right-to-left override', 'Acme \u202Eproc'],
    ['a bidi isolate', 'Acme \u2066x\u2069'],
    ['a zero-width space', 'Ac\u200Bme'],
    ['a zero-width joiner', 'Ac\u200Dme'],
    ['a byte order mark inside', 'Ac\uFEFFme'],
    ['a line separator', 'Acme\u2028Corp'],
  ])('%s in an organization or workspace name: BAD_USER_INPUT naming the field', async (_label, name) => {
    const { owner, orgId, workspaceId } = await team();
    for (const [query, variables] of [
      ['mutation($name: String!) { createOrganization(input: { name: $name }) { id } }', { name }],
      ['mutation($id: ID!, $name: String!) { updateOrganization(input: { id: $id, name: $name }) { id } }', { id: orgId, name }],
      [CREATE_WORKSPACE, { id: orgId, name }],
      [RENAME_WORKSPACE, { id: workspaceId, name }],
    ] as const) {
      const refused = await failure(query, variables, owner);
      expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    }
  });

  it('a personal organization named after a token holding a bidi override does not carry it', async () => {
    const user = newUser('\u202EAda\u200B Lovelace');
    const read = await ok('{ viewer { personalOrganization { name } } }', {}, user);
    expect(read.viewer.personalOrganization.name).toBe("Ada's Organization");
  });

  it('descriptions keep their line breaks, and refuse bidi overrides', async () => {
    const owner = newUser();
    const CREATE = 'mutation($d: String) { createOrganization(input: { name: "Described", description: $d }) { description } }';
    expect((await ok(CREATE, { d: 'Line one\nLine two' }, owner)).createOrganization.description).toBe('Line one\nLine two');
    expect(await failure(CREATE, { d: 'Totally \u202Esafe' }, owner)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'description' });
  });
});

describe('Organization.workspaces for a GUEST', () => {
  it('lists exactly the workspaces it is assigned to, and still nothing else of the organization', async () => {
    const { owner, orgId, workspaceId } = await team();
    await ok(CREATE_WORKSPACE, { id: orgId, name: 'Hidden' }, owner);
    const guest = newUser('Guest');
    const membershipId = await addMember(orgId, guest, 'GUEST');
    await ok(SET_ACCESS, { input: { membershipId, workspaces: [{ workspaceId }] } }, owner);
    const res = await gql('query($id: ID!) { organization(id: $id) { name workspaces(first: 10) { totalCount nodes { id name } } } }', { id: orgId }, guest);
    expect(res.errors).toBeUndefined();
    expect(res.data!.organization).toEqual({ name: 'Rules', workspaces: { totalCount: 1, nodes: [{ id: workspaceId, name: 'Prod' }] } });
    const members = await gql('query($id: ID!) { organization(id: $id) { members(first: 1) { totalCount } } }', { id: orgId }, guest);
    expect(members.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });
});

describe('second paths found by review', () => {
  const INVITE = 'mutation($input: InviteMembersInput!) { inviteMembers(input: $input) { id } }';
  const CREATE_KEY = 'mutation($id: ID!, $s: [Permission!]!, $w: ID) { createApiKey(input: { organizationId: $id, workspaceId: $w, name: "mine", scopes: $s }) { apiKey { id } secret } }';
  const revokedAt = async (id: string) => (await sql('SELECT revoked_at FROM api_keys WHERE id = $1', [id]))[0].revoked_at;

  it('a member cannot cancel or resend an invitation granting more than it could grant', async () => {
    const { owner, orgId } = await team();
    const developer = newUser('Members admin');
    await addMember(orgId, developer, 'DEVELOPER', ['MEMBERS_ADMIN']);
    const [invitation] = (await ok(INVITE, { input: { organizationId: orgId, emails: [`${unique('adm')}@example.test`], role: 'ADMIN' } }, owner)).inviteMembers;
    expect((await failure('mutation($id: ID!) { cancelInvitation(id: $id) { id } }', { id: invitation.id }, developer)).code).toBe('FORBIDDEN');
    expect((await failure('mutation($id: ID!) { resendInvitation(id: $id) { id } }', { id: invitation.id }, developer)).code).toBe('FORBIDDEN');
    expect((await sql('SELECT status, send_count FROM invitations WHERE id = $1', [invitation.id]))[0]).toEqual({ status: 'PENDING', send_count: 1 });
  });

  it('nobody sets its own workspace access: an ADMIN override given to oneself would outlive the assignment', async () => {
    const { orgId, workspaceId } = await team();
    const developer = newUser('Self granter');
    const membershipId = await addMember(orgId, developer, 'DEVELOPER', ['WORKSPACES_ADMIN']);
    const refused = await failure(SET_ACCESS, { input: { membershipId, workspaces: [{ workspaceId, roleOverride: 'ADMIN' }] } }, developer);
    expect(refused.code).toBe('FORBIDDEN');
    expect(await sql('SELECT 1 FROM workspace_access WHERE membership_id = $1', [membershipId])).toEqual([]);
  });

  it('a member removed, leaving or holding less takes its keys carrying what it no longer holds (revoked, audited)', async () => {
    const { owner, orgId, workspaceId } = await team();
    const admin = newUser('Key maker');
    const adminMembership = await addMember(orgId, admin, 'ADMIN');
    const updateKey = (await ok(CREATE_KEY, { id: orgId, s: ['ORGANIZATION_UPDATE'] }, admin)).createApiKey;
    const readKey = (await ok(CREATE_KEY, { id: orgId, s: ['MEMBERS_READ'] }, admin)).createApiKey;
    const boundKey = (await ok(CREATE_KEY, { id: orgId, s: ['WORKSPACES_MANAGE'], w: workspaceId }, admin)).createApiKey;
    // Demoted to VIEWER: ORGANIZATION_UPDATE and the workspace's ADMIN go, MEMBERS_READ stays.
    await ok(UPDATE, { input: { membershipId: adminMembership, role: 'VIEWER' } }, owner);
    expect(await revokedAt(updateKey.apiKey.id)).not.toBeNull();
    expect(await revokedAt(boundKey.apiKey.id)).not.toBeNull();
    expect(await revokedAt(readKey.apiKey.id)).toBeNull();
    const rename = await gql('mutation($id: ID!) { updateOrganization(input: { id: $id, name: "Taken over" }) { id } }', { id: orgId }, updateKey.secret);
    expect(rename.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    // Removed: every key it made goes.
    await ok('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: adminMembership }, owner);
    expect(await revokedAt(readKey.apiKey.id)).not.toBeNull();
    const reasons = await sql(`SELECT metadata->>'reason' AS reason FROM audit_events WHERE organization_id = $1 AND action = 'api_key.revoked' ORDER BY id`, [orgId]);
    expect(reasons.map((r) => r.reason)).toEqual(['creator_holds_less', 'creator_holds_less', 'creator_left']);

    const leaver = newUser('Leaver');
    await addMember(orgId, leaver, 'DEVELOPER');
    const leaverKey = (await ok(CREATE_KEY, { id: orgId, s: ['MEMBERS_READ'] }, leaver)).createApiKey;
    await ok('mutation($id: ID!) { leaveOrganization(organizationId: $id) }', { id: orgId }, leaver);
    expect(await revokedAt(leaverKey.apiKey.id)).not.toBeNull();
  });

  it('an owner who transfers ownership keeps its ADMIN-level keys and loses those only an OWNER issues', async () => {
    const { owner, orgId } = await team();
    const heir = newUser('Heir');
    const heirMembership = await addMember(orgId, heir, 'ADMIN');
    const auditKey = (await ok(CREATE_KEY, { id: orgId, s: ['AUDIT_READ'] }, owner)).createApiKey.apiKey.id;
    const membersKey = (await ok(CREATE_KEY, { id: orgId, s: ['MEMBERS_MANAGE'] }, owner)).createApiKey.apiKey.id;
    await ok('mutation($o: ID!, $m: ID!) { transferOwnership(organizationId: $o, membershipId: $m) { id } }', { o: orgId, m: heirMembership }, owner);
    expect(await revokedAt(auditKey)).not.toBeNull();
    expect(await revokedAt(membersKey)).toBeNull();
  });
});
