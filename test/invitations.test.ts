import { createHash } from 'node:crypto';
import { addMember, createOrganization, failure, gql, invitationToken, newUser, ok, serviceToken, sql, unique, userWithEmail, type TestUser } from './support/client';

const INVITE = 'mutation($input: InviteMembersInput!) { inviteMembers(input: $input) { id email role assignments status sendCount expiresAt workspaces { id } invitedBy { id } } }';
const ACCEPT = 'mutation($token: String, $id: ID) { acceptInvitation(token: $token, id: $id) { id role assignments organization { id name } workspaceAccess { workspace { id } } } }';
const DECLINE = 'mutation($token: String, $id: ID) { declineInvitation(token: $token, id: $id) { id status } }';
const RESEND = 'mutation($id: ID!) { resendInvitation(id: $id) { id sendCount expiresAt lastSentAt status } }';
const CANCEL = 'mutation($id: ID!) { cancelInvitation(id: $id) { id status } }';
const PREVIEW = 'query($token: String!) { invitation(token: $token) { id email role status expiresAt organizationName inviterName } }';

const email = () => `${unique('invitee')}@example.test`;

async function team(name = 'Inviting') {
  const owner = newUser('Olive Owner');
  const org = await createOrganization(owner, name);
  return { owner, org };
}

async function invite(by: TestUser, organizationId: string, input: Record<string, unknown> = {}) {
  const address = email();
  const { inviteMembers } = await ok(INVITE, { input: { organizationId, emails: [address], ...input } }, by);
  return { invitation: inviteMembers[0], email: address, token: await invitationToken(inviteMembers[0].id) };
}

