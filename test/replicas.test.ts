import { addMember, createOrganization, gql, invitationToken, newUser, ok, serviceToken, sql, unique, userWithEmail, type GqlResponse, type TestUser } from './support/client';
import { startServer, type RunningServer } from './support/servers';

/**
 * Two replicas of the subgraph (two processes, as users run them) on one database, driven in
 * parallel with conflicting changes: every invariant that spans rows must hold because
 * PostgreSQL enforces it, whichever replica each request lands on.
 */

const UPDATE = 'mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { id role } }';
const REMOVE = 'mutation($id: ID!) { removeMember(membershipId: $id) }';
const LEAVE = 'mutation($id: ID!) { leaveOrganization(organizationId: $id) }';
const TRANSFER = 'mutation($o: ID!, $m: ID!) { transferOwnership(organizationId: $o, membershipId: $m) { id viewerRole } }';
const INVITE = 'mutation($input: InviteMembersInput!) { inviteMembers(input: $input) { id } }';
const ACCEPT = 'mutation($token: String, $id: ID) { acceptInvitation(token: $token, id: $id) { id role organization { id } } }';
const REQUEST = 'mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }';
const APPROVE = 'mutation($id: ID!, $role: OrganizationRole) { approveJoinRequest(id: $id, role: $role) { id status } }';
const UPDATE_SUB = 'mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) { seats seatsUsed } }';
const SUBSCRIPTION = 'query($id: ID!) { organization(id: $id) { subscription { seats seatsUsed } } }';

/** What must never reach a client: a stack frame or SQL (as in support/client.ts). */
const LEAK = /at .*\.(ts|js):\d+|\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\s+"?[a-z_]+"?\s+SET\b|\bDELETE FROM\b|violates|constraint/i;
const DOCUMENTED = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'FAILED_PRECONDITION', 'QUOTA_EXCEEDED', 'INTERNAL_SERVER_ERROR'];

let replicas: RunningServer[] = [];
let turn = 0;

/** A request on the next replica, in turn: consecutive requests of a race land on different processes. */
function on(query: string, variables: Record<string, unknown>, auth: TestUser | string, replica = turn++ % 2): Promise<GqlResponse> {
  return gql(query, variables, auth, { url: replicas[replica].url });
}

/** A failed request must fail as the contract says: HTTP 200, one error with an expected code, no stack or SQL, no partial result. */
function expectClean(res: GqlResponse, allowed: string[]): void {
  expect(res.status).toBe(200);
  if (!res.errors) return;
  expect(res.errors).toHaveLength(1);
  const [error] = res.errors;
  expect(DOCUMENTED).toContain(error.extensions.code);
  expect(allowed).toContain(error.extensions.code);
  expect(JSON.stringify(res.errors)).not.toMatch(LEAK);
}

