import { addMember, createOrganization, failure, gql, newUser, ok, signToken, sql, unique, userWithEmail, type TestUser } from './support/client';
import { publishTxt, setTxt, unpublishTxt } from './support/dns-server';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';

const FIELDS = 'id domain status verificationRecord { type name value } verifiedAt verificationExpiresAt lastCheckedAt unverifiedSince enrollmentMode defaultRole';
const ADD = `mutation($o: ID!, $d: String!) { addDomain(input: { organizationId: $o, domain: $d }) { ${FIELDS} } }`;
const VERIFY = `mutation($id: ID!) { verifyDomain(id: $id) { ${FIELDS} } }`;
const UPDATE = `mutation($input: UpdateDomainInput!) { updateDomain(input: $input) { ${FIELDS} } }`;
const REMOVE = 'mutation($id: ID!) { removeDomain(id: $id) }';
const DOMAINS = `query($id: ID!) { organization(id: $id) { domains { ${FIELDS} } } }`;
const PENDING = '{ viewer { pendingInvitations { id role organization { id name } } } }';
const SUGGESTED = '{ viewer { suggestedOrganizations { id slug name } } }';
const REQUEST = 'mutation($id: ID!) { requestToJoin(organizationId: $id) { id status } }';

/** A domain nobody else uses: every test gets its own (`.test` is reserved for testing, RFC 2606). */
const newDomain = (prefix = 'acme') => `${unique(prefix)}.test`;

async function team(name = 'Acme'): Promise<{ owner: TestUser; org: { id: string; slug: string } }> {
  const owner = newUser(`${name} Owner`);
  return { owner, org: await createOrganization(owner, name) };
}

/** Adds the domain, publishes its record in the test DNS server and verifies it. */
async function verified(org: { id: string }, owner: TestUser, domain = newDomain()): Promise<{ id: string; domain: string; record: { name: string; value: string } }> {
  const added = (await ok(ADD, { o: org.id, d: domain }, owner)).addDomain;
  publishTxt(added.verificationRecord.name, added.verificationRecord.value);
  expect((await ok(VERIFY, { id: added.id }, owner)).verifyDomain.status).toBe('VERIFIED');
  return { id: added.id, domain, record: added.verificationRecord };
}

/** A person at `domain`, whose address is verified unless said otherwise. */
const personAt = (domain: string, verifiedEmail = true, name = 'Person') => userWithEmail(`${unique('p')}@${domain}`, name, verifiedEmail);

const actions = async (organizationId: string, like: string) =>
  (await sql(`SELECT action, actor_type, metadata FROM audit_events WHERE organization_id = $1 AND action LIKE $2 ORDER BY seq`, [organizationId, like]));