describe('inviteMembers', () => {
  it('creates one pending invitation per distinct address, trimmed and lower-cased, each with its mail and event', async () => {
    const { owner, org } = await team();
    const a = email();
    const b = email();
    const { inviteMembers } = await ok(INVITE, { input: { organizationId: org.id, emails: [`  ${a.toUpperCase()} `, b, a], role: 'DEVELOPER' } }, owner);
    expect(inviteMembers.map((i: any) => i.email).sort()).toEqual([a, b].sort());
    for (const i of inviteMembers) {
      expect(i).toMatchObject({ role: 'DEVELOPER', status: 'PENDING', sendCount: 1, invitedBy: { id: owner.id } });
      const days = (new Date(i.expiresAt).getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6.9);
      expect(days).toBeLessThanOrEqual(7);
    }
    const mails = await sql('SELECT payload FROM mail_outbox WHERE topic = ANY($1)', [inviteMembers.map((i: any) => `invitation:${i.id}`)]);
    expect(mails).toHaveLength(2);
    // Sealed: neither the address nor the link rests readable in the outbox.
    for (const m of mails) {
      const bytes = Buffer.from(m.payload, 'base64').toString('latin1');
      expect(bytes).not.toContain(a);
      expect(bytes).not.toContain('token=');
    }
    // Only the token's SHA-256 is stored.
    for (const i of inviteMembers) {
      const [row] = await sql('SELECT token_hash FROM invitations WHERE id = $1', [i.id]);
      expect(row.token_hash).toBe(createHash('sha256').update(await invitationToken(i.id)).digest('hex'));
    }
    expect(await sql(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND action = 'invitation.created'`, [org.id])).toEqual([{ n: 2 }]);
  });

  it('is all or nothing: a bad address, a member or a pending invitation among them, and nothing is created', async () => {
    const { owner, org } = await team();
    const member = newUser();
    await addMember(org.id, member, 'VIEWER');
    const pending = (await invite(owner, org.id)).email;
    const count = async () => (await sql('SELECT count(*)::int AS n FROM invitations WHERE organization_id = $1', [org.id]))[0].n;
    const before = await count();
    const attempt = (emails: string[]) => failure(INVITE, { input: { organizationId: org.id, emails } }, owner);
    expect(await attempt([email(), 'not-an-address'])).toMatchObject({ code: 'BAD_USER_INPUT', field: 'emails', message: expect.stringContaining('not-an-address') });
    expect(await attempt([email(), member.email])).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(member.email) });
    expect(await attempt([email(), pending])).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(pending) });
    expect((await attempt([])).code).toBe('BAD_USER_INPUT');
    expect((await attempt(Array.from({ length: 11 }, email))).code).toBe('BAD_USER_INPUT');
    expect(await count()).toBe(before);
  });

  it('invites an address again once its pending invitation has lapsed: the old one reads EXPIRED, the new one is PENDING', async () => {
    const { owner, org } = await team();
    const lapsed = await invite(owner, org.id);
    const live = await invite(owner, org.id);
    await sql(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, [lapsed.invitation.id]);
    const { inviteMembers } = await ok(INVITE, { input: { organizationId: org.id, emails: [lapsed.email] } }, owner);
    expect(inviteMembers).toEqual([expect.objectContaining({ email: lapsed.email, status: 'PENDING' })]);
    expect(inviteMembers[0].id).not.toBe(lapsed.invitation.id);
    expect((await sql('SELECT status FROM invitations WHERE id = $1', [lapsed.invitation.id]))[0].status).toBe('EXPIRED');
    // A live one still stands in the way, first or last among the addresses: nothing is created,
    // sent or recorded, and a lapsed one before it is left as it was.
    const lapsedToo = await invite(owner, org.id);
    await sql(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, [lapsedToo.invitation.id]);
    const state = async () => ({
      invitations: await sql(`SELECT id, status FROM invitations WHERE organization_id = $1 ORDER BY id`, [org.id]),
      mails: (await sql(`SELECT count(*)::int AS n FROM mail_outbox WHERE organization_id = $1`, [org.id]))[0].n,
      events: (await sql(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1`, [org.id]))[0].n,
    });
    const before = await state();
    for (const emails of [[live.email, email()], [email(), live.email], [lapsedToo.email, live.email]]) {
      expect(await failure(INVITE, { input: { organizationId: org.id, emails } }, owner)).toMatchObject({ code: 'CONFLICT', field: 'emails', message: expect.stringContaining(live.email) });
    }
    expect(await state()).toEqual(before);
    expect(before.invitations.find((i: any) => i.id === lapsedToo.invitation.id)?.status).toBe('PENDING');
  });

  it('refuses escalation: nobody invites to a role, assignment or workspace above their own', async () => {
    const { owner, org } = await team();
    const admin = newUser();
    const viewer = newUser();
    const membersAdmin = newUser();
    await addMember(org.id, admin, 'ADMIN');
    await addMember(org.id, viewer, 'VIEWER');
    const maMembership = await addMember(org.id, membersAdmin, 'DEVELOPER', ['MEMBERS_ADMIN']);
    const ws = async (name: string) => (await ok('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: org.id, name } }, owner)).createWorkspace.id;
    const [seen, viewerOnly, unseen] = [await ws('Seen'), await ws('Viewer only'), await ws('Unseen')];
    await ok('mutation($input: SetWorkspaceAccessInput!) { setWorkspaceAccess(input: $input) { id } }', {
      input: { membershipId: maMembership, workspaces: [{ workspaceId: seen }, { workspaceId: viewerOnly, roleOverride: 'VIEWER' }] },
    }, owner);
    const code = async (by: TestUser, input: Record<string, unknown>) => (await gql(INVITE, { input: { organizationId: org.id, emails: [email()], ...input } }, by)).errors?.[0]?.extensions.code ?? 'OK';
    expect(await code(admin, { role: 'OWNER' })).toBe('FORBIDDEN');
    expect(await code(admin, { role: 'VIEWER', assignments: ['AUDITOR'] })).toBe('FORBIDDEN');
    expect(await code(admin, { role: 'ADMIN', assignments: ['MEMBERS_ADMIN'] })).toBe('OK');
    expect(await code(viewer, { role: 'VIEWER' })).toBe('FORBIDDEN');
    expect(await code(membersAdmin, { role: 'ADMIN' })).toBe('FORBIDDEN');
    expect(await code(membersAdmin, { role: 'DEVELOPER', workspaceIds: [seen] })).toBe('OK');
    expect(await code(membersAdmin, { role: 'DEVELOPER', workspaceIds: [viewerOnly] })).toBe('FORBIDDEN');
    expect(await code(membersAdmin, { role: 'VIEWER', workspaceIds: [unseen] })).toBe('NOT_FOUND');
    expect(await code(newUser(), { role: 'VIEWER' })).toBe('NOT_FOUND');
    expect(await code(owner, { role: 'GUEST', assignments: ['AUDITOR'] })).toBe('BAD_USER_INPUT');
    expect(await code(serviceToken(unique('svc'), 'billing:write') as never, {})).toBe('FORBIDDEN');
  });

  it('refuses a personal organization', async () => {
    const user = newUser();
    const { viewer } = await ok('{ viewer { personalOrganization { id } } }', {}, user);
    expect((await failure(INVITE, { input: { organizationId: viewer.personalOrganization.id, emails: [email()] } }, user)).code).toBe('FAILED_PRECONDITION');
  });
});

