import { addMember, createOrganization, gql, invitationToken, newUser, ok, serviceToken, sql, unique, userWithEmail, type TestUser } from './support/client';

/**
 * Every mutation of the schema, run once: it must write exactly the events listed, in the
 * organization it changed, with actor, target and request id, and nothing secret.
 * A mutation added to the schema fails this test until it is listed here.
 */
describe('every mutation writes exactly one event per change', () => {
  const seen = new Set<string>();
  let owner: TestUser;
  let org: { id: string; slug: string };
  const partner = unique('partner');
  const service = serviceToken(partner, 'users:provision billing:write usage:write audit:write');
  const secrets: string[] = [];

  /** Runs a mutation and returns the events it wrote in `organizationId`. */
  async function expectEvents(name: string, organizationId: string, run: () => Promise<any>, actions: string[]): Promise<any> {
    seen.add(name);
    const [{ max }] = await sql('SELECT COALESCE(max(seq), 0) AS max FROM audit_events WHERE organization_id = $1', [organizationId]);
    const data = await run();
    const events = await sql('SELECT * FROM audit_events WHERE organization_id = $1 AND seq > $2 ORDER BY seq', [organizationId, max]);
    expect({ name, actions: events.map((e) => e.action) }).toEqual({ name, actions });
    for (const e of events) {
      expect(e.actor_id).toEqual(expect.any(String));
      expect(e.request_id).toEqual(expect.any(String));
      for (const secret of secrets) expect(JSON.stringify(e)).not.toContain(secret);
    }
    return data;
  }

  it('for all of them', async () => {
    owner = newUser('Coverage Owner');
    // createOrganization: its organization does not exist before, so its one event is checked here.
    seen.add('createOrganization');
    org = await createOrganization(owner, 'Coverage');
    expect(await sql(`SELECT action FROM audit_events WHERE organization_id = $1`, [org.id])).toEqual([{ action: 'organization.created' }]);
    const q = (query: string, variables: Record<string, unknown>, by: TestUser | string = owner) => ok(query, variables, by);

    await expectEvents('updateOrganization', org.id, () => q('mutation($id: ID!) { updateOrganization(input: { id: $id, name: "Coverage 2", discoverable: true }) { id } }', { id: org.id }), ['organization.updated']);
    const member = newUser();
    const memberId = await addMember(org.id, member, 'VIEWER');
    await expectEvents('updateMembership', org.id, () => q('mutation($m: ID!) { updateMembership(input: { membershipId: $m, role: DEVELOPER }) { id } }', { m: memberId }), ['member.role_changed']);
    await expectEvents('switchOrganization', org.id, () => q('mutation($id: ID!) { switchOrganization(organizationId: $id) { id } }', { id: org.id }), ['organization.switched_to']);
    const ws = (await expectEvents('createWorkspace', org.id, () => q('mutation($id: ID!) { createWorkspace(input: { organizationId: $id, name: "Cov" }) { id } }', { id: org.id }), ['workspace.created'])).createWorkspace.id;
    await expectEvents('updateWorkspace', org.id, () => q('mutation($id: ID!) { updateWorkspace(input: { id: $id, name: "Cov 2" }) { id } }', { id: ws }), ['workspace.updated']);
    await expectEvents('setWorkspaceAccess', org.id, () => q('mutation($m: ID!, $w: ID!) { setWorkspaceAccess(input: { membershipId: $m, workspaces: [{ workspaceId: $w }] }) { id } }', { m: memberId, w: ws }), ['member.workspace_access_changed']);
    const key = (await expectEvents('createApiKey', org.id, () => q('mutation($id: ID!) { createApiKey(input: { organizationId: $id, name: "k", scopes: [MEMBERS_READ] }) { secret apiKey { id } } }', { id: org.id }), ['api_key.created'])).createApiKey;
    secrets.push(key.secret);
    const rotated = (await expectEvents('rotateApiKey', org.id, () => q('mutation($id: ID!) { rotateApiKey(id: $id) { secret } }', { id: key.apiKey.id }), ['api_key.rotated'])).rotateApiKey;
    secrets.push(rotated.secret);
    await expectEvents('revokeApiKey', org.id, () => q('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: key.apiKey.id }), ['api_key.revoked']);
    secrets.push('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    await expectEvents('setByokCredentials', org.id, () => q('mutation($id: ID!) { setByokCredentials(input: { organizationId: $id, provider: AWS_BEDROCK, accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1" }) { configured } }', { id: org.id }), ['byok.credentials_set']);
    await expectEvents('clearByokCredentials', org.id, () => q('mutation($id: ID!) { clearByokCredentials(organizationId: $id) }', { id: org.id }), ['byok.credentials_cleared']);

    const emails = [`${unique('a')}@example.test`, `${unique('b')}@example.test`];
    const invited = (await expectEvents('inviteMembers', org.id, () => q('mutation($id: ID!, $e: [String!]!) { inviteMembers(input: { organizationId: $id, emails: $e }) { id email } }', { id: org.id, e: emails }), ['invitation.created', 'invitation.created'])).inviteMembers;
    await expectEvents('resendInvitation', org.id, () => q('mutation($id: ID!) { resendInvitation(id: $id) { id } }', { id: invited[0].id }), ['invitation.resent']);
    const token = await invitationToken(invited[0].id);
    secrets.push(token);
    await expectEvents('acceptInvitation', org.id, () => q('mutation($t: String!) { acceptInvitation(token: $t) { id } }', { t: token }, userWithEmail(invited[0].email)), ['invitation.accepted']);
    await expectEvents('declineInvitation', org.id, async () => q('mutation($t: String!) { declineInvitation(token: $t) { id } }', { t: await invitationToken(invited[1].id) }, userWithEmail(invited[1].email)), ['invitation.declined']);
    const third = (await q('mutation($id: ID!, $e: [String!]!) { inviteMembers(input: { organizationId: $id, emails: $e }) { id } }', { id: org.id, e: [`${unique('c')}@example.test`] })).inviteMembers[0];
    await expectEvents('cancelInvitation', org.id, () => q('mutation($id: ID!) { cancelInvitation(id: $id) { id } }', { id: third.id }), ['invitation.canceled']);

    const [r1, r2, r3] = [newUser(), newUser(), newUser()];
    const req1 = (await expectEvents('requestToJoin', org.id, () => q('mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }', { id: org.id }, r1), ['join_request.created'])).requestToJoin.id;
    const req2 = (await q('mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }', { id: org.id }, r2)).requestToJoin.id;
    const req3 = (await q('mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }', { id: org.id }, r3)).requestToJoin.id;
    await expectEvents('approveJoinRequest', org.id, () => q('mutation($id: ID!) { approveJoinRequest(id: $id, role: GUEST) { id } }', { id: req1 }), ['join_request.approved']);
    await expectEvents('denyJoinRequest', org.id, () => q('mutation($id: ID!) { denyJoinRequest(id: $id) { id } }', { id: req2 }), ['join_request.denied']);
    await expectEvents('cancelJoinRequest', org.id, () => q('mutation($id: ID!) { cancelJoinRequest(id: $id) { id } }', { id: req3 }, r3), ['join_request.canceled']);

    await expectEvents('updateSubscription', org.id, () => q('mutation($id: ID!, $k: String!) { updateSubscription(input: { organizationId: $id, plan: BUSINESS, seats: 10, idempotencyKey: $k }) { plan } }', { id: org.id, k: unique('k') }, service), ['subscription.updated']);
    await expectEvents('recordUsage', org.id, () => q('mutation($w: ID!, $k: String!) { recordUsage(input: { workspaceId: $w, credits: 5, idempotencyKey: $k }) { creditsUsed } }', { w: ws, k: unique('k') }, service), ['usage.recorded']);
    await expectEvents('recordAuditEvent', org.id, () => q('mutation($id: ID!, $a: String!, $k: String!) { recordAuditEvent(input: { organizationId: $id, action: $a, idempotencyKey: $k }) { id } }', { id: org.id, a: `${partner}.model.invoked`, k: unique('k') }, service), [`${partner}.model.invoked`]);
    await expectEvents('deleteWorkspace', org.id, () => q('mutation($id: ID!) { deleteWorkspace(id: $id) }', { id: ws }), ['workspace.deleted']);
    await expectEvents('removeMember', org.id, () => q('mutation($m: ID!) { removeMember(membershipId: $m) }', { m: memberId }), ['member.removed']);

    const admin = newUser();
    const adminId = await addMember(org.id, admin, 'ADMIN');
    await expectEvents('transferOwnership', org.id, () => q('mutation($o: ID!, $m: ID!) { transferOwnership(organizationId: $o, membershipId: $m) { id } }', { o: org.id, m: adminId }), ['organization.ownership_transferred']);
    await expectEvents('leaveOrganization', org.id, () => q('mutation($id: ID!) { leaveOrganization(organizationId: $id) }', { id: org.id }), ['member.left']);
    await expectEvents('deleteOrganization', org.id, () => q('mutation($id: ID!, $s: String!) { deleteOrganization(id: $id, confirmSlug: $s) }', { id: org.id, s: org.slug }, admin), ['organization.deleted']);

    const userId = unique('prov');
    await ok('mutation($input: ProvisionUserInput!) { provisionUser(input: $input) { id } }', { input: { userId, email: `${userId}@x.test` } }, service);
    const personal = (await sql('SELECT id FROM organizations WHERE personal_owner_id = $1', [userId]))[0].id;
    await expectEvents('provisionUser', personal, () => q('mutation($input: ProvisionUserInput!) { provisionUser(input: $input) { id } }', { input: { userId, email: `${userId}.new@x.test` } }, service), ['user.updated']);

    // Failing mutations write nothing: a refused update, a duplicate slug.
    const other = await createOrganization(owner, 'Quiet');
    await expectEvents('(failed updateOrganization)', other.id, async () => {
      await gql('mutation($id: ID!) { updateOrganization(input: { id: $id, slug: "no" }) { id } }', { id: other.id }, owner);
      await gql('mutation($id: ID!) { createWorkspace(input: { organizationId: $id, name: "x", slug: "admin" }) { id } }', { id: other.id }, owner);
    }, []);

    const { data } = await gql<any>('{ __schema { mutationType { fields { name } } } }', {}, owner);
    const mutations = data.__schema.mutationType.fields.map((f: { name: string }) => f.name).sort();
    expect(mutations.filter((m: string) => !seen.has(m))).toEqual([]);
  });
});