describe('adding and verifying a domain', () => {
  it('addDomain gives the TXT record to publish; verifyDomain finds it through the DNS server: PENDING → VERIFIED, audited', async () => {
    const { owner, org } = await team();
    const domain = newDomain();
    const added = (await ok(ADD, { o: org.id, d: `  ${domain.toUpperCase()}. ` }, owner)).addDomain;
    expect(added).toMatchObject({ domain, status: 'PENDING', verifiedAt: null, enrollmentMode: 'MANUAL_INVITATION', defaultRole: 'VIEWER' });
    expect(added.verificationRecord).toEqual({ type: 'TXT', name: `_orgs-verification.${domain}`, value: expect.stringMatching(/^orgs-verification=[A-Za-z0-9_-]{24}$/) });
    // About 72 hours to publish it.
    const window = new Date(added.verificationExpiresAt).getTime() - Date.now();
    expect(window).toBeGreaterThan(71.9 * 3_600_000);
    expect(window).toBeLessThanOrEqual(72 * 3_600_000);

    // Not published yet: a clear error naming the record, nothing changed.
    const early = await gql(VERIFY, { id: added.id }, owner);
    expect(early.errors?.[0].extensions).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'DNS_RECORD_NOT_FOUND' });
    expect(early.errors?.[0].message).toContain(added.verificationRecord.name);
    // Someone else's value at the name does not prove anything.
    setTxt(added.verificationRecord.name, ['orgs-verification=someone-elses', 'v=spf1 -all']);
    expect((await gql(VERIFY, { id: added.id }, owner)).errors?.[0].extensions).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'DNS_RECORD_NOT_FOUND' });

    publishTxt(added.verificationRecord.name, added.verificationRecord.value);
    const done = (await ok(VERIFY, { id: added.id }, owner)).verifyDomain;
    expect(done).toMatchObject({ status: 'VERIFIED', verifiedAt: expect.any(String), lastCheckedAt: expect.any(String), unverifiedSince: null });
    expect((await ok(DOMAINS, { id: org.id }, owner)).organization.domains).toEqual([done]);
    expect((await actions(org.id, 'domain.%')).map((e) => e.action)).toEqual(['domain.added', 'domain.verified']);
  });

  it('needs DOMAINS_MANAGE (OWNER, ADMIN): a DEVELOPER neither reads nor changes domains; another organization\'s domain is NOT_FOUND', async () => {
    const { owner, org } = await team();
    const admin = newUser();
    const developer = newUser();
    await addMember(org.id, admin, 'ADMIN');
    await addMember(org.id, developer, 'DEVELOPER');
    const added = (await ok(ADD, { o: org.id, d: newDomain() }, admin)).addDomain;
    expect((await failure(ADD, { o: org.id, d: newDomain() }, developer)).code).toBe('FORBIDDEN');
    expect((await failure(DOMAINS, { id: org.id }, developer)).code).toBe('FORBIDDEN');
    expect((await failure(REMOVE, { id: added.id }, developer)).code).toBe('FORBIDDEN');
    const stranger = await team('Stranger');
    expect((await failure(VERIFY, { id: added.id }, stranger.owner)).code).toBe('NOT_FOUND');
    expect((await failure(REMOVE, { id: added.id }, stranger.owner)).code).toBe('NOT_FOUND');
    // An API key may read them within its scopes, never change them.
    const key = (await ok('mutation($id: ID!) { createApiKey(input: { organizationId: $id, name: "k", scopes: [DOMAINS_MANAGE] }) { secret } }', { id: org.id }, owner)).createApiKey.secret;
    expect((await ok(DOMAINS, { id: org.id }, key)).organization.domains.map((d: { id: string }) => d.id)).toEqual([added.id]);
    expect((await failure(ADD, { o: org.id, d: newDomain() }, key)).code).toBe('FORBIDDEN');
    expect(await ok(REMOVE, { id: added.id }, owner)).toEqual({ removeDomain: true });
    expect((await ok(DOMAINS, { id: org.id }, owner)).organization.domains).toEqual([]);
    expect((await actions(org.id, 'domain.%')).map((e) => e.action)).toEqual(['domain.added', 'domain.removed']);
  });

  it('refuses public suffixes, consumer and disposable mail domains, addresses and non-domains (BAD_USER_INPUT); a personal organization has none', async () => {
    const { owner, org } = await team();
    for (const domain of ['com', 'co.uk', 'github.io', 'gmail.com', 'outlook.com', 'mail.yahoo.com', 'mailinator.com', '10minutemail.com', '192.168.1.1', 'acme', 'acme..com', 'ac me.com', '-acme.com', 'x'.repeat(64) + '.com']) {
      expect({ domain, ...(await failure(ADD, { o: org.id, d: domain }, owner)) }).toMatchObject({ domain, code: 'BAD_USER_INPUT', field: 'domain' });
    }
    // A subdomain of a private public suffix belongs to its holder.
    expect((await ok(ADD, { o: org.id, d: `${unique('acme')}.github.io` }, owner)).addDomain.status).toBe('PENDING');
    const personal = (await ok('{ viewer { personalOrganization { id } } }', {}, owner)).viewer.personalOrganization.id;
    expect((await failure(ADD, { o: personal, d: newDomain() }, owner)).code).toBe('FAILED_PRECONDITION');
  });

  it('is FAILED once its window has passed; adding it again restarts the window with the same record', async () => {
    const { owner, org } = await team();
    const added = (await ok(ADD, { o: org.id, d: newDomain() }, owner)).addDomain;
    // 72 hours later (the clock moved back instead).
    await sql(`UPDATE organization_domains SET verification_expires_at = now() - interval '1 second' WHERE id = $1`, [added.id]);
    expect((await ok(DOMAINS, { id: org.id }, owner)).organization.domains[0].status).toBe('FAILED');
    publishTxt(added.verificationRecord.name, added.verificationRecord.value);
    expect((await gql(VERIFY, { id: added.id }, owner)).errors?.[0].extensions).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'VERIFICATION_EXPIRED' });
    const again = (await ok(ADD, { o: org.id, d: added.domain }, owner)).addDomain;
    expect(again).toMatchObject({ id: added.id, status: 'PENDING', verificationRecord: added.verificationRecord });
    expect((await ok(VERIFY, { id: added.id }, owner)).verifyDomain.status).toBe('VERIFIED');
    expect((await actions(org.id, 'domain.%')).map((e) => e.action)).toEqual(['domain.added', 'domain.verification_restarted', 'domain.verified']);
    // Verified: adding it again is a CONFLICT.
    expect((await failure(ADD, { o: org.id, d: added.domain }, owner)).code).toBe('CONFLICT');
  });
});

