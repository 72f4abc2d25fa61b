import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, type ObjectTypeDefinitionNode } from 'graphql';
import { addMember, createOrganization, gql, invitationToken, newUser, ok, serverUrl, serviceToken, signToken, sql, unique, userWithEmail, type TestUser } from './support/client';
import { publishTxt } from './support/dns-server';
import { certificate, idpMetadata } from './support/saml-metadata';
import { ROOT } from './support/servers';

/**
 * Every mutation of the schema, run once: it must write exactly the events listed, in the
 * organization it changed, with actor, target and request id, and nothing secret. One test per
 * mutation of schema.graphql, each on an organization of its own: a mutation added to the
 * schema fails its own test until it is listed here.
 */
const partner = unique('partner');
const service = serviceToken(partner, 'users:provision billing:write usage:write audit:write');
const BYOK_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

const q = (query: string, variables: Record<string, unknown>, by: TestUser | string) => ok(query, variables, by);

/** Events in `organizationId` after `seq`, in order. */
const eventsAfter = (organizationId: string, seq: number) => sql('SELECT * FROM audit_events WHERE organization_id = $1 AND seq > $2 ORDER BY seq', [organizationId, seq]);

/** Exactly `actions`, each with an actor and a request id, none containing a secret. */
function checkEvents(events: Record<string, any>[], actions: string[], secrets: string[]): void {
  expect(events.map((e) => e.action)).toEqual(actions);
  for (const e of events) {
    expect(e.actor_id).toEqual(expect.any(String));
    expect(e.request_id).toEqual(expect.any(String));
    for (const secret of secrets) expect(JSON.stringify(e)).not.toContain(secret);
  }
}

/** Each audit event is also an event (API.md, Events): same id, its action as type, its data the audit event, nothing secret. */
async function expectPublished(audit: Record<string, any>[], secrets: string[]): Promise<void> {
  const published = await sql('SELECT id, type, organization_id, data FROM events WHERE id = ANY($1::uuid[])', [audit.map((e) => e.id)]);
  const byId = new Map(published.map((e) => [e.id, e]));
  for (const e of audit) {
    const target = e.target_type && e.target_id ? { type: e.target_type, id: e.target_id, display: e.target_display } : null;
    expect(byId.get(e.id)).toEqual({
      id: e.id,
      type: e.action,
      organization_id: e.organization_id,
      data: {
        id: e.id,
        type: e.action,
        organizationId: e.organization_id,
        occurredAt: e.occurred_at.toISOString(),
        actor: { type: e.actor_type, id: e.actor_id, display: e.actor_display },
        target,
        metadata: e.metadata,
      },
    });
    for (const secret of secrets) expect(JSON.stringify(byId.get(e.id))).not.toContain(secret);
  }
}

/** Runs a mutation and checks the events it wrote in `organizationId`; the secrets: those given, and any `secret` it returned. */
async function expectEvents(organizationId: string, run: () => Promise<any>, actions: string[], secrets: string[] = []): Promise<any> {
  const [{ max }] = await sql('SELECT COALESCE(max(seq), 0) AS max FROM audit_events WHERE organization_id = $1', [organizationId]);
  const data = await run();
  const returned = [...JSON.stringify(data ?? null).matchAll(/"secret":"([^"]+)"/g)].map((m) => m[1]);
  const events = await eventsAfter(organizationId, max);
  checkEvents(events, actions, [...secrets, ...returned]);
  await expectPublished(events, [...secrets, ...returned]);
  return data;
}

/** A new owner and their TEAM organization. */
async function team(): Promise<{ owner: TestUser; org: { id: string; slug: string } }> {
  const owner = newUser('Coverage Owner');
  return { owner, org: await createOrganization(owner, 'Coverage') };
}

