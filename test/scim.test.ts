import { addMember, createOrganization, failure, gql, newUser, ok, serverUrl, sql, unique, userWithEmail, type TestUser } from './support/client';

/*
 * SCIM 2.0 at /scim/v2 over HTTP, replaying what Okta and Microsoft Entra ID send (their
 * provisioning documentation: Okta's connection test, its userName lookup before a create, its
 * deactivation as a PATCH without path; Entra's capitalised ops, "False" as a string, externalId
 * filters, group members removed by value).
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

const CREATE_TOKEN = 'mutation($o: ID!, $n: String) { createDirectoryToken(organizationId: $o, name: $n) { secret token { id name prefix createdAt revokedAt } } }';
const REVOKE_TOKEN = 'mutation($id: ID!) { revokeDirectoryToken(id: $id) { id revokedAt } }';
const MAP = 'mutation($input: SetDirectoryGroupMappingInput!) { setDirectoryGroupMapping(input: $input) { id displayName role workspaceId workspaceRole } }';
const ORG = 'query($id: ID!) { organization(id: $id) { id name } }';
const SEATS = 'query($id: ID!) { organization(id: $id) { subscription { seats seatsUsed } } }';

interface ScimResponse {
  status: number;
  contentType: string | null;
  body: any;
}

/** One SCIM request as a directory sends it: its token, application/scim+json (Okta adds the charset). */
async function scim(token: string, method: string, path: string, body?: unknown): Promise<ScimResponse> {
  const res = await fetch(`${serverUrl()}/scim/v2${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/scim+json',
      ...(body !== undefined ? { 'content-type': 'application/scim+json; charset=utf-8' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body: text ? JSON.parse(text) : null };
}

const q = (filter: string) => `?filter=${encodeURIComponent(filter)}`;

async function directory(name = 'Acme'): Promise<{ owner: TestUser; org: { id: string }; token: string; tokenId: string }> {
  const owner = newUser(`${name} Owner`);
  const org = await createOrganization(owner, name);
  const created = (await ok(CREATE_TOKEN, { o: org.id, n: `${name} Okta` }, owner)).createDirectoryToken;
  return { owner, org, token: created.secret, tokenId: created.token.id };
}

const newUserBody = (email: string, more: Record<string, unknown> = {}) => ({
  schemas: [USER],
  userName: email,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [{ primary: true, value: email, type: 'work' }],
  displayName: 'Ada Lovelace',
  active: true,
  ...more,
});

const expectScimError = (res: ScimResponse, status: number, scimType?: string) => {
  expect(res.status).toBe(status);
  expect(res.contentType).toMatch(/^application\/scim\+json/);
  expect(res.body).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String) });
  if (scimType) expect(res.body.scimType).toBe(scimType);
};

const audit = (organizationId: string, like: string) =>
  sql<{ action: string; actor_type: string; actor_id: string; actor_display: string | null; metadata: any }>(
    'SELECT action, actor_type, actor_id, actor_display, metadata FROM audit_events WHERE organization_id = $1 AND action LIKE $2 ORDER BY seq',
    [organizationId, like],
  );

describe('directory tokens', () => {
  it('an OWNER creates one (secret shown once, stored hashed); revoked, it is refused on the next request; both audited', async () => {
    const { owner, org, token, tokenId } = await directory();
    expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    const [stored] = await sql('SELECT * FROM directory_tokens WHERE id = $1', [tokenId]);
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(stored.prefix).toBe(token.slice(0, 13));

    const config = await scim(token, 'GET', '/ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.contentType).toMatch(/^application\/scim\+json/);
    expect(config.body).toMatchObject({ patch: { supported: true }, filter: { supported: true }, bulk: { supported: false } });

    await ok(REVOKE_TOKEN, { id: tokenId }, owner);
    expectScimError(await scim(token, 'GET', '/Users'), 401);
    expect((await audit(org.id, 'directory_token.%')).map((e) => e.action)).toEqual(['directory_token.created', 'directory_token.revoked']);
  });

  it('needs SSO_MANAGE (OWNER only): an ADMIN can neither create nor revoke; a made-up token is 401 in SCIM\'s shape', async () => {
    const { org, tokenId } = await directory();
    const admin = newUser();
    await addMember(org.id, admin, 'ADMIN');
    expect((await failure(CREATE_TOKEN, { o: org.id }, admin)).code).toBe('FORBIDDEN');
    expect((await failure(REVOKE_TOKEN, { id: tokenId }, admin)).code).toBe('FORBIDDEN');
    expectScimError(await scim('scim_not-a-real-token-at-all-0123456789', 'GET', '/Users'), 401);
    const plain = await fetch(`${serverUrl()}/scim/v2/Users`);
    expect(plain.status).toBe(401);
  });
});

describe('discovery', () => {
  it('ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const { token } = await directory();
    const types = await scim(token, 'GET', '/ResourceTypes');
    expect(types.body.Resources.map((t: { id: string }) => t.id)).toEqual(['User', 'Group']);
    const schemas = await scim(token, 'GET', '/Schemas');
    expect(schemas.body.Resources.map((s: { id: string }) => s.id)).toEqual([USER, GROUP]);
    expect((await scim(token, 'GET', `/Schemas/${USER}`)).body.attributes.map((a: { name: string }) => a.name)).toContain('userName');
    expectScimError(await scim(token, 'GET', '/Nope'), 404);
  });
});

describe('Okta', () => {
  it('connection test, lookup before create, create, deactivation as PATCH without path: suspended (no access, no seat, still readable), then reactivated', async () => {
    const { owner, org, token } = await directory('Okta');
    // The connection test.
    const test = await scim(token, 'GET', '/Users?startIndex=1&count=2');
    expect(test.status).toBe(200);
    expect(test.body).toEqual({ schemas: [LIST], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    const person = userWithEmail(`${unique('ada')}@okta.test`, 'Ada');
    const lookup = await scim(token, 'GET', `/Users${q(`userName eq "${person.email}"`)}&startIndex=1&count=100`);
    expect(lookup.body.totalResults).toBe(0);
    const created = await scim(token, 'POST', '/Users', newUserBody(person.email.toUpperCase()));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ schemas: [USER], userName: person.email, active: true, name: { givenName: 'Ada' }, meta: { resourceType: 'User' } });
    const id = created.body.id;
    expect(created.body.meta.location).toBe(`${serverUrl()}/scim/v2/Users/${id}`);
    // Found by its userName whatever the case; readable by id.
    expect((await scim(token, 'GET', `/Users${q(`userName eq "${person.email.toUpperCase()}"`)}`)).body.Resources.map((u: { id: string }) => u.id)).toEqual([id]);
    expect((await scim(token, 'GET', `/Users/${id}`)).body.id).toBe(id);
    // Pending: it holds a seat already.
    expect((await ok(SEATS, { id: org.id }, owner)).organization.subscription.seatsUsed).toBe(2);

    // The person signs in with that verified address: bound to a membership.
    expect((await ok(ORG, { id: org.id }, person)).organization.id).toBe(org.id);
    const [bound] = await sql('SELECT d.membership_id, m.role, m.user_id FROM directory_users d JOIN memberships m ON m.id = d.membership_id WHERE d.id = $1', [id]);
    expect(bound).toMatchObject({ role: 'VIEWER', user_id: person.id });
    expect((await ok(SEATS, { id: org.id }, owner)).organization.subscription.seatsUsed).toBe(2);

    // Deactivation as Okta sends it.
    const off = await scim(token, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect((await failure(ORG, { id: org.id }, person)).code).toMatch(/NOT_FOUND|FORBIDDEN/);
    expect((await ok(SEATS, { id: org.id }, owner)).organization.subscription.seatsUsed).toBe(1);
    // Still readable, and listed with active false.
    expect((await scim(token, 'GET', `/Users/${id}`)).body.active).toBe(false);
    expect((await scim(token, 'GET', `/Users${q('active eq false')}`)).body.Resources.map((u: { id: string }) => u.id)).toEqual([id]);

    const on = await scim(token, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true } }] });
    expect(on.body.active).toBe(true);
    expect((await ok(ORG, { id: org.id }, person)).organization.id).toBe(org.id);

    const events = await audit(org.id, '%');
    const byDirectory = events.filter((e) => e.actor_type === 'DIRECTORY');
    expect(byDirectory.map((e) => e.action)).toEqual(['directory_user.created', 'directory_user.updated', 'member.suspended', 'directory_user.updated', 'member.reactivated']);
    expect(new Set(byDirectory.map((e) => e.actor_display))).toEqual(new Set(['Okta Okta']));
    expect(events.map((e) => e.action)).toContain('member.provisioned');
  });

  it('a person who already signed in is bound at once; PUT replaces; DELETE removes the membership', async () => {
    const { org, token } = await directory();
    const person = userWithEmail(`${unique('grace')}@okta.test`, 'Grace');
    await ok('{ viewer { id } }', {}, person);
    const created = await scim(token, 'POST', '/Users', newUserBody(person.email, { externalId: 'okta-1' }));
    expect(created.status).toBe(201);
    expect((await ok(ORG, { id: org.id }, person)).organization.id).toBe(org.id);

    const put = await scim(token, 'PUT', `/Users/${created.body.id}`, newUserBody(person.email, { externalId: 'okta-1', displayName: 'Grace Hopper', name: { givenName: 'Grace', familyName: 'Hopper' } }));
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ displayName: 'Grace Hopper', name: { givenName: 'Grace', familyName: 'Hopper' }, externalId: 'okta-1' });

    const gone = await fetch(`${serverUrl()}/scim/v2/Users/${created.body.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(gone.status).toBe(204);
    expectScimError(await scim(token, 'GET', `/Users/${created.body.id}`), 404);
    expect((await failure(ORG, { id: org.id }, person)).code).toMatch(/NOT_FOUND|FORBIDDEN/);
    expect((await sql('SELECT 1 FROM memberships WHERE organization_id = $1 AND user_id = $2', [org.id, person.id])).length).toBe(0);
  });
});