describe('one organization per verified domain', () => {
  it('two organizations verifying the same domain at once: exactly one wins, the other gets CONFLICT (DOMAIN_ALREADY_VERIFIED)', async () => {
    for (let round = 0; round < 3; round++) {
      const domain = newDomain('contested');
      const [a, b] = [await team('A'), await team('B')];
      const [da, db] = [(await ok(ADD, { o: a.org.id, d: domain }, a.owner)).addDomain, (await ok(ADD, { o: b.org.id, d: domain }, b.owner)).addDomain];
      // Both publish their value at the same name (TXT records may hold many).
      publishTxt(da.verificationRecord.name, da.verificationRecord.value);
      publishTxt(db.verificationRecord.name, db.verificationRecord.value);
      const results = await Promise.all([gql(VERIFY, { id: da.id }, a.owner), gql(VERIFY, { id: db.id }, b.owner)]);
      const winners = results.filter((r) => !r.errors);
      const losers = results.filter((r) => r.errors);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(1);
      expect(losers[0].errors).toEqual([expect.objectContaining({ message: `${domain} is already verified by another organization`, extensions: expect.objectContaining({ code: 'CONFLICT', reason: 'DOMAIN_ALREADY_VERIFIED' }) })]);
      expect(await sql(`SELECT count(*)::int AS n FROM organization_domains WHERE domain = $1 AND status = 'VERIFIED'`, [domain])).toEqual([{ n: 1 }]);
      // A third organization cannot even add it.
      const c = await team('C');
      expect((await gql(ADD, { o: c.org.id, d: domain }, c.owner)).errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'DOMAIN_ALREADY_VERIFIED' });
    }
  });
});

