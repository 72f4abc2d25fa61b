import { addMember, createOrganization, failure, gql, newUser, ok, serviceToken, sql, unique, type TestUser } from './support/client';

const BILLING = 'query($id: ID!) { organization(id: $id) { subscription { plan seats seatsUsed minSeats memberLimit workspaceLimit creditsPerSeat creditsLimit } usage { creditsUsed creditsLimit members workspaces periodStart } } }';
const UPDATE_SUB = 'mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) { plan seats seatsUsed memberLimit workspaceLimit creditsLimit } }';
const RECORD_USAGE = 'mutation($input: RecordUsageInput!) { recordUsage(input: $input) { creditsUsed creditsLimit periodStart } }';
const billing = () => serviceToken(unique('billing'), 'billing:write');
const metering = () => serviceToken(unique('metering'), 'usage:write');

describe('subscriptions', () => {
  it('a personal organization is on STARTER; a new team on TEAM with 5 seats', async () => {
    const user = newUser();
    const { viewer } = await ok('{ viewer { personalOrganization { id } } }', {}, user);
    const personal = await ok(BILLING, { id: viewer.personalOrganization.id }, user);
    expect(personal.organization.subscription).toEqual({ plan: 'STARTER', seats: 1, seatsUsed: 1, minSeats: 0, memberLimit: 1, workspaceLimit: 3, creditsPerSeat: 100, creditsLimit: 100 });
    const org = await createOrganization(user, 'Paid');
    const team = await ok(BILLING, { id: org.id }, user);
    expect(team.organization.subscription).toEqual({ plan: 'TEAM', seats: 5, seatsUsed: 1, minSeats: 1, memberLimit: 5, workspaceLimit: 50, creditsPerSeat: 2000, creditsLimit: 10000 });
    const now = new Date();
    expect(team.organization.usage).toEqual({ creditsUsed: 0, creditsLimit: 10000, members: 1, workspaces: 0, periodStart: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString() });
  });

  it('needs BILLING_READ: OWNER and BILLING_MANAGER yes, ADMIN no', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Billing read');
    const [admin, manager] = [newUser(), newUser()];
    await addMember(org.id, admin, 'ADMIN');
    await addMember(org.id, manager, 'VIEWER', ['BILLING_MANAGER']);
    expect((await ok(BILLING, { id: org.id }, manager)).organization.subscription.plan).toBe('TEAM');
    expect((await failure('query($id: ID!) { organization(id: $id) { subscription { plan } } }', { id: org.id }, admin)).code).toBe('FORBIDDEN');
    expect((await failure('query($id: ID!) { organization(id: $id) { usage { creditsUsed } } }', { id: org.id }, admin)).code).toBe('FORBIDDEN');
  });

  it('updateSubscription changes plan and seats, audited with before and after', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Upgrade');
    const res = await ok(UPDATE_SUB, { input: { organizationId: org.id, plan: 'BUSINESS', seats: 12, idempotencyKey: unique('k') } }, billing());
    expect(res.updateSubscription).toEqual({ plan: 'BUSINESS', seats: 12, seatsUsed: 1, memberLimit: 12, workspaceLimit: 200, creditsLimit: 60000 });
    const [event] = await sql(`SELECT actor_type, metadata FROM audit_events WHERE organization_id = $1 AND action = 'subscription.updated'`, [org.id]);
    expect(event).toEqual({ actor_type: 'SERVICE', metadata: { changes: { plan: { before: 'TEAM', after: 'BUSINESS' }, seats: { before: 5, after: 12 } } } });
    const unlimited = await ok(UPDATE_SUB, { input: { organizationId: org.id, plan: 'ENTERPRISE', seats: 30, idempotencyKey: unique('k') } }, billing());
    expect(unlimited.updateSubscription.workspaceLimit).toBeNull();
  });

  it.each([
    ['below the plan\'s minimum seats', { plan: 'BUSINESS', seats: 4 }, 'BAD_USER_INPUT', 'seats'],
    ['negative seats', { plan: 'TEAM', seats: -1 }, 'BAD_USER_INPUT', 'seats'],
    ['an empty idempotency key', { plan: 'TEAM', seats: 5, idempotencyKey: ' ' }, 'BAD_USER_INPUT', 'idempotencyKey'],
  ])('refuses %s', async (_label, spec, code, field) => {
    const org = await createOrganization(newUser(), 'Bad sub');
    const res = await failure(UPDATE_SUB, { input: { organizationId: org.id, idempotencyKey: unique('k'), ...spec } }, billing());
    expect(res).toMatchObject({ code, field });
    expect((await sql('SELECT plan, seats FROM subscriptions WHERE organization_id = $1', [org.id]))[0]).toEqual({ plan: 'TEAM', seats: 5 });
  });

  it('keeps a personal organization on STARTER, and an unknown organization is NOT_FOUND', async () => {
    const user = newUser();
    const { viewer } = await ok('{ viewer { personalOrganization { id } } }', {}, user);
    expect((await failure(UPDATE_SUB, { input: { organizationId: viewer.personalOrganization.id, plan: 'PRO', seats: 1, idempotencyKey: unique('k') } }, billing())).code).toBe('FAILED_PRECONDITION');
    expect((await failure(UPDATE_SUB, { input: { organizationId: '01900000-0000-7000-8000-000000000000', plan: 'PRO', seats: 1, idempotencyKey: unique('k') } }, billing())).code).toBe('NOT_FOUND');
  });
});