describe('Microsoft Entra ID', () => {
  it('externalId lookup, capitalised ops, "False" as a string, a filtered path, groups with members removed by value', async () => {
    const { owner, org, token } = await directory('Entra');
    const person = userWithEmail(`${unique('alan')}@entra.test`, 'Alan');
    const externalId = unique('entra-object');
    expect((await scim(token, 'GET', `/Users${q(`externalId eq "${externalId}"`)}`)).body.totalResults).toBe(0);
    const created = await scim(token, 'POST', '/Users', newUserBody(person.email, { externalId, active: true }));
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await scim(token, 'GET', `/Users${q(`externalId eq "${externalId}"`)}`)).body.Resources.map((u: { id: string }) => u.id)).toEqual([id]);

    const patched = await scim(token, 'PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'displayName', value: 'Alan Turing' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'alan.turing@entra.test' },
        { op: 'Add', path: 'name.familyName', value: 'Turing' },
      ],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ displayName: 'Alan Turing', name: { familyName: 'Turing' }, emails: [{ type: 'work', value: 'alan.turing@entra.test' }] });
    expect((await scim(token, 'GET', `/Users${q('emails.value eq "ALAN.TURING@entra.test"')}`)).body.totalResults).toBe(1);

    // The person signs in; then Entra disables them as it does.
    await ok(ORG, { id: org.id }, person);
    const disabled = await scim(token, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(disabled.status).toBe(200);
    expect(disabled.body.active).toBe(false);
    expect((await failure(ORG, { id: org.id }, person)).code).toMatch(/NOT_FOUND|FORBIDDEN/);
    await scim(token, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'True' }] });

    // Groups: created, members added, mapped to ADMIN, removed by value (Entra) and by path filter.
    const other = await scim(token, 'POST', '/Users', newUserBody(`${unique('other')}@entra.test`));
    const group = await scim(token, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Admins', externalId: 'g-1', members: [] });
    expect(group.status).toBe(201);
    const gid = group.body.id;
    expect((await scim(token, 'GET', `/Groups${q('displayName eq "admins"')}&excludedAttributes=members`)).body.Resources).toEqual([
      expect.not.objectContaining({ members: expect.anything() }),
    ]);
    const added = await scim(token, 'PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: id }, { value: other.body.id }] }],
    });
    expect(added.status).toBe(204);
    expect((await scim(token, 'GET', `/Groups/${gid}`)).body.members.map((m: { value: string }) => m.value).sort()).toEqual([id, other.body.id].sort());

    await ok(MAP, { input: { groupId: gid, role: 'ADMIN' } }, owner);
    const roleOf = async () => (await sql('SELECT m.role FROM directory_users d JOIN memberships m ON m.id = d.membership_id WHERE d.id = $1', [id]))[0].role;
    expect(await roleOf()).toBe('ADMIN');

    await scim(token, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: [{ value: id }] }] });
    expect(await roleOf()).toBe('VIEWER');
    expect((await scim(token, 'GET', `/Groups/${gid}`)).body.members.map((m: { value: string }) => m.value)).toEqual([other.body.id]);
    await scim(token, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] });
    expect(await roleOf()).toBe('ADMIN');
    await scim(token, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] });
    expect(await roleOf()).toBe('VIEWER');

    // Renamed (with the id sent back, as Entra does); replaced members.
    await scim(token, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', value: { id: gid, displayName: 'Platform Admins' } }] });
    await scim(token, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'members', value: [{ value: id }] }] });
    const renamed = await scim(token, 'GET', `/Groups/${gid}`);
    expect(renamed.body).toMatchObject({ displayName: 'Platform Admins', members: [{ value: id }] });
    expect(await roleOf()).toBe('ADMIN');

    const actions = (await audit(org.id, 'directory_group.%')).map((e) => e.action);
    expect(actions).toEqual([
      'directory_group.created',
      'directory_group.members_changed',
      'directory_group.mapping_changed',
      'directory_group.members_changed',
      'directory_group.members_changed',
      'directory_group.members_changed',
      'directory_group.updated',
      'directory_group.members_changed',
    ]);
  });
});