describe('accepting', () => {
  it('by the link\'s token creates the membership with role, assignments and workspaces, in one transaction', async () => {
    const { owner, org } = await team('Welcome');
    const ws = (await ok('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: org.id, name: 'Lab' } }, owner)).createWorkspace.id;
    const { invitation, email: address, token } = await invite(owner, org.id, { role: 'DEVELOPER', assignments: ['AUDITOR'], workspaceIds: [ws] });
    const invitee = userWithEmail(address);
    const preview = await ok(PREVIEW, { token }, invitee);
    expect(preview.invitation).toMatchObject({ id: invitation.id, email: address, role: 'DEVELOPER', status: 'PENDING', organizationName: 'Welcome', inviterName: 'Olive Owner' });
    const { acceptInvitation } = await ok(ACCEPT, { token }, invitee);
    expect(acceptInvitation).toMatchObject({ role: 'DEVELOPER', assignments: ['AUDITOR'], organization: { id: org.id, name: 'Welcome' }, workspaceAccess: [{ workspace: { id: ws } }] });
    expect((await sql('SELECT status, membership_id FROM invitations WHERE id = $1', [invitation.id]))[0]).toEqual({ status: 'ACCEPTED', membership_id: acceptInvitation.id });
    const [event] = await sql(`SELECT actor_id, metadata FROM audit_events WHERE organization_id = $1 AND action = 'invitation.accepted'`, [org.id]);
    expect(event.actor_id).toBe(invitee.id);
    // Used once: the token is spent.
    expect((await failure(ACCEPT, { token }, invitee)).code).toBe('FAILED_PRECONDITION');
  });

  it('is refused to another account, and to an unverified email (FORBIDDEN); the invitation stays pending', async () => {
    const { owner, org } = await team();
    const { invitation, email: address, token } = await invite(owner, org.id);
    expect((await failure(ACCEPT, { token }, newUser())).code).toBe('FORBIDDEN');
    expect((await failure(ACCEPT, { token }, userWithEmail(address, 'Unverified', false))).code).toBe('FORBIDDEN');
    expect((await failure(DECLINE, { token }, newUser())).code).toBe('FORBIDDEN');
    expect((await sql('SELECT status FROM invitations WHERE id = $1', [invitation.id]))[0].status).toBe('PENDING');
  });

  it('by id, from viewer.pendingInvitations; someone else\'s id is NOT_FOUND; token and id together BAD_USER_INPUT', async () => {
    const { owner, org } = await team('Listed');
    const { invitation, email: address, token } = await invite(owner, org.id);
    const invitee = userWithEmail(address);
    const { viewer } = await ok('{ viewer { pendingInvitations { id role organization { id name } } } }', {}, invitee);
    expect(viewer.pendingInvitations).toEqual([{ id: invitation.id, role: 'VIEWER', organization: { id: org.id, name: 'Listed' } }]);
    // The invitee sees the organization's name, nothing else of it.
    const peek = await gql('{ viewer { pendingInvitations { organization { members { totalCount } } } } }', {}, invitee);
    expect(['NOT_FOUND', 'FORBIDDEN']).toContain(peek.errors?.[0].extensions.code);
    expect((await failure(ACCEPT, { id: invitation.id }, newUser())).code).toBe('NOT_FOUND');
    expect((await failure(ACCEPT, { id: invitation.id, token }, invitee)).code).toBe('BAD_USER_INPUT');
    expect((await failure(ACCEPT, {}, invitee)).code).toBe('BAD_USER_INPUT');
    expect((await ok(ACCEPT, { id: invitation.id }, invitee)).acceptInvitation.organization.id).toBe(org.id);
    expect((await ok('{ viewer { pendingInvitations { id } } }', {}, invitee)).viewer.pendingInvitations).toEqual([]);
  });

  it('is FAILED_PRECONDITION once expired, canceled or declined', async () => {
    const { owner, org } = await team();
    const expired = await invite(owner, org.id);
    await sql(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, [expired.invitation.id]);
    expect((await failure(ACCEPT, { token: expired.token }, userWithEmail(expired.email))).code).toBe('FAILED_PRECONDITION');
    expect((await ok(PREVIEW, { token: expired.token }, null as never)).invitation.status).toBe('EXPIRED');
    const canceled = await invite(owner, org.id);
    expect((await ok(CANCEL, { id: canceled.invitation.id }, owner)).cancelInvitation.status).toBe('CANCELED');
    expect((await failure(ACCEPT, { token: canceled.token }, userWithEmail(canceled.email))).code).toBe('FAILED_PRECONDITION');
    const declined = await invite(owner, org.id);
    const decliner = userWithEmail(declined.email);
    expect((await ok(DECLINE, { token: declined.token }, decliner)).declineInvitation.status).toBe('DECLINED');
    expect((await failure(ACCEPT, { token: declined.token }, decliner)).code).toBe('FAILED_PRECONDITION');
    const actions = (await sql(`SELECT action FROM audit_events WHERE organization_id = $1 AND action LIKE 'invitation.%' ORDER BY id`, [org.id])).map((r) => r.action);
    expect(actions.filter((a) => a !== 'invitation.created')).toEqual(['invitation.canceled', 'invitation.declined']);
  });

  it('happens once, even for ten parallel accepts', async () => {
    const { owner, org } = await team();
    const { email: address, token } = await invite(owner, org.id);
    const invitee = userWithEmail(address);
    await ok('{ viewer { id } }', {}, invitee);
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(ACCEPT, { token }, invitee)));
    expect(results.filter((r) => !r.errors).length).toBe(1);
    for (const r of results.filter((r) => r.errors)) expect(r.errors![0].extensions.code).toBe('FAILED_PRECONDITION');
    expect(await sql('SELECT 1 FROM memberships WHERE organization_id = $1 AND user_id = $2', [org.id, invitee.id])).toHaveLength(1);
  });

  it('with one seat left, exactly one of three parallel accepts succeeds; the others stay pending (QUOTA_EXCEEDED)', async () => {
    const { owner, org } = await team();
    await ok('mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) { seats } }', { input: { organizationId: org.id, plan: 'PRO', seats: 2, idempotencyKey: unique('k') } }, serviceToken(unique('billing'), 'billing:write'));
    const invites = [await invite(owner, org.id), await invite(owner, org.id), await invite(owner, org.id)];
    const invitees = invites.map((i) => userWithEmail(i.email));
    await Promise.all(invitees.map((u) => ok('{ viewer { id } }', {}, u)));
    const results = await Promise.all(invites.map((i, n) => gql(ACCEPT, { token: i.token }, invitees[n])));
    expect(results.filter((r) => !r.errors).length).toBe(1);
    expect(results.filter((r) => r.errors?.[0].extensions.code === 'QUOTA_EXCEEDED').length).toBe(2);
    const statuses = (await sql('SELECT status FROM invitations WHERE id = ANY($1) ORDER BY status', [invites.map((i) => i.invitation.id)])).map((r) => r.status);
    expect(statuses).toEqual(['ACCEPTED', 'PENDING', 'PENDING']);
    // A GUEST takes no seat: it still gets in.
    const guest = await invite(owner, org.id, { role: 'GUEST' });
    expect((await ok(ACCEPT, { token: guest.token }, userWithEmail(guest.email))).acceptInvitation.role).toBe('GUEST');
  });

  it('is CONFLICT for someone already a member', async () => {
    const { owner, org } = await team();
    const { email: address, token } = await invite(owner, org.id);
    const invitee = userWithEmail(address);
    await addMember(org.id, invitee, 'VIEWER');
    expect((await failure(ACCEPT, { token }, invitee)).code).toBe('CONFLICT');
  });
});