describe('seats', () => {
  it('lowering seats below the members is allowed and blocks new members until seats free up', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Crowded');
    const members: { user: TestUser; membership: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const user = newUser();
      members.push({ user, membership: await addMember(org.id, user, 'VIEWER') });
    }
    const guest = newUser();
    const guestMembership = await addMember(org.id, guest, 'GUEST');
    const lowered = await ok(UPDATE_SUB, { input: { organizationId: org.id, plan: 'TEAM', seats: 2, idempotencyKey: unique('k') } }, billing());
    expect(lowered.updateSubscription).toMatchObject({ seats: 2, seatsUsed: 4, memberLimit: 2 });
    // A GUEST takes no seat; made a VIEWER it would: QUOTA_EXCEEDED, and it stays a GUEST.
    const promote = 'mutation($m: ID!) { updateMembership(input: { membershipId: $m, role: VIEWER }) { role } }';
    expect((await failure(promote, { m: guestMembership }, owner)).code).toBe('QUOTA_EXCEEDED');
    expect((await sql('SELECT role FROM memberships WHERE id = $1', [guestMembership]))[0].role).toBe('GUEST');
    // Once enough members are gone, the seat is free again.
    for (const m of members.slice(0, 3)) await ok('mutation($m: ID!) { removeMember(membershipId: $m) }', { m: m.membership }, owner);
    expect((await ok(promote, { m: guestMembership }, owner)).updateMembership.role).toBe('VIEWER');
  });

  it('handing ownership to a GUEST takes a seat too (found by test/fuzz.test.ts)', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Full house');
    await addMember(org.id, newUser(), 'VIEWER');
    const guestMembership = await addMember(org.id, newUser(), 'GUEST');
    await ok(UPDATE_SUB, { input: { organizationId: org.id, plan: 'PRO', seats: 2, idempotencyKey: unique('k') } }, billing());
    const TRANSFER = 'mutation($o: ID!, $m: ID!) { transferOwnership(organizationId: $o, membershipId: $m) { id } }';
    expect((await failure(TRANSFER, { o: org.id, m: guestMembership }, owner)).code).toBe('QUOTA_EXCEEDED');
    expect(await sql('SELECT role FROM memberships WHERE organization_id = $1 ORDER BY role', [org.id])).toEqual([{ role: 'GUEST' }, { role: 'OWNER' }, { role: 'VIEWER' }]);
    // With a free seat it goes through: the GUEST becomes OWNER, the caller ADMIN.
    await ok(UPDATE_SUB, { input: { organizationId: org.id, plan: 'PRO', seats: 3, idempotencyKey: unique('k') } }, billing());
    await ok(TRANSFER, { o: org.id, m: guestMembership }, owner);
    expect((await sql('SELECT role FROM memberships WHERE id = $1', [guestMembership]))[0].role).toBe('OWNER');
  });

  it('two promotions racing for the last seat: exactly one wins (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      const owner = newUser();
      const org = await createOrganization(owner, 'Last seat');
      await ok(UPDATE_SUB, { input: { organizationId: org.id, plan: 'PRO', seats: 2, idempotencyKey: unique('k') } }, billing());
      const guests = [newUser(), newUser(), newUser()];
      const ids = [];
      for (const g of guests) ids.push(await addMember(org.id, g, 'GUEST'));
      const results = await Promise.all(ids.map((m) => gql('mutation($m: ID!) { updateMembership(input: { membershipId: $m, role: DEVELOPER }) { role } }', { m }, owner)));
      expect(results.filter((r) => !r.errors).length).toBe(1);
      expect(results.filter((r) => r.errors?.[0].extensions.code === 'QUOTA_EXCEEDED').length).toBe(2);
      expect((await sql(`SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1 AND role <> 'GUEST'`, [org.id]))[0].n).toBe(2);
    }
  });
});