describe('filters, paging and errors', () => {
  it('eq, sw, co, and, or on userName, externalId, displayName, emails.value; startIndex/count with totalResults; values never reach the SQL text', async () => {
    const { token } = await directory();
    const domain = `${unique('f')}.test`;
    for (const [local, name, ext] of [['ann', 'Ann Lee', 'e1'], ['bob', 'Bob Stone', 'e2'], ['bea', 'Bea Stone', 'e3']]) {
      expect((await scim(token, 'POST', '/Users', newUserBody(`${local}@${domain}`, { displayName: name, externalId: ext }))).status).toBe(201);
    }
    const ids = async (filter: string) => (await scim(token, 'GET', `/Users${q(filter)}`)).body.Resources.map((u: { userName: string }) => u.userName.split('@')[0]).sort();
    expect(await ids('userName sw "b"')).toEqual(['bea', 'bob']);
    expect(await ids('displayName co "stone"')).toEqual(['bea', 'bob']);
    expect(await ids('displayName co "stone" and externalId eq "e2"')).toEqual(['bob']);
    expect(await ids('externalId eq "e1" or emails.value eq "BEA@' + domain.toUpperCase() + '"')).toEqual(['ann', 'bea']);
    expect(await ids(`emails[type eq "work" and value co "${domain}"]`)).toEqual(['ann', 'bea', 'bob']);
    expect(await ids('userName eq "x\\" or 1=1 --"')).toEqual([]);
    expect(await ids('displayName co "%"')).toEqual([]);

    const page = await scim(token, 'GET', '/Users?startIndex=2&count=1');
    expect(page.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect((await scim(token, 'GET', '/Users?startIndex=4&count=10')).body).toMatchObject({ totalResults: 3, itemsPerPage: 0, Resources: [] });

    expectScimError(await scim(token, 'GET', `/Users${q('userName eq')}`), 400, 'invalidFilter');
    expectScimError(await scim(token, 'GET', `/Users${q('password eq "x"')}`), 400, 'invalidFilter');
    expectScimError(await scim(token, 'POST', '/Users', newUserBody(`ann@${domain}`)), 409, 'uniqueness');
    expectScimError(await scim(token, 'POST', '/Users', newUserBody('not an email')), 400, 'invalidValue');
    expectScimError(await scim(token, 'PATCH', `/Users/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }), 404);
    expectScimError(await scim(token, 'PATCH', '/Users/x', { schemas: [PATCH_OP], Operations: [{ op: 'move', path: 'x' }] }), 400);
  });

  it('a token reaches only its organization: another one\'s users and groups are 404', async () => {
    const a = await directory('A');
    const b = await directory('B');
    const user = (await scim(a.token, 'POST', '/Users', newUserBody(`${unique('x')}@a.test`))).body;
    const group = (await scim(a.token, 'POST', '/Groups', { schemas: [GROUP], displayName: 'G' })).body;
    expectScimError(await scim(b.token, 'GET', `/Users/${user.id}`), 404);
    expectScimError(await scim(b.token, 'PATCH', `/Users/${user.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }), 404);
    expectScimError(await scim(b.token, 'DELETE', `/Users/${user.id}`), 404);
    expectScimError(await scim(b.token, 'GET', `/Groups/${group.id}`), 404);
    expect((await scim(b.token, 'GET', '/Users')).body.totalResults).toBe(0);
    // Nor can it put A's user in its own group.
    const own = (await scim(b.token, 'POST', '/Groups', { schemas: [GROUP], displayName: 'G' })).body;
    expectScimError(await scim(b.token, 'PATCH', `/Groups/${own.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }] }), 400, 'invalidValue');
    expect((await scim(a.token, 'GET', `/Users/${user.id}`)).body.active).toBe(true);
  });

  it('the last OWNER cannot be suspended or removed through SCIM; seats apply to a create', async () => {
    const { owner, org, token } = await directory();
    const self = (await scim(token, 'POST', '/Users', newUserBody(owner.email))).body;
    expectScimError(await scim(token, 'PATCH', `/Users/${self.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] }), 400, 'mutability');
    expectScimError(await scim(token, 'DELETE', `/Users/${self.id}`), 400, 'mutability');
    expect((await ok(ORG, { id: org.id }, owner)).organization.id).toBe(org.id);

    await sql('UPDATE subscriptions SET seats = 2 WHERE organization_id = $1', [org.id]);
    expect((await scim(token, 'POST', '/Users', newUserBody(`${unique('one')}@seats.test`))).status).toBe(201);
    const full = await scim(token, 'POST', '/Users', newUserBody(`${unique('two')}@seats.test`));
    expectScimError(full, 403);
    expect(full.body.detail).toMatch(/seats/);
    // An inactive user takes no seat.
    expect((await scim(token, 'POST', '/Users', newUserBody(`${unique('off')}@seats.test`, { active: false }))).status).toBe(201);
    expect((await gql(SEATS, { id: org.id }, owner)).data?.organization.subscription.seatsUsed).toBe(2);
  });
});