describe('enrollment', () => {
  it('automatic modes need a VERIFIED domain; the default role is never OWNER nor above the one setting it', async () => {
    const { owner, org } = await team();
    const pending = (await ok(ADD, { o: org.id, d: newDomain() }, owner)).addDomain;
    expect((await failure(UPDATE, { input: { id: pending.id, enrollmentMode: 'AUTOMATIC_INVITATION' } }, owner)).code).toBe('FAILED_PRECONDITION');
    const domain = await verified(org, owner);
    expect((await failure(UPDATE, { input: { id: domain.id, defaultRole: 'OWNER' } }, owner)).code).toBe('BAD_USER_INPUT');
    const admin = newUser();
    await addMember(org.id, admin, 'ADMIN');
    const updated = (await ok(UPDATE, { input: { id: domain.id, enrollmentMode: 'AUTOMATIC_INVITATION', defaultRole: 'ADMIN' } }, admin)).updateDomain;
    expect(updated).toMatchObject({ enrollmentMode: 'AUTOMATIC_INVITATION', defaultRole: 'ADMIN' });
    const membersAdmin = newUser();
    await addMember(org.id, membersAdmin, 'ADMIN');
    await sql(`UPDATE memberships SET role = 'DEVELOPER', assignments = '{MEMBERS_ADMIN}' WHERE user_id = $1`, [membersAdmin.id]);
    // DOMAINS_MANAGE is OWNER and ADMIN only.
    expect((await failure(UPDATE, { input: { id: domain.id, defaultRole: 'VIEWER' } }, membersAdmin)).code).toBe('FORBIDDEN');
    const [event] = await actions(org.id, 'domain.updated');
    expect(event.metadata.changes).toEqual({ enrollmentMode: { before: 'MANUAL_INVITATION', after: 'AUTOMATIC_INVITATION' }, defaultRole: { before: 'VIEWER', after: 'ADMIN' } });
  });

  it('MANUAL_INVITATION: a person at the domain gets nothing', async () => {
    const { owner, org } = await team();
    const { domain } = await verified(org, owner);
    const person = personAt(domain);
    expect((await ok(PENDING, {}, person)).viewer.pendingInvitations).toEqual([]);
    expect((await ok(SUGGESTED, {}, person)).viewer.suggestedOrganizations).toEqual([]);
  });

  it('AUTOMATIC_INVITATION: a verified address at the domain gets one pending invitation with the default role on its next request, once, not again after declining', async () => {
    const { owner, org } = await team('Invites');
    const { id, domain } = await verified(org, owner);
    await ok(UPDATE, { input: { id, enrollmentMode: 'AUTOMATIC_INVITATION', defaultRole: 'DEVELOPER' } }, owner);

    const person = personAt(domain);
    const first = (await ok(PENDING, {}, person)).viewer.pendingInvitations;
    expect(first).toEqual([{ id: expect.any(String), role: 'DEVELOPER', organization: { id: org.id, name: 'Invites' } }]);
    expect((await ok(PENDING, {}, person)).viewer.pendingInvitations).toEqual(first);
    const [created] = await actions(org.id, 'invitation.created');
    expect(created).toMatchObject({ actor_type: 'SYSTEM', metadata: { email: person.email, role: 'DEVELOPER', automatic: true, domain } });

    await ok('mutation($id: ID!) { declineInvitation(id: $id) { status } }', { id: first[0].id }, person);
    // New claims (a new name) make the subgraph look again: still nothing.
    const renamed = { ...person, token: signToken({ sub: person.id, email: person.email, email_verified: true, name: 'Renamed' }) };
    expect((await ok(PENDING, {}, renamed)).viewer.pendingInvitations).toEqual([]);
    expect(await sql('SELECT status, automatic FROM invitations WHERE organization_id = $1', [org.id])).toEqual([{ status: 'DECLINED', automatic: true }]);

    // Accepting one makes a member with the default role, seats permitting.
    const other = personAt(domain);
    const [invitation] = (await ok(PENDING, {}, other)).viewer.pendingInvitations;
    await ok('mutation($id: ID!) { acceptInvitation(id: $id) { role } }', { id: invitation.id }, other);
    expect((await ok('query($id: ID!) { organization(id: $id) { viewerRole } }', { id: org.id }, other)).organization.viewerRole).toBe('DEVELOPER');
  });

  it('unverified addresses and subdomains never match; verifying the address later does', async () => {
    const { owner, org } = await team();
    const { id, domain } = await verified(org, owner);
    await ok(UPDATE, { input: { id, enrollmentMode: 'AUTOMATIC_INVITATION' } }, owner);
    const unverified = personAt(domain, false);
    expect((await ok(PENDING, {}, unverified)).viewer.pendingInvitations).toEqual([]);
    // acme.com does not cover eu.acme.com: subdomains are verified on their own.
    expect((await ok(PENDING, {}, personAt(`eu.${domain}`))).viewer.pendingInvitations).toEqual([]);
    expect(await sql('SELECT count(*)::int AS n FROM invitations WHERE organization_id = $1', [org.id])).toEqual([{ n: 0 }]);
    // The issuer verified the address since: the next token carries email_verified.
    const nowVerified = { ...unverified, token: signToken({ sub: unverified.id, email: unverified.email, email_verified: true, name: unverified.name }) };
    expect((await ok(PENDING, {}, nowVerified)).viewer.pendingInvitations).toHaveLength(1);
  });

  it('seats and the escalation rule apply: an inviter demoted since makes no invitation; a full plan refuses acceptance', async () => {
    const { owner, org } = await team();
    const admin = newUser();
    await addMember(org.id, admin, 'ADMIN');
    const { id, domain } = await verified(org, owner);
    await ok(UPDATE, { input: { id, enrollmentMode: 'AUTOMATIC_INVITATION', defaultRole: 'ADMIN' } }, admin);
    await sql(`UPDATE memberships SET role = 'VIEWER' WHERE organization_id = $1 AND user_id = $2`, [org.id, admin.id]);
    expect((await ok(PENDING, {}, personAt(domain))).viewer.pendingInvitations).toEqual([]);

    await ok(UPDATE, { input: { id, defaultRole: 'VIEWER' } }, owner);
    await sql(`UPDATE subscriptions SET seats = 2 WHERE organization_id = $1`, [org.id]);
    const late = personAt(domain);
    const [invitation] = (await ok(PENDING, {}, late)).viewer.pendingInvitations;
    expect((await failure('mutation($id: ID!) { acceptInvitation(id: $id) { role } }', { id: invitation.id }, late)).code).toBe('QUOTA_EXCEEDED');
  });

  it('concurrent first requests make one invitation', async () => {
    const { owner, org } = await team();
    const { id, domain } = await verified(org, owner);
    await ok(UPDATE, { input: { id, enrollmentMode: 'AUTOMATIC_INVITATION' } }, owner);
    const person = personAt(domain);
    await Promise.all(Array.from({ length: 6 }, () => ok(PENDING, {}, person)));
    expect(await sql('SELECT count(*)::int AS n FROM invitations WHERE organization_id = $1', [org.id])).toEqual([{ n: 1 }]);
  });

  it('AUTOMATIC_SUGGESTION: the organization is suggested to verified addresses at the domain, and requestToJoin is approved at once', async () => {
    const { owner, org } = await team('Suggests');
    const { id, domain } = await verified(org, owner);
    await ok(UPDATE, { input: { id, enrollmentMode: 'AUTOMATIC_SUGGESTION', defaultRole: 'DEVELOPER' } }, owner);
    const person = personAt(domain);
    expect((await ok(SUGGESTED, {}, person)).viewer.suggestedOrganizations).toEqual([{ id: org.id, slug: org.slug, name: 'Suggests' }]);
    expect((await ok(PENDING, {}, person)).viewer.pendingInvitations).toEqual([]);
    // The suggestion shows the name, nothing more.
    expect(['NOT_FOUND', 'FORBIDDEN']).toContain((await gql('{ viewer { suggestedOrganizations { members { totalCount } } } }', {}, person)).errors?.[0].extensions.code);
    expect((await ok(REQUEST, { id: org.id }, person)).requestToJoin.status).toBe('APPROVED');
    expect((await ok('query($id: ID!) { organization(id: $id) { viewerRole } }', { id: org.id }, person)).organization.viewerRole).toBe('DEVELOPER');
    expect((await ok(SUGGESTED, {}, person)).viewer.suggestedOrganizations).toEqual([]);
    expect((await actions(org.id, 'join_request.%')).map((e) => [e.action, e.metadata.automatic ?? false])).toEqual([['join_request.created', false], ['join_request.approved', true]]);

    // Unverified: no suggestion, and the (not discoverable) organization does not exist to them.
    const unverified = personAt(domain, false);
    expect((await ok(SUGGESTED, {}, unverified)).viewer.suggestedOrganizations).toEqual([]);
    expect((await failure(REQUEST, { id: org.id }, unverified)).code).toBe('NOT_FOUND');

    // No seat left: the request waits for an admin.
    await sql(`UPDATE subscriptions SET seats = 2 WHERE organization_id = $1`, [org.id]);
    expect((await ok(REQUEST, { id: org.id }, personAt(domain))).requestToJoin.status).toBe('PENDING');
  });
});