describe('usage', () => {
  it('adds credits to the workspace\'s organization for this month, past the limit too', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Metered');
    const ws = (await ok('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: org.id, name: 'Busy' } }, owner)).createWorkspace.id;
    const first = await ok(RECORD_USAGE, { input: { workspaceId: ws, credits: 9000, idempotencyKey: unique('u') } }, metering());
    expect(first.recordUsage).toMatchObject({ creditsUsed: 9000, creditsLimit: 10000 });
    const over = await ok(RECORD_USAGE, { input: { workspaceId: ws, credits: 2500, idempotencyKey: unique('u') } }, metering());
    expect(over.recordUsage.creditsUsed).toBe(11500);
    expect((await ok(BILLING, { id: org.id }, owner)).organization.usage).toMatchObject({ creditsUsed: 11500, creditsLimit: 10000, workspaces: 1 });
    expect(await sql(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND action = 'usage.recorded'`, [org.id])).toEqual([{ n: 2 }]);
  });

  it.each([
    ['zero credits', { credits: 0 }, 'BAD_USER_INPUT'],
    ['negative credits', { credits: -5 }, 'BAD_USER_INPUT'],
    ['an unknown workspace', { credits: 5, workspaceId: '01900000-0000-7000-8000-000000000000' }, 'NOT_FOUND'],
  ])('refuses %s', async (_label, spec, code) => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Refused usage');
    const ws = (await ok('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: org.id, name: 'W' } }, owner)).createWorkspace.id;
    expect((await failure(RECORD_USAGE, { input: { workspaceId: ws, idempotencyKey: unique('u'), ...spec } }, metering())).code).toBe(code);
    expect(await sql('SELECT 1 FROM usage_periods WHERE organization_id = $1', [org.id])).toHaveLength(0);
  });
});

describe('idempotency', () => {
  it('ten parallel retries of one call apply it once and all answer the same', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Retried');
    const ws = (await ok('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: org.id, name: 'W' } }, owner)).createWorkspace.id;
    const token = metering();
    const input = { workspaceId: ws, credits: 7, idempotencyKey: unique('retry') };
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(RECORD_USAGE, { input }, token)));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => JSON.stringify(r.data))).size).toBe(1);
    expect(results[0].data!.recordUsage.creditsUsed).toBe(7);
    expect((await sql('SELECT credits_used FROM usage_periods WHERE organization_id = $1', [org.id]))[0].credits_used).toBe('7');
    expect(await sql(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND action = 'usage.recorded'`, [org.id])).toEqual([{ n: 1 }]);
  });

  it('the same key with a different input is CONFLICT and changes nothing', async () => {
    const org = await createOrganization(newUser(), 'Conflicted');
    const token = billing();
    const key = unique('k');
    await ok(UPDATE_SUB, { input: { organizationId: org.id, plan: 'PRO', seats: 3, idempotencyKey: key } }, token);
    const again = await ok(UPDATE_SUB, { input: { organizationId: org.id, plan: 'PRO', seats: 3, idempotencyKey: key } }, token);
    expect(again.updateSubscription).toMatchObject({ plan: 'PRO', seats: 3 });
    expect(await failure(UPDATE_SUB, { input: { organizationId: org.id, plan: 'PRO', seats: 9, idempotencyKey: key } }, token)).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    expect((await sql('SELECT seats FROM subscriptions WHERE organization_id = $1', [org.id]))[0].seats).toBe(3);
  });

  it('a failed call leaves its key free for a retry', async () => {
    const owner = newUser();
    const { viewer } = await ok('{ viewer { personalOrganization { id } } }', {}, owner);
    const token = billing();
    const key = unique('k');
    expect((await failure(UPDATE_SUB, { input: { organizationId: viewer.personalOrganization.id, plan: 'PRO', seats: 1, idempotencyKey: key } }, token)).code).toBe('FAILED_PRECONDITION');
    expect((await ok(UPDATE_SUB, { input: { organizationId: viewer.personalOrganization.id, plan: 'STARTER', seats: 1, idempotencyKey: key } }, token)).updateSubscription.plan).toBe('STARTER');
  });
});