describe('group mappings', () => {
  it('a group maps to a custom role and to a workspace: its members get them in the membership change\'s transaction, and lose them when they leave it', async () => {
    const { owner, org, token } = await directory('Mapped');
    const role = (await ok('mutation($o: ID!) { createRole(input: { organizationId: $o, key: "inviters", name: "Inviters", permissions: ["MEMBERS_INVITE"] }) { id } }', { o: org.id }, owner)).createRole;
    const workspace = (await ok('mutation($o: ID!) { createWorkspace(input: { organizationId: $o, name: "Research" }) { id } }', { o: org.id }, owner)).createWorkspace;
    const person = userWithEmail(`${unique('rose')}@mapped.test`, 'Rose');
    await ok('{ viewer { id } }', {}, person);
    const user = (await scim(token, 'POST', '/Users', newUserBody(person.email))).body;
    const group = (await scim(token, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Research' })).body;
    const mapped = (await ok(MAP, { input: { groupId: group.id, roleIds: [role.id], workspaceId: workspace.id, workspaceRole: 'DEVELOPER' } }, owner)).setDirectoryGroupMapping;
    expect(mapped).toMatchObject({ role: null, workspaceId: workspace.id, workspaceRole: 'DEVELOPER' });
    const held = async () => {
      const [m] = await sql('SELECT m.id, m.role_ids, m.role_permissions FROM directory_users d JOIN memberships m ON m.id = d.membership_id WHERE d.id = $1', [user.id]);
      const access = await sql('SELECT role_override FROM workspace_access WHERE membership_id = $1 AND workspace_id = $2', [m.id, workspace.id]);
      return { roleIds: m.role_ids, permissions: m.role_permissions, workspace: access[0]?.role_override ?? null };
    };
    expect(await held()).toEqual({ roleIds: [], permissions: [], workspace: null });

    await scim(token, 'PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }] });
    expect(await held()).toEqual({ roleIds: [role.id], permissions: ['MEMBERS_INVITE'], workspace: 'DEVELOPER' });
    // The person can now invite (the custom role) — a permission VIEWER lacks.
    const invited = await gql('mutation($o: ID!, $e: [String!]!) { inviteMembers(input: { organizationId: $o, emails: $e }) { id } }', { o: org.id, e: [`${unique('x')}@mapped.test`] }, person);
    expect(invited.errors).toBeUndefined();

    await scim(token, 'PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: [{ value: user.id }] }] });
    expect(await held()).toEqual({ roleIds: [], permissions: [], workspace: null });
    const members = (await audit(org.id, 'member.%')).filter((e) => e.actor_type === 'DIRECTORY').map((e) => e.action);
    expect(members).toEqual(['member.provisioned', 'member.roles_changed', 'member.workspace_access_changed', 'member.roles_changed', 'member.workspace_access_changed']);

    // A group never makes OWNERs.
    expect((await failure(MAP, { input: { groupId: group.id, role: 'OWNER' } }, owner)).code).toBe('BAD_USER_INPUT');
  });

  it('a pending user in a mapped group signs in with the group\'s role; deleting the group takes it back', async () => {
    const { owner, org, token } = await directory('Pending');
    const person = userWithEmail(`${unique('kay')}@pending.test`, 'Kay');
    const user = (await scim(token, 'POST', '/Users', newUserBody(person.email))).body;
    const group = (await scim(token, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Developers', members: [{ value: user.id }] })).body;
    expect(group.members).toEqual([expect.objectContaining({ value: user.id, display: person.email })]);
    await ok(MAP, { input: { groupId: group.id, role: 'DEVELOPER' } }, owner);
    // Not bound yet: nothing to apply. First sign-in: bound with the group's role.
    expect((await ok('query($id: ID!) { organization(id: $id) { viewerRole } }', { id: org.id }, person)).organization.viewerRole).toBe('DEVELOPER');
    const gone = await fetch(`${serverUrl()}/scim/v2/Groups/${group.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(gone.status).toBe(204);
    expect((await ok('query($id: ID!) { organization(id: $id) { viewerRole } }', { id: org.id }, person)).organization.viewerRole).toBe('VIEWER');
  });

  it('a lookup and a deactivation cost the same statements whatever the organization\'s size', async () => {
    const count = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${serverUrl()}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(`${res.status} ${res.status === 200 ? '' : await res.text()}`).toBe('200 ');
      return Number(res.headers.get('x-sql-statements'));
    };
    const costs = [];
    for (const size of [1, 25]) {
      const { token, org } = await directory(`Size ${size}`);
      await sql('UPDATE subscriptions SET seats = 100 WHERE organization_id = $1', [org.id]);
      const domain = `${unique('size')}.test`;
      let last = '';
      for (let i = 0; i < size; i++) last = (await scim(token, 'POST', '/Users', newUserBody(`u${i}@${domain}`))).body.id;
      const off = { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] };
      costs.push([await count(token, 'GET', `/Users${q(`userName eq "u0@${domain}"`)}`), await count(token, 'PATCH', `/Users/${last}`, off)]);
    }
    expect(costs[0][0]).toBeGreaterThan(0);
    expect(costs[1]).toEqual(costs[0]);
  });
});