const CREATE_WORKSPACE = 'mutation($id: ID!) { createWorkspace(input: { organizationId: $id, name: "Cov" }) { id } }';
const CREATE_KEY = 'mutation($id: ID!) { createApiKey(input: { organizationId: $id, name: "k", scopes: [MEMBERS_READ] }) { secret apiKey { id } } }';
const SET_BYOK = `mutation($id: ID!) { setByokCredentials(input: { organizationId: $id, provider: AWS_BEDROCK, accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "${BYOK_SECRET}", region: "us-east-1" }) { configured } }`;
const INVITE = 'mutation($id: ID!, $e: [String!]!) { inviteMembers(input: { organizationId: $id, emails: $e }) { id email } }';
const DISCOVERABLE = 'mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: true }) { id } }';
const REQUEST = 'mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }';
// Port 9 (discard) on loopback: private networks are allowed outside production; deliveries just fail and wait.
// Many receivers take a secret in the URL's path or query: only the origin is in the log.
const HOOK_SECRETS = ['s3cr3t-in-path', 's3cr3t-in-query', 'an0ther-s3cr3t'];
const CREATE_HOOK = 'mutation($id: ID!) { createWebhookEndpoint(input: { organizationId: $id, url: "http://127.0.0.1:9/hook/s3cr3t-in-path?token=s3cr3t-in-query" }) { secret endpoint { id } } }';
const CREATE_ROLE = 'mutation($id: ID!, $p: [String!]!) { createRole(input: { organizationId: $id, key: "operators", name: "Operators", permissions: $p }) { id } }';
const PROVISION = 'mutation($input: ProvisionUserInput!) { provisionUser(input: $input) { id } }';
const ADD_DOMAIN = 'mutation($id: ID!, $d: String!) { addDomain(input: { organizationId: $id, domain: $d }) { id verificationRecord { name value } } }';
const VERIFY_DOMAIN = 'mutation($id: ID!) { verifyDomain(id: $id) { status } }';
const CREATE_DIRECTORY_TOKEN = 'mutation($id: ID!) { createDirectoryToken(organizationId: $id) { secret token { id } } }';

const workspace = async (org: { id: string }, owner: TestUser): Promise<string> => (await q(CREATE_WORKSPACE, { id: org.id }, owner)).createWorkspace.id;
const invitation = async (org: { id: string }, owner: TestUser): Promise<{ id: string; email: string }> =>
  (await q(INVITE, { id: org.id, e: [`${unique('inv')}@example.test`] }, owner)).inviteMembers[0];
/** A join request to a discoverable organization, and who sent it. */
async function joinRequest(org: { id: string }, owner: TestUser): Promise<{ id: string; by: TestUser }> {
  await q(DISCOVERABLE, { id: org.id }, owner);
  const by = newUser();
  return { id: (await q(REQUEST, { id: org.id }, by)).requestToJoin.id, by };
}

/** A domain of the organization, its TXT record published in the test DNS server (test/support/dns-server.ts); verified unless said otherwise. */
async function domain(org: { id: string }, owner: TestUser, verify = true): Promise<string> {
  const added = (await q(ADD_DOMAIN, { id: org.id, d: `${unique('cov')}.test` }, owner)).addDomain;
  publishTxt(added.verificationRecord.name, added.verificationRecord.value);
  if (verify) await q(VERIFY_DOMAIN, { id: added.id }, owner);
  return added.id;
}