const owners = async (organizationId: string) =>
  (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1 AND role = 'OWNER'`, [organizationId]))[0].n;

const membershipOf = async (organizationId: string, user: TestUser) =>
  (await sql<{ id: string }>('SELECT id FROM memberships WHERE organization_id = $1 AND user_id = $2', [organizationId, user.id]))[0].id;

beforeAll(async () => {
  replicas = await Promise.all([0, 1].map(() => startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL })));
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  for (const replica of replicas) expect(replica.output()).not.toMatch(/"level":(50|60)/);
});

describe('two replicas: an organization always keeps an OWNER', () => {
  interface Crew {
    org: { id: string };
    a: { user: TestUser; membership: string };
    b: { user: TestUser; membership: string };
    admin: { user: TestUser; membership: string };
  }

  async function crew(): Promise<Crew> {
    const [a, b, admin] = [newUser('Owner A'), newUser('Owner B'), newUser('Admin')];
    const org = await createOrganization(a, 'Split brain');
    return {
      org,
      a: { user: a, membership: await membershipOf(org.id, a) },
      b: { user: b, membership: await addMember(org.id, b, 'OWNER') },
      admin: { user: admin, membership: await addMember(org.id, admin, 'ADMIN') },
    };
  }

  // Each race fires its requests at once, on alternating replicas; the outcome depends on the order
  // PostgreSQL serializes them in, but never leaves the organization without an OWNER.
  it.each<[string, (c: Crew) => Promise<GqlResponse>[]]>([
    ['demote each other', (c) => [
      on(UPDATE, { input: { membershipId: c.b.membership, role: 'ADMIN' } }, c.a.user),
      on(UPDATE, { input: { membershipId: c.a.membership, role: 'ADMIN' } }, c.b.user),
    ]],
    ['remove each other', (c) => [on(REMOVE, { id: c.b.membership }, c.a.user), on(REMOVE, { id: c.a.membership }, c.b.user)]],
    ['both leave, each twice (once per replica)', (c) => [
      on(LEAVE, { id: c.org.id }, c.a.user, 0), on(LEAVE, { id: c.org.id }, c.b.user, 1),
      on(LEAVE, { id: c.org.id }, c.a.user, 1), on(LEAVE, { id: c.org.id }, c.b.user, 0),
    ]],
    ['are demoted, removed and leave all at once', (c) => [
      on(UPDATE, { input: { membershipId: c.b.membership, role: 'VIEWER' } }, c.a.user),
      on(REMOVE, { id: c.a.membership }, c.b.user),
      on(LEAVE, { id: c.org.id }, c.a.user),
      on(UPDATE, { input: { membershipId: c.b.membership, role: 'DEVELOPER' } }, c.b.user),
    ]],
    ['transfer ownership to the ADMIN while both demote themselves', (c) => [
      on(TRANSFER, { o: c.org.id, m: c.admin.membership }, c.a.user),
      on(UPDATE, { input: { membershipId: c.a.membership, role: 'ADMIN' } }, c.a.user),
      on(UPDATE, { input: { membershipId: c.b.membership, role: 'ADMIN' } }, c.b.user),
      on(REMOVE, { id: c.admin.membership }, c.b.user),
    ]],
  ])('two OWNERs on two replicas %s (12 rounds)', async (_label, race) => {
    let succeeded = 0;
    for (let round = 0; round < 12; round++) {
      const c = await crew();
      const results = await Promise.all(race(c));
      // FORBIDDEN: the caller was demoted first; NOT_FOUND: the caller or target is gone already.
      for (const res of results) expectClean(res, ['FAILED_PRECONDITION', 'FORBIDDEN', 'NOT_FOUND']);
      expect(results.some((r) => !r.errors)).toBe(true);
      succeeded += results.filter((r) => !r.errors).length;
      expect(await owners(c.org.id)).toBeGreaterThanOrEqual(1);
      // And the survivors can still act as OWNER: the organization is not locked out.
      const [{ user_id: ownerId }] = await sql(`SELECT user_id FROM memberships WHERE organization_id = $1 AND role = 'OWNER' LIMIT 1`, [c.org.id]);
      const owner = [c.a, c.b, c.admin].find((p) => p.user.id === ownerId)!.user;
      expect((await on('query($id: ID!) { organization(id: $id) { viewerRole } }', { id: c.org.id }, owner)).data?.organization.viewerRole).toBe('OWNER');
    }
    expect(succeeded).toBeGreaterThanOrEqual(12);
  });

  it('the last OWNER demoted, removed and leaving on both replicas at once: all refused, the OWNER stays (12 rounds)', async () => {
    for (let round = 0; round < 12; round++) {
      const owner = newUser('Sole owner');
      const org = await createOrganization(owner, 'Sole');
      const membership = await membershipOf(org.id, owner);
      const results = await Promise.all([
        on(UPDATE, { input: { membershipId: membership, role: 'ADMIN' } }, owner, 0),
        on(UPDATE, { input: { membershipId: membership, role: 'VIEWER' } }, owner, 1),
        on(REMOVE, { id: membership }, owner, 0),
        on(REMOVE, { id: membership }, owner, 1),
        on(LEAVE, { id: org.id }, owner, 0),
        on(LEAVE, { id: org.id }, owner, 1),
      ]);
      for (const res of results) {
        expectClean(res, ['FAILED_PRECONDITION']);
        expect(res.errors?.[0].extensions.code).toBe('FAILED_PRECONDITION');
      }
      expect(await sql('SELECT user_id, role FROM memberships WHERE organization_id = $1', [org.id])).toEqual([{ user_id: owner.id, role: 'OWNER' }]);
    }
  });
});

describe('two replicas: an invitation is accepted once', () => {
  it('the same invitation accepted three times on each replica at once: one membership (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      const owner = newUser('Inviter');
      const org = await createOrganization(owner, 'Once');
      const address = `${unique('twice')}@example.test`;
      const { inviteMembers } = await ok(INVITE, { input: { organizationId: org.id, emails: [address], role: 'DEVELOPER' } }, owner);
      const invitationId = inviteMembers[0].id;
      const token = await invitationToken(invitationId);
      const invitee = userWithEmail(address);
      await ok('{ viewer { id } }', {}, invitee);
      // By the link's token and by id, on both replicas.
      const results = await Promise.all([
        on(ACCEPT, { token }, invitee, 0), on(ACCEPT, { token }, invitee, 1), on(ACCEPT, { id: invitationId }, invitee, 0),
        on(ACCEPT, { id: invitationId }, invitee, 1), on(ACCEPT, { token }, invitee, 0), on(ACCEPT, { token }, invitee, 1),
      ]);
      for (const res of results) expectClean(res, ['FAILED_PRECONDITION']);
      const accepted = results.filter((r) => !r.errors);
      expect(accepted).toHaveLength(1);
      expect(accepted[0].data!.acceptInvitation).toMatchObject({ role: 'DEVELOPER', organization: { id: org.id } });
      const memberships = await sql('SELECT id, role FROM memberships WHERE organization_id = $1 AND user_id = $2', [org.id, invitee.id]);
      expect(memberships).toEqual([{ id: accepted[0].data!.acceptInvitation.id, role: 'DEVELOPER' }]);
      expect(await sql('SELECT status, membership_id FROM invitations WHERE id = $1', [invitationId])).toEqual([{ status: 'ACCEPTED', membership_id: memberships[0].id }]);
      expect(await sql(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND action = 'invitation.accepted'`, [org.id])).toEqual([{ n: 1 }]);
    }
  });
});