describe('email addresses', () => {
  const PENDING = '{ viewer { pendingInvitations { id } } }';
  const ENTITY = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Invitation { id email } } }';

  it('compares them after lower-casing ASCII only: a Kelvin sign (U+212A) is not a k', async () => {
    const { owner, org } = await team();
    const address = `${unique('kate')}@example.test`;
    const { inviteMembers } = await ok(INVITE, { input: { organizationId: org.id, emails: [address] } }, owner);
    const invitation = inviteMembers[0];
    const token = await invitationToken(invitation.id);
    // A verified address that JavaScript's toLowerCase() turns into the invited one.
    const kelvin = userWithEmail(address.replace('k', '\u212A'));
    expect(kelvin.email.toLowerCase()).toBe(address);
    expect((await ok(PENDING, {}, kelvin)).viewer.pendingInvitations).toEqual([]);
    expect((await gql(ENTITY, { r: [{ __typename: 'Invitation', id: invitation.id }] }, kelvin)).errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect((await failure(ACCEPT, { id: invitation.id }, kelvin)).code).toBe('NOT_FOUND');
    expect((await failure(DECLINE, { id: invitation.id }, kelvin)).code).toBe('NOT_FOUND');
    expect((await failure(ACCEPT, { token }, kelvin)).code).toBe('FORBIDDEN');
    expect((await failure(DECLINE, { token }, kelvin)).code).toBe('FORBIDDEN');
    expect((await sql('SELECT status FROM invitations WHERE id = $1', [invitation.id]))[0].status).toBe('PENDING');
    // The owner of the ASCII address, whatever the case of its token's claim, still can.
    const kate = userWithEmail(address.replace('kate', 'Kate').replace('example.test', 'Example.TEST'));
    expect((await ok(PENDING, {}, kate)).viewer.pendingInvitations).toEqual([{ id: invitation.id }]);
    expect((await ok(ACCEPT, { token }, kate)).acceptInvitation.organization.id).toBe(org.id);
  });

  // JavaScript's trim() drops these characters: with them, another verified address became the invited one.
  it.each([
    ['a no-break space', (a: string) => `${a}\u00A0`],
    ['an ideographic space', (a: string) => `\u3000${a}`],
    ['a byte order mark', (a: string) => `\uFEFF${a}`],
    ['a line separator', (a: string) => `${a}\u2028`],
  ])('a token address with %s around the invited one is refused, and takes nothing', async (_label, around) => {
    const { owner, org } = await team();
    const address = `${unique('kate')}@example.test`;
    const [invitation] = (await ok(INVITE, { input: { organizationId: org.id, emails: [address] } }, owner)).inviteMembers;
    const token = await invitationToken(invitation.id);
    const lookalike = userWithEmail(around(address));
    expect((await gql(PENDING, {}, lookalike)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await gql(ACCEPT, { token }, lookalike)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await sql('SELECT status FROM invitations WHERE id = $1', [invitation.id]))[0].status).toBe('PENDING');
    // Invited with such a character, the address is refused rather than stored as another.
    const refused = await failure(INVITE, { input: { organizationId: org.id, emails: [around(`${unique('x')}@example.test`)] } }, owner);
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'emails' });
  });

  it('keeps an invitation to the Kelvin-sign address apart from one to the ASCII address', async () => {
    const { owner, org } = await team();
    const address = `${unique('kate')}@example.test`;
    const lookalike = address.replace('k', '\u212A');
    const { inviteMembers } = await ok(INVITE, { input: { organizationId: org.id, emails: [address, lookalike] } }, owner);
    expect(inviteMembers.map((i: { email: string }) => i.email).sort()).toEqual([address, lookalike].sort());
  });

  it('an unverified address of a member does not block inviting its real owner', async () => {
    const { owner, org } = await team();
    const address = email();
    // A member whose token claims the address without the issuer having verified it.
    await addMember(org.id, userWithEmail(address, 'Claimer', false), 'VIEWER');
    const { inviteMembers } = await ok(INVITE, { input: { organizationId: org.id, emails: [address] } }, owner);
    expect(inviteMembers).toEqual([expect.objectContaining({ email: address, status: 'PENDING' })]);
    // A verified member's address still does.
    const verified = userWithEmail(email(), 'Verified');
    await addMember(org.id, verified, 'VIEWER');
    expect(await failure(INVITE, { input: { organizationId: org.id, emails: [verified.email] } }, owner)).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(verified.email) });
  });
});