/** Each mutation of the schema: what it is run on, and the events it must write. */
const CASES: Record<string, () => Promise<void>> = {
  async createOrganization() {
    // Its organization does not exist before: its one event is all the organization has.
    const org = await createOrganization(newUser('Coverage Owner'), 'Coverage');
    checkEvents(await eventsAfter(org.id, 0), ['organization.created'], []);
  },
  async updateOrganization() {
    const { owner, org } = await team();
    await expectEvents(org.id, () => q('mutation($id: ID!) { updateOrganization(input: { id: $id, name: "Coverage 2", discoverable: true }) { id } }', { id: org.id }, owner), ['organization.updated']);
  },
  async deleteOrganization() {
    const { owner, org } = await team();
    await expectEvents(org.id, () => q('mutation($id: ID!, $s: String!) { deleteOrganization(id: $id, confirmSlug: $s) }', { id: org.id, s: org.slug }, owner), ['organization.deleted']);
  },
  async transferOwnership() {
    const { owner, org } = await team();
    const adminId = await addMember(org.id, newUser(), 'ADMIN');
    await expectEvents(org.id, () => q('mutation($o: ID!, $m: ID!) { transferOwnership(organizationId: $o, membershipId: $m) { id } }', { o: org.id, m: adminId }, owner), ['organization.ownership_transferred']);
  },
  async switchOrganization() {
    const { owner, org } = await team();
    await expectEvents(org.id, () => q('mutation($id: ID!) { switchOrganization(organizationId: $id) { id } }', { id: org.id }, owner), ['organization.switched_to']);
  },
  async updateMembership() {
    const { owner, org } = await team();
    const memberId = await addMember(org.id, newUser(), 'VIEWER');
    await expectEvents(org.id, () => q('mutation($m: ID!) { updateMembership(input: { membershipId: $m, role: DEVELOPER }) { id } }', { m: memberId }, owner), ['member.role_changed']);
  },
  async removeMember() {
    const { owner, org } = await team();
    const memberId = await addMember(org.id, newUser(), 'DEVELOPER');
    await expectEvents(org.id, () => q('mutation($m: ID!) { removeMember(membershipId: $m) }', { m: memberId }, owner), ['member.removed']);
  },
  async leaveOrganization() {
    const { org } = await team();
    const member = newUser();
    await addMember(org.id, member, 'DEVELOPER');
    await expectEvents(org.id, () => q('mutation($id: ID!) { leaveOrganization(organizationId: $id) }', { id: org.id }, member), ['member.left']);
  },
  async createWorkspace() {
    const { owner, org } = await team();
    await expectEvents(org.id, () => q(CREATE_WORKSPACE, { id: org.id }, owner), ['workspace.created']);
  },
  async updateWorkspace() {
    const { owner, org } = await team();
    const ws = await workspace(org, owner);
    await expectEvents(org.id, () => q('mutation($id: ID!) { updateWorkspace(input: { id: $id, name: "Cov 2" }) { id } }', { id: ws }, owner), ['workspace.updated']);
  },
  async deleteWorkspace() {
    const { owner, org } = await team();
    const ws = await workspace(org, owner);
    await expectEvents(org.id, () => q('mutation($id: ID!) { deleteWorkspace(id: $id) }', { id: ws }, owner), ['workspace.deleted']);
  },
  async setWorkspaceAccess() {
    const { owner, org } = await team();
    const [memberId, ws] = [await addMember(org.id, newUser(), 'DEVELOPER'), await workspace(org, owner)];
    await expectEvents(org.id, () => q('mutation($m: ID!, $w: ID!) { setWorkspaceAccess(input: { membershipId: $m, workspaces: [{ workspaceId: $w }] }) { id } }', { m: memberId, w: ws }, owner), ['member.workspace_access_changed']);
  },
  async createApiKey() {
    const { owner, org } = await team();
    await expectEvents(org.id, () => q(CREATE_KEY, { id: org.id }, owner), ['api_key.created']);
  },
  async rotateApiKey() {
    const { owner, org } = await team();
    const key = (await q(CREATE_KEY, { id: org.id }, owner)).createApiKey;
    await expectEvents(org.id, () => q('mutation($id: ID!) { rotateApiKey(id: $id) { secret } }', { id: key.apiKey.id }, owner), ['api_key.rotated'], [key.secret]);
  },
  async revokeApiKey() {
    const { owner, org } = await team();
    const key = (await q(CREATE_KEY, { id: org.id }, owner)).createApiKey;
    await expectEvents(org.id, () => q('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: key.apiKey.id }, owner), ['api_key.revoked'], [key.secret]);
  },
  async setByokCredentials() {
    const { owner, org } = await team();
    await expectEvents(org.id, () => q(SET_BYOK, { id: org.id }, owner), ['byok.credentials_set'], [BYOK_SECRET]);
  },
  async clearByokCredentials() {
    const { owner, org } = await team();
    await q(SET_BYOK, { id: org.id }, owner);
    await expectEvents(org.id, () => q('mutation($id: ID!) { clearByokCredentials(organizationId: $id) }', { id: org.id }, owner), ['byok.credentials_cleared'], [BYOK_SECRET]);
  },
  async setSsoConnection() {
    const { owner, org } = await team();
    const metadataXml = idpMetadata({ entityId: 'urn:coverage:idp', ssoUrl: 'https://idp.example.test/sso', certificate: await certificate() });
    const SET = 'mutation($input: SetSsoConnectionInput!) { setSsoConnection(input: $input) { id } }';
    await expectEvents(org.id, () => q(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml } }, owner), ['sso.connection_created']);
    await domain(org, owner);
    await expectEvents(org.id, () => q(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml, enforced: true } }, owner), ['sso.connection_updated', 'sso.enforcement_enabled']);
  },
  async deleteSsoConnection() {
    const { owner, org } = await team();
    const metadataXml = idpMetadata({ entityId: 'urn:coverage:idp', ssoUrl: 'https://idp.example.test/sso', certificate: await certificate() });
    await domain(org, owner);
    await q('mutation($input: SetSsoConnectionInput!) { setSsoConnection(input: $input) { id } }', { input: { organizationId: org.id, protocol: 'SAML', metadataXml, enforced: true } }, owner);
    // Signed in through the organization's provider: an OWNER without it would add its break-glass event.
    const throughIt = signToken({ sub: owner.id, email: owner.email, email_verified: true, name: owner.name, sso_org_id: org.id });
    await expectEvents(org.id, () => q('mutation($id: ID!) { deleteSsoConnection(organizationId: $id) }', { id: org.id }, throughIt), ['sso.connection_deleted']);
  },
  async inviteMembers() {
    const { owner, org } = await team();
    const emails = [`${unique('a')}@example.test`, `${unique('b')}@example.test`];
    const invited = (await expectEvents(org.id, () => q(INVITE, { id: org.id, e: emails }, owner), ['invitation.created', 'invitation.created'])).inviteMembers;
    // Their tokens, known once the mails are in the outbox, are not in the events either.
    const tokens = await Promise.all(invited.map((i: { id: string }) => invitationToken(i.id)));
    checkEvents(await eventsAfter(org.id, 1), ['invitation.created', 'invitation.created'], tokens);
  },
  async resendInvitation() {
    const { owner, org } = await team();
    const invited = await invitation(org, owner);
    await expectEvents(org.id, () => q('mutation($id: ID!) { resendInvitation(id: $id) { id } }', { id: invited.id }, owner), ['invitation.resent']);
  },
  async cancelInvitation() {
    const { owner, org } = await team();
    const invited = await invitation(org, owner);
    await expectEvents(org.id, () => q('mutation($id: ID!) { cancelInvitation(id: $id) { id } }', { id: invited.id }, owner), ['invitation.canceled']);
  },
  async acceptInvitation() {
    const { owner, org } = await team();
    const invited = await invitation(org, owner);
    const token = await invitationToken(invited.id);
    await expectEvents(org.id, () => q('mutation($t: String!) { acceptInvitation(token: $t) { id } }', { t: token }, userWithEmail(invited.email)), ['invitation.accepted'], [token]);
  },
  async declineInvitation() {
    const { owner, org } = await team();
    const invited = await invitation(org, owner);
    const token = await invitationToken(invited.id);
    await expectEvents(org.id, () => q('mutation($t: String!) { declineInvitation(token: $t) { id } }', { t: token }, userWithEmail(invited.email)), ['invitation.declined'], [token]);
  },
  async requestToJoin() {
    const { owner, org } = await team();
    await q(DISCOVERABLE, { id: org.id }, owner);
    await expectEvents(org.id, () => q(REQUEST, { id: org.id }, newUser()), ['join_request.created']);
  },
  async approveJoinRequest() {
    const { owner, org } = await team();
    const request = await joinRequest(org, owner);
    await expectEvents(org.id, () => q('mutation($id: ID!) { approveJoinRequest(id: $id, role: GUEST) { id } }', { id: request.id }, owner), ['join_request.approved']);
  },
  async denyJoinRequest() {
    const { owner, org } = await team();
    const request = await joinRequest(org, owner);
    await expectEvents(org.id, () => q('mutation($id: ID!) { denyJoinRequest(id: $id) { id } }', { id: request.id }, owner), ['join_request.denied']);
  },
  async cancelJoinRequest() {
    const { owner, org } = await team();
    const request = await joinRequest(org, owner);
    await expectEvents(org.id, () => q('mutation($id: ID!) { cancelJoinRequest(id: $id) { id } }', { id: request.id }, request.by), ['join_request.canceled']);
  },
  async updateSubscription() {
    const { org } = await team();
    await expectEvents(org.id, () => q('mutation($id: ID!, $k: String!) { updateSubscription(input: { organizationId: $id, plan: BUSINESS, seats: 10, idempotencyKey: $k }) { plan } }', { id: org.id, k: unique('k') }, service), ['subscription.updated']);
  },
  async recordUsage() {
    const { owner, org } = await team();
    const ws = await workspace(org, owner);
    await expectEvents(org.id, () => q('mutation($w: ID!, $k: String!) { recordUsage(input: { workspaceId: $w, credits: 5, idempotencyKey: $k }) { creditsUsed } }', { w: ws, k: unique('k') }, service), ['usage.recorded']);
  },
  async recordAuditEvent() {
    const { org } = await team();
    await expectEvents(org.id, () => q('mutation($id: ID!, $a: String!, $k: String!) { recordAuditEvent(input: { organizationId: $id, action: $a, idempotencyKey: $k }) { id } }', { id: org.id, a: `${partner}.model.invoked`, k: unique('k') }, service), [`${partner}.model.invoked`]);
  },
  async createWebhookEndpoint() {
    const { owner, org } = await team();
    await expectEvents(org.id, () => q(CREATE_HOOK, { id: org.id }, owner), ['webhook_endpoint.created'], HOOK_SECRETS);
    const [event] = await sql(`SELECT target_display, metadata FROM audit_events WHERE organization_id = $1 AND action = 'webhook_endpoint.created'`, [org.id]);
    expect(event).toMatchObject({ target_display: 'http://127.0.0.1:9', metadata: { url: 'http://127.0.0.1:9' } });
  },
  async updateWebhookEndpoint() {
    const { owner, org } = await team();
    const id = (await q(CREATE_HOOK, { id: org.id }, owner)).createWebhookEndpoint.endpoint.id;
    await expectEvents(
      org.id,
      () => q('mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, eventTypes: ["member.*"], url: "https://127.0.0.1:8443/an0ther-s3cr3t" }) { id } }', { id }, owner),
      ['webhook_endpoint.updated'],
      HOOK_SECRETS,
    );
  },
  async rotateWebhookSecret() {
    const { owner, org } = await team();
    const created = (await q(CREATE_HOOK, { id: org.id }, owner)).createWebhookEndpoint;
    await expectEvents(org.id, () => q('mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }', { id: created.endpoint.id }, owner), ['webhook_endpoint.secret_rotated'], [created.secret, ...HOOK_SECRETS]);
  },
  async deleteWebhookEndpoint() {
    const { owner, org } = await team();
    const id = (await q(CREATE_HOOK, { id: org.id }, owner)).createWebhookEndpoint.endpoint.id;
    await expectEvents(org.id, () => q('mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id }, owner), ['webhook_endpoint.deleted'], HOOK_SECRETS);
  },
  async sendTestWebhook() {
    const { owner, org } = await team();
    const id = (await q(CREATE_HOOK, { id: org.id }, owner)).createWebhookEndpoint.endpoint.id;
    await expectEvents(org.id, () => q('mutation($id: ID!) { sendTestWebhook(id: $id) { id } }', { id }, owner), ['webhook_endpoint.tested'], HOOK_SECRETS);
  },
  async retryWebhookDelivery() {
    const { owner, org } = await team();
    const id = (await q(CREATE_HOOK, { id: org.id }, owner)).createWebhookEndpoint.endpoint.id;
    const delivery = (await q('mutation($id: ID!) { sendTestWebhook(id: $id) { id } }', { id }, owner)).sendTestWebhook.id;
    await sql(`UPDATE webhook_deliveries SET status = 'FAILED' WHERE id = $1`, [delivery]);
    await expectEvents(org.id, () => q('mutation($id: ID!) { retryWebhookDelivery(id: $id) { id } }', { id: delivery }, owner), ['webhook_delivery.retried'], HOOK_SECRETS);
  },
  async createRole() {
    const { owner, org } = await team();
    await expectEvents(org.id, () => q(CREATE_ROLE, { id: org.id, p: ['MEMBERS_INVITE', 'sandboxes:create'] }, owner), ['role.created']);
  },
  async updateRole() {
    const { owner, org } = await team();
    const role = (await q(CREATE_ROLE, { id: org.id, p: ['MEMBERS_INVITE'] }, owner)).createRole.id;
    await addMember(org.id, newUser(), 'VIEWER').then((m) => q('mutation($m: ID!, $r: [ID!]) { updateMembership(input: { membershipId: $m, roleIds: $r }) { id } }', { m, r: [role] }, owner));
    await expectEvents(org.id, () => q('mutation($id: ID!) { updateRole(input: { id: $id, permissions: ["sandboxes:create"] }) { id } }', { id: role }, owner), ['role.updated']);
  },
  async deleteRole() {
    // Its holder loses it in the same transaction: one event for the role, none per holder.
    const { owner, org } = await team();
    const role = (await q(CREATE_ROLE, { id: org.id, p: ['sandboxes:create'] }, owner)).createRole.id;
    await addMember(org.id, newUser(), 'VIEWER').then((m) => q('mutation($m: ID!, $r: [ID!]) { updateMembership(input: { membershipId: $m, roleIds: $r }) { id } }', { m, r: [role] }, owner));
    await expectEvents(org.id, () => q('mutation($id: ID!) { deleteRole(id: $id) }', { id: role }, owner), ['role.deleted']);
  },
  async issueOrganizationToken() {
    // A signed statement of what the member holds now: it changes nothing, so it writes no event (and the token is in none).
    const { owner, org } = await team();
    const data = await expectEvents(org.id, () => q('mutation($id: ID!) { issueOrganizationToken(organizationId: $id) { token } }', { id: org.id }, owner), []);
    expect(data.issueOrganizationToken.token).toEqual(expect.any(String));
  },
  async addDomain() {
    const { owner, org } = await team();
    await expectEvents(org.id, () => q(ADD_DOMAIN, { id: org.id, d: `${unique('cov')}.test` }, owner), ['domain.added']);
  },
  async verifyDomain() {
    const { owner, org } = await team();
    const id = await domain(org, owner, false);
    await expectEvents(org.id, () => q(VERIFY_DOMAIN, { id }, owner), ['domain.verified']);
  },
  async updateDomain() {
    const { owner, org } = await team();
    const id = await domain(org, owner);
    await expectEvents(org.id, () => q('mutation($id: ID!) { updateDomain(input: { id: $id, enrollmentMode: AUTOMATIC_SUGGESTION, defaultRole: DEVELOPER }) { id } }', { id }, owner), ['domain.updated']);
  },
  async removeDomain() {
    const { owner, org } = await team();
    const id = await domain(org, owner);
    await expectEvents(org.id, () => q('mutation($id: ID!) { removeDomain(id: $id) }', { id }, owner), ['domain.removed']);
  },
  async createDirectoryToken() {
    const { owner, org } = await team();
    await expectEvents(org.id, () => q(CREATE_DIRECTORY_TOKEN, { id: org.id }, owner), ['directory_token.created']);
  },
  async revokeDirectoryToken() {
    const { owner, org } = await team();
    const { id } = (await q(CREATE_DIRECTORY_TOKEN, { id: org.id }, owner)).createDirectoryToken.token;
    await expectEvents(org.id, () => q('mutation($id: ID!) { revokeDirectoryToken(id: $id) { revokedAt } }', { id }, owner), ['directory_token.revoked']);
  },
  async setDirectoryGroupMapping() {
    const { owner, org } = await team();
    const { secret } = (await q(CREATE_DIRECTORY_TOKEN, { id: org.id }, owner)).createDirectoryToken;
    const res = await fetch(`${serverUrl()}/scim/v2/Groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineering' }),
    });
    const group = (await res.json()) as { id: string };
    await expectEvents(
      org.id,
      () => q('mutation($g: ID!) { setDirectoryGroupMapping(input: { groupId: $g, role: DEVELOPER }) { id role } }', { g: group.id }, owner),
      ['directory_group.mapping_changed'],
    );
  },
  async provisionUser() {
    // In the user's personal organization, made by the first provisioning: the second one updates the user.
    const userId = unique('prov');
    await q(PROVISION, { input: { userId, email: `${userId}@x.test` } }, service);
    const personal = (await sql('SELECT id FROM organizations WHERE personal_owner_id = $1', [userId]))[0].id;
    await expectEvents(personal, () => q(PROVISION, { input: { userId, email: `${userId}.new@x.test` } }, service), ['user.updated']);
  },
};

/** The mutations of schema.graphql (kept equal to the served schema by `npm run schema:check`). */
const schemaMutations = (parse(fs.readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8')).definitions.find(
  (d) => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'Mutation',
) as ObjectTypeDefinitionNode).fields!.map((f) => f.name.value);

describe('every mutation writes exactly one event per change', () => {
  it.each(schemaMutations)('%s', async (mutation) => {
    const run = CASES[mutation];
    if (!run) throw new Error(`${mutation} has no case in test/audit-coverage.test.ts: list the events it writes there`);
    await run();
  });

  it('the cases are those of the served schema, no more', async () => {
    const { data } = await gql<any>('{ __schema { mutationType { fields { name } } } }', {}, newUser());
    const served = data.__schema.mutationType.fields.map((f: { name: string }) => f.name).sort();
    expect(served).toEqual([...schemaMutations].sort());
    expect(Object.keys(CASES).sort()).toEqual(served);
  });

  it('failing mutations write nothing: a refused update, a duplicate slug', async () => {
    const { owner, org } = await team();
    await expectEvents(org.id, async () => {
      await gql('mutation($id: ID!) { updateOrganization(input: { id: $id, slug: "no" }) { id } }', { id: org.id }, owner);
      await gql('mutation($id: ID!) { createWorkspace(input: { organizationId: $id, name: "x", slug: "admin" }) { id } }', { id: org.id }, owner);
    }, []);
  });
});
