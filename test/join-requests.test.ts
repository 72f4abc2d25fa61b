import { addMember, createOrganization, failure, gql, newUser, ok, serviceToken, sql, unique, userWithEmail, type TestUser } from './support/client';

const SEARCH = 'query($q: String!, $first: Int) { searchOrganizations(query: $q, first: $first) { id slug name } }';
const REQUEST = 'mutation($id: ID!, $m: String) { requestToJoin(organizationId: $id, message: $m) { id status message organization { id name } user { id } email } }';
const APPROVE = 'mutation($id: ID!, $role: OrganizationRole) { approveJoinRequest(id: $id, role: $role) { id status decidedBy { id } } }';
const DENY = 'mutation($id: ID!) { denyJoinRequest(id: $id) { id status } }';
const CANCEL = 'mutation($id: ID!) { cancelJoinRequest(id: $id) { id status } }';

async function discoverable(name: string): Promise<{ owner: TestUser; org: { id: string; slug: string } }> {
  const owner = newUser();
  const org = await createOrganization(owner, name);
  await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: true }) { id } }', { id: org.id }, owner);
  return { owner, org };
}

describe('searchOrganizations', () => {
  it('finds discoverable TEAM organizations by name or slug, case-insensitively; id, slug and name only', async () => {
    const marker = unique('Zebra').replace(/-/g, '');
    const { org } = await discoverable(`${marker} Works`);
    const hidden = await createOrganization(newUser(), `${marker} Hidden`);
    const { searchOrganizations } = await ok(SEARCH, { q: marker.toUpperCase() }, newUser());
    expect(searchOrganizations).toEqual([{ id: org.id, slug: org.slug, name: `${marker} Works` }]);
    expect(JSON.stringify(searchOrganizations)).not.toContain(hidden.id);
    // The result type has nothing else to ask for.
    expect((await gql(`query { searchOrganizations(query: "${marker}") { id members { totalCount } } }`, {}, newUser())).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('needs 2 characters, returns at most 20, and treats % and _ literally', async () => {
    expect(await failure(SEARCH, { q: 'a' }, newUser())).toMatchObject({ code: 'BAD_USER_INPUT', field: 'query' });
    expect(await failure(SEARCH, { q: 'ab', first: 21 }, newUser())).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const marker = unique('Many').replace(/-/g, '');
    for (let i = 0; i < 22; i++) await discoverable(`${marker} ${i}`);
    expect((await ok(SEARCH, { q: marker }, newUser())).searchOrganizations).toHaveLength(20);
    expect((await ok(SEARCH, { q: '%%' }, newUser())).searchOrganizations).toEqual([]);
    expect((await failure(SEARCH, { q: marker }, null)).code).toBe('UNAUTHENTICATED');
  });
});

describe('join requests', () => {
  it('request, approve (VIEWER by default): the requester becomes a member; every step audited', async () => {
    const { owner, org } = await discoverable('Open House');
    const requester = newUser();
    const { requestToJoin } = await ok(REQUEST, { id: org.id, m: 'Let me in' }, requester);
    expect(requestToJoin).toMatchObject({ status: 'PENDING', message: 'Let me in', organization: { id: org.id, name: 'Open House' }, user: { id: requester.id }, email: requester.email });
    const { viewer } = await ok('{ viewer { joinRequests { id status organization { name } } } }', {}, requester);
    expect(viewer.joinRequests).toEqual([{ id: requestToJoin.id, status: 'PENDING', organization: { name: 'Open House' } }]);
    const listed = await ok('query($id: ID!) { organization(id: $id) { joinRequests(status: PENDING) { totalCount nodes { id email } } } }', { id: org.id }, owner);
    expect(listed.organization.joinRequests).toEqual({ totalCount: 1, nodes: [{ id: requestToJoin.id, email: requester.email }] });
    expect((await ok(APPROVE, { id: requestToJoin.id }, owner)).approveJoinRequest).toMatchObject({ status: 'APPROVED', decidedBy: { id: owner.id } });
    expect((await ok('query($id: ID!) { organization(id: $id) { viewerRole } }', { id: org.id }, requester)).organization.viewerRole).toBe('VIEWER');
    const actions = (await sql(`SELECT action FROM audit_events WHERE organization_id = $1 AND action LIKE 'join_request.%' ORDER BY id`, [org.id])).map((r) => r.action);
    expect(actions).toEqual(['join_request.created', 'join_request.approved']);
    expect((await failure(APPROVE, { id: requestToJoin.id }, owner)).code).toBe('FAILED_PRECONDITION');
  });

  it('shows the owner whether the requester\'s address is verified before approving (JoinRequest.emailVerified)', async () => {
    const { owner, org } = await discoverable('Careful');
    const claimer = userWithEmail(`${unique('claimer')}@example.test`, 'Claimer', false);
    const checked = newUser();
    const claimed = (await ok(REQUEST, { id: org.id }, claimer)).requestToJoin.id;
    const verified = (await ok(REQUEST, { id: org.id }, checked)).requestToJoin.id;
    const listed = await ok('query($id: ID!) { organization(id: $id) { joinRequests(status: PENDING) { nodes { id email emailVerified } } } }', { id: org.id }, owner);
    expect(listed.organization.joinRequests.nodes).toEqual([
      { id: verified, email: checked.email, emailVerified: true },
      { id: claimed, email: claimer.email, emailVerified: false },
    ]);
  });

  it('refuses what it must', async () => {
    const { org } = await discoverable('Strict');
    const hidden = await createOrganization(newUser(), 'Not listed');
    const member = newUser();
    await addMember(org.id, member, 'VIEWER');
    const requester = newUser();
    expect((await failure(REQUEST, { id: hidden.id }, requester)).code).toBe('NOT_FOUND');
    expect((await failure(REQUEST, { id: '01900000-0000-7000-8000-000000000000' }, requester)).code).toBe('NOT_FOUND');
    expect((await failure(REQUEST, { id: org.id }, member)).code).toBe('CONFLICT');
    expect(await failure(REQUEST, { id: org.id, m: 'm'.repeat(501) }, requester)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'message' });
    const { requestToJoin } = await ok(REQUEST, { id: org.id }, requester);
    expect((await failure(REQUEST, { id: org.id }, requester)).code).toBe('CONFLICT');
    expect((await failure(APPROVE, { id: requestToJoin.id }, member)).code).toBe('FORBIDDEN');
    expect((await failure(APPROVE, { id: requestToJoin.id }, newUser())).code).toBe('NOT_FOUND');
    expect((await failure(REQUEST, { id: org.id }, serviceToken(unique('svc'), 'users:provision'))).code).toBe('FORBIDDEN');
  });

  it('follows the escalation and seat rules of invitations', async () => {
    const { owner, org } = await discoverable('Full house');
    const admin = newUser();
    await addMember(org.id, admin, 'ADMIN');
    await ok('mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) { seats } }', { input: { organizationId: org.id, plan: 'PRO', seats: 2, idempotencyKey: unique('k') } }, serviceToken(unique('billing'), 'billing:write'));
    const requester = newUser();
    const { requestToJoin } = await ok(REQUEST, { id: org.id }, requester);
    expect((await failure(APPROVE, { id: requestToJoin.id, role: 'OWNER' }, admin)).code).toBe('FORBIDDEN');
    expect((await failure(APPROVE, { id: requestToJoin.id }, owner)).code).toBe('QUOTA_EXCEEDED');
    expect((await sql('SELECT status FROM join_requests WHERE id = $1', [requestToJoin.id]))[0].status).toBe('PENDING');
    expect((await ok(APPROVE, { id: requestToJoin.id, role: 'GUEST' }, owner)).approveJoinRequest.status).toBe('APPROVED');
  });

  it('can be denied by an inviter, canceled by its requester only', async () => {
    const { owner, org } = await discoverable('Picky');
    const [a, b] = [newUser(), newUser()];
    const ra = (await ok(REQUEST, { id: org.id }, a)).requestToJoin.id;
    const rb = (await ok(REQUEST, { id: org.id }, b)).requestToJoin.id;
    expect((await ok(DENY, { id: ra }, owner)).denyJoinRequest.status).toBe('DENIED');
    expect((await failure(CANCEL, { id: rb }, a)).code).toBe('NOT_FOUND');
    expect((await ok(CANCEL, { id: rb }, b)).cancelJoinRequest.status).toBe('CANCELED');
    expect((await failure(CANCEL, { id: rb }, b)).code).toBe('FAILED_PRECONDITION');
    // Denied, the requester may ask again.
    expect((await ok(REQUEST, { id: org.id }, a)).requestToJoin.status).toBe('PENDING');
  });

  it('refuses a personal organization (never discoverable)', async () => {
    const user = newUser();
    const { viewer } = await ok('{ viewer { personalOrganization { id } } }', {}, user);
    expect((await failure(REQUEST, { id: viewer.personalOrganization.id }, newUser())).code).toBe('NOT_FOUND');
  });
});