describe('resending and canceling', () => {
  it('a resend issues a new link (the old one stops working), renews the expiry and counts; 5 sends a day at most', async () => {
    const { owner, org } = await team();
    const { invitation, email: address, token } = await invite(owner, org.id);
    await sql(`UPDATE invitations SET expires_at = now() + interval '1 hour' WHERE id = $1`, [invitation.id]);
    const resent = (await ok(RESEND, { id: invitation.id }, owner)).resendInvitation;
    expect(resent.sendCount).toBe(2);
    expect(new Date(resent.expiresAt).getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const fresh = await invitationToken(invitation.id);
    expect(fresh).not.toBe(token);
    expect((await failure(PREVIEW, { token }, null)).code).toBe('NOT_FOUND');
    expect((await failure(ACCEPT, { token }, userWithEmail(address))).code).toBe('NOT_FOUND');
    for (let i = 3; i <= 5; i++) expect((await ok(RESEND, { id: invitation.id }, owner)).resendInvitation.sendCount).toBe(i);
    expect((await failure(RESEND, { id: invitation.id }, owner)).code).toBe('QUOTA_EXCEEDED');
    expect((await ok(ACCEPT, { token: await invitationToken(invitation.id) }, userWithEmail(address))).acceptInvitation.organization.id).toBe(org.id);
    expect(await sql(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND action = 'invitation.resent'`, [org.id])).toEqual([{ n: 4 }]);
  });

  it('only holders of MEMBERS_INVITE resend or cancel; a canceled invitation cannot be resent', async () => {
    const { owner, org } = await team();
    const viewer = newUser();
    await addMember(org.id, viewer, 'VIEWER');
    const { invitation } = await invite(owner, org.id);
    expect((await failure(RESEND, { id: invitation.id }, viewer)).code).toBe('FORBIDDEN');
    expect((await failure(CANCEL, { id: invitation.id }, viewer)).code).toBe('FORBIDDEN');
    expect((await failure(CANCEL, { id: invitation.id }, newUser())).code).toBe('NOT_FOUND');
    await ok(CANCEL, { id: invitation.id }, owner);
    expect((await failure(RESEND, { id: invitation.id }, owner)).code).toBe('FAILED_PRECONDITION');
    expect((await failure(CANCEL, { id: invitation.id }, owner)).code).toBe('FAILED_PRECONDITION');
  });
});

describe('listing invitations', () => {
  it('Organization.invitations for MEMBERS_INVITE holders, filtered by status', async () => {
    const { owner, org } = await team();
    const viewer = newUser();
    await addMember(org.id, viewer, 'VIEWER');
    const kept = await invite(owner, org.id);
    const dropped = await invite(owner, org.id);
    await ok(CANCEL, { id: dropped.invitation.id }, owner);
    const q = 'query($id: ID!, $s: InvitationStatus) { organization(id: $id) { invitations(status: $s) { totalCount nodes { id status } } } }';
    expect((await ok(q, { id: org.id, s: 'PENDING' }, owner)).organization.invitations).toEqual({ totalCount: 1, nodes: [{ id: kept.invitation.id, status: 'PENDING' }] });
    expect((await ok(q, { id: org.id }, owner)).organization.invitations.totalCount).toBe(2);
    expect((await failure(q, { id: org.id }, viewer)).code).toBe('FORBIDDEN');
  });

  it('an invitation entity resolves for inviters and its invitee, NOT_FOUND for anyone else', async () => {
    const { owner, org } = await team();
    const { invitation, email: address } = await invite(owner, org.id);
    const q = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Invitation { id email } } }';
    const r = [{ __typename: 'Invitation', id: invitation.id }];
    expect((await ok(q, { r }, owner))._entities).toEqual([{ id: invitation.id, email: address }]);
    expect((await ok(q, { r }, userWithEmail(address)))._entities).toEqual([{ id: invitation.id, email: address }]);
    expect((await gql(q, { r }, newUser())).errors?.[0].extensions.code).toBe('NOT_FOUND');
  });
});