describe('re-checking verified domains', () => {
  let checker: RunningServer | undefined;
  afterAll(async () => void (await checker?.stop()));

  it('a worker looks each verified domain up again and records since when its record is missing, and when it is back (audited)', async () => {
    const { owner, org } = await team();
    const { id, record } = await verified(org, owner);
    checker = await startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL, DNS_SERVERS: process.env.TEST_DNS_SERVER, DOMAIN_RECHECK_INTERVAL: '200ms', MIGRATIONS_RUN: 'false', WEBHOOK_WORKER: 'false' });
    const read = async () => (await ok(DOMAINS, { id: org.id }, owner)).organization.domains.find((d: { id: string }) => d.id === id);
    const verifiedAt = (await read()).lastCheckedAt;
    await waitFor('a re-check', async () => (await read()).lastCheckedAt !== verifiedAt);
    expect((await read()).unverifiedSince).toBeNull();

    unpublishTxt(record.name, record.value);
    await waitFor('the record to be missed', async () => (await read()).unverifiedSince !== null);
    expect(await read()).toMatchObject({ status: 'VERIFIED', unverifiedSince: expect.any(String) });
    publishTxt(record.name, record.value);
    await waitFor('the record to be found again', async () => (await read()).unverifiedSince === null);
    const events = await actions(org.id, 'domain.record_%');
    expect(events.map((e) => [e.action, e.actor_type])).toEqual([['domain.record_missing', 'SYSTEM'], ['domain.record_restored', 'SYSTEM']]);
  });
});