describe('two replicas: seats are never exceeded', () => {
  /**
   * An organization on PRO with `seats` seats and its OWNER, with `invited` pending invitations
   * and `requested` pending join requests: every one of them wants a seat.
   */
  async function crowd(seats: number, invited: number, requested: number) {
    const owner = newUser('Seat keeper');
    const org = await createOrganization(owner, 'Full');
    await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: true }) { id } }', { id: org.id }, owner);
    await ok(UPDATE_SUB, { input: { organizationId: org.id, plan: 'PRO', seats, idempotencyKey: unique('k') } }, serviceToken(unique('billing'), 'billing:write'));
    const invitations: { id: string; token: string; user: TestUser }[] = [];
    const emails = Array.from({ length: invited }, () => `${unique('seat')}@example.test`);
    const { inviteMembers } = await ok(INVITE, { input: { organizationId: org.id, emails, role: 'VIEWER' } }, owner);
    for (const inv of inviteMembers as { id: string }[]) {
      const [row] = await sql('SELECT email FROM invitations WHERE id = $1', [inv.id]);
      invitations.push({ id: inv.id, token: await invitationToken(inv.id), user: userWithEmail(row.email) });
    }
    const requests: { id: string; user: TestUser }[] = [];
    for (let i = 0; i < requested; i++) {
      const user = newUser('Hopeful');
      requests.push({ id: (await ok(REQUEST, { id: org.id }, user)).requestToJoin.id, user });
    }
    await Promise.all(invitations.map((i) => ok('{ viewer { id } }', {}, i.user)));
    return { owner, org, invitations, requests };
  }

  const seated = async (organizationId: string) =>
    (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1 AND role <> 'GUEST'`, [organizationId]))[0].n;

  it.each([
    [1, 3, 2],
    [3, 5, 4],
    [5, 8, 6],
  ])('%i seat(s) left, %i accepts and %i approvals across both replicas: exactly that many get in, the rest QUOTA_EXCEEDED', async (left, invited, requested) => {
    for (let round = 0; round < 3; round++) {
      const { owner, org, invitations, requests } = await crowd(left + 1, invited, requested);
      // A GUEST invitation in the same burst: a GUEST takes no seat, so it must get in whatever happens.
      const guestAddress = `${unique('guest')}@example.test`;
      const { inviteMembers: [guestInvitation] } = await ok(INVITE, { input: { organizationId: org.id, emails: [guestAddress], role: 'GUEST' } }, owner);
      const guestToken = await invitationToken(guestInvitation.id);
      const contenders = [
        ...invitations.map((i) => () => on(ACCEPT, { token: i.token }, i.user)),
        ...requests.map((r) => () => on(APPROVE, { id: r.id }, owner)),
      ];
      // Interleave accepts and approvals, so both kinds race on both replicas.
      const order = contenders.map((run, i) => ({ run, key: (i * 7919) % contenders.length })).sort((x, y) => x.key - y.key);
      const [guest, ...results] = await Promise.all([on(ACCEPT, { token: guestToken }, userWithEmail(guestAddress, 'Guest')), ...order.map((c) => c.run())]);
      expectClean(guest, []);
      expect(guest.data!.acceptInvitation.role).toBe('GUEST');
      for (const res of results) expectClean(res, ['QUOTA_EXCEEDED']);
      expect(results.filter((r) => !r.errors)).toHaveLength(left);
      expect(results.filter((r) => r.errors?.[0].extensions.code === 'QUOTA_EXCEEDED')).toHaveLength(invited + requested - left);
      // The seats, counted by PostgreSQL and by the API: full, never over.
      expect(await seated(org.id)).toBe(left + 1);
      expect((await ok(SUBSCRIPTION, { id: org.id }, owner)).organization.subscription).toEqual({ seats: left + 1, seatsUsed: left + 1 });
      // Every winner has its membership, every loser is still pending, nothing else changed.
      const invitationRows = await sql('SELECT status, count(*)::int AS n FROM invitations WHERE id = ANY($1) GROUP BY status ORDER BY status', [invitations.map((i) => i.id)]);
      const requestRows = await sql('SELECT status, count(*)::int AS n FROM join_requests WHERE id = ANY($1) GROUP BY status ORDER BY status', [requests.map((r) => r.id)]);
      const accepted = invitationRows.find((r) => r.status === 'ACCEPTED')?.n ?? 0;
      const approved = requestRows.find((r) => r.status === 'APPROVED')?.n ?? 0;
      expect(accepted + approved).toBe(left);
      expect((invitationRows.find((r) => r.status === 'PENDING')?.n ?? 0) + (requestRows.find((r) => r.status === 'PENDING')?.n ?? 0)).toBe(invited + requested - left);
      const joined = await sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1 AND user_id = ANY($2)`,
        [org.id, [...invitations.map((i) => i.user.id), ...requests.map((r) => r.user.id)]],
      );
      expect(joined[0].n).toBe(left);
    }
  });

  it('guests promoted on both replicas while invitations are accepted: the seats still hold', async () => {
    for (let round = 0; round < 3; round++) {
      const { owner, org, invitations } = await crowd(3, 3, 0);
      const guests = [newUser('Guest'), newUser('Guest'), newUser('Guest')];
      const guestMemberships = [];
      for (const g of guests) guestMemberships.push(await addMember(org.id, g, 'GUEST'));
      const results = await Promise.all([
        ...guestMemberships.map((m) => on(UPDATE, { input: { membershipId: m, role: 'DEVELOPER' } }, owner)),
        ...invitations.map((i) => on(ACCEPT, { token: i.token }, i.user)),
      ]);
      for (const res of results) expectClean(res, ['QUOTA_EXCEEDED']);
      expect(results.filter((r) => !r.errors)).toHaveLength(2);
      expect(await seated(org.id)).toBe(3);
    }
  });
});
