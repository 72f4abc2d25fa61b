import { fillArgument, INTROSPECTION, named, required, typeString, type Field, type SchemaTypeInfo, type TypeRef } from './support/introspection';
import { addMember, createOrganization, gql, invitationToken, newUser, ok, serverUrl, serviceToken, signToken, sql, unique, type GqlResponse, type TestUser } from './support/client';
import { publishTxt } from './support/dns-server';
import { certificate, idpMetadata } from './support/saml-metadata';

const SET = 'mutation($input: SetSsoConnectionInput!) { setSsoConnection(input: $input) { id enforced status } }';
const ORG = 'query($id: ID!) { organization(id: $id) { id name } }';

/** The same person, signed in through an organization's identity provider (claim sso_org_id). */
const through = (user: TestUser, organizationId: string): TestUser => ({
  ...user,
  token: signToken({ sub: user.id, email: user.email, email_verified: true, name: user.name, sso_org_id: organizationId }),
});

const ssoRequired = (res: GqlResponse) => (res.errors ?? []).some((e) => e.extensions.code === 'FORBIDDEN' && e.extensions.reason === 'SSO_REQUIRED');

/** A domain of the organization, VERIFIED through the test DNS server (test/support/dns-server.ts). */
async function verifiedDomain(organizationId: string, owner: TestUser, domain = `${unique('sso')}.test`): Promise<{ id: string; domain: string }> {
  const added = (await ok('mutation($id: ID!, $d: String!) { addDomain(input: { organizationId: $id, domain: $d }) { id verificationRecord { name value } } }', { id: organizationId, d: domain }, owner)).addDomain;
  publishTxt(added.verificationRecord.name, added.verificationRecord.value);
  expect((await ok('mutation($id: ID!) { verifyDomain(id: $id) { status } }', { id: added.id }, owner)).verifyDomain.status).toBe('VERIFIED');
  return { id: added.id, domain };
}

/** An organization with an ADMIN, a VIEWER, a workspace and a VERIFIED domain, enforcing SSO through a SAML connection. */
async function enforcedOrganization(name = 'Enforced') {
  const owner = newUser(`${name} Owner`);
  const org = await createOrganization(owner, name);
  const admin = newUser(`${name} Admin`);
  const adminMembership = await addMember(org.id, admin, 'ADMIN');
  const viewer = newUser(`${name} Viewer`);
  await addMember(org.id, viewer, 'VIEWER');
  const workspace = (await ok('mutation($id: ID!) { createWorkspace(input: { organizationId: $id, name: "Enforced WS" }) { id } }', { id: org.id }, owner)).createWorkspace.id;
  const metadataXml = idpMetadata({ entityId: `urn:idp:${org.id}`, ssoUrl: 'https://idp.example.test/sso', certificate: await certificate() });
  const domain = await verifiedDomain(org.id, owner);
  const set = await ok(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml, enforced: true } }, owner);
  expect(set.setSsoConnection).toMatchObject({ enforced: true, status: 'ACTIVE' });
  return { owner, org, admin, adminMembership, viewer, workspace, metadataXml, domain };
}

describe('SSO enforcement', () => {
  it('is turned on only with a VERIFIED domain and a working connection', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Not yet');
    const metadataXml = idpMetadata({ entityId: 'urn:idp:not-yet', ssoUrl: 'https://idp.example.test/sso', certificate: await certificate() });
    const refused = await gql(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml, enforced: true } }, owner);
    expect(refused.errors?.[0].extensions.code).toBe('FAILED_PRECONDITION');
    expect(refused.errors?.[0].message).toMatch('VERIFIED domain');
    // Nothing was saved: the connection and its enforcement are one change.
    expect(await sql('SELECT 1 FROM sso_connections WHERE organization_id = $1', [org.id])).toEqual([]);
    // A PENDING domain is not enough.
    await ok('mutation($id: ID!, $d: String!) { addDomain(input: { organizationId: $id, domain: $d }) { id } }', { id: org.id, d: `${unique('pending')}.test` }, owner);
    expect((await gql(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml, enforced: true } }, owner)).errors?.[0].extensions.code).toBe('FAILED_PRECONDITION');
    await verifiedDomain(org.id, owner);
    expect((await ok(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml, enforced: true } }, owner)).setSsoConnection.enforced).toBe(true);
  });

  it('ssoRoute(email) names the organization holding the address\'s VERIFIED domain and its connection, for sso:read only', async () => {
    const { org, domain, metadataXml } = await enforcedOrganization('Routed');
    const accounts = serviceToken(unique('accounts'), 'sso:read');
    const ROUTE = 'query($e: String!) { ssoRoute(email: $e) { domain organization { id name } connection { organizationId protocol enforced idpEntityId idpSsoUrl } } }';
    const route = await gql(ROUTE, { e: `Ada@${domain.domain.toUpperCase()}` }, accounts);
    expect(route.errors).toBeUndefined();
    expect(route.data!.ssoRoute).toEqual({
      domain: domain.domain,
      organization: { id: org.id, name: 'Routed' },
      connection: { organizationId: org.id, protocol: 'SAML', enforced: true, idpEntityId: `urn:idp:${org.id}`, idpSsoUrl: 'https://idp.example.test/sso' },
    });
    expect(metadataXml).toContain(`urn:idp:${org.id}`);
    // A subdomain is another domain; an unknown one, or one only PENDING elsewhere, has no route.
    expect((await gql(ROUTE, { e: `ada@eu.${domain.domain}` }, accounts)).data).toEqual({ ssoRoute: null });
    expect((await gql(ROUTE, { e: 'ada@nobody-verified-this.test' }, accounts)).data).toEqual({ ssoRoute: null });
    const other = newUser();
    const pending = await createOrganization(other, 'Pending elsewhere');
    const pendingDomain = `${unique('pend')}.test`;
    await ok('mutation($id: ID!, $d: String!) { addDomain(input: { organizationId: $id, domain: $d }) { id } }', { id: pending.id, d: pendingDomain }, other);
    await ok(SET, { input: { organizationId: pending.id, protocol: 'SAML', metadataXml } }, other);
    expect((await gql(ROUTE, { e: `ada@${pendingDomain}` }, accounts)).data).toEqual({ ssoRoute: null });
    // A VERIFIED domain without a connection: none either.
    const bare = newUser();
    const bareOrg = await createOrganization(bare, 'No connection');
    const bareDomain = await verifiedDomain(bareOrg.id, bare);
    expect((await gql(ROUTE, { e: `ada@${bareDomain.domain}` }, accounts)).data).toEqual({ ssoRoute: null });

    expect((await gql(ROUTE, { e: 'not an address' }, accounts)).errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'email' });
    for (const who of [serviceToken(unique('other'), 'byok:read'), other.token]) {
      expect((await gql(ROUTE, { e: `ada@${domain.domain}` }, who)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    }
  });

  it('a member without the claim sso_org_id of the organization is FORBIDDEN (SSO_REQUIRED); with it, let in', async () => {
    const { org, admin, viewer, owner, metadataXml } = await enforcedOrganization();
    const other = await createOrganization(newUser(), 'Elsewhere');

    for (const member of [admin, viewer]) {
      const res = await gql(ORG, { id: org.id }, member);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'SSO_REQUIRED' });
      expect(res.data?.organization ?? null).toBeNull();
      // Signed in through another organization's provider: still not this one's.
      expect(ssoRequired(await gql(ORG, { id: org.id }, through(member, other.id)))).toBe(true);
      expect((await gql(ORG, { id: org.id }, through(member, org.id))).data!.organization).toEqual({ id: org.id, name: 'Enforced' });
    }
    // _entities, by id and by slug, as the router asks.
    const entities = await gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id name } } }', { r: [{ __typename: 'Organization', id: org.id }] }, admin);
    expect(ssoRequired(entities)).toBe(true);
    expect(JSON.stringify(entities.data)).not.toContain('Enforced');
    // Lists the person is in still list the membership; the organization's fields are refused.
    const listed = await gql('{ viewer { memberships(first: 50) { nodes { role organization { id name } } } } }', {}, admin);
    expect(ssoRequired(listed)).toBe(true);
    expect(JSON.stringify(listed.data)).not.toContain('"Enforced"');

    // Turning it off lets them in again; both changes audited.
    await ok(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml, enforced: false } }, through(owner, org.id));
    expect((await gql(ORG, { id: org.id }, admin)).errors).toBeUndefined();
    const actions = (await sql('SELECT action FROM audit_events WHERE organization_id = $1 AND action LIKE $2 ORDER BY seq', [org.id, 'sso.%'])).map((e) => e.action);
    expect(actions).toEqual(['sso.connection_created', 'sso.enforcement_enabled', 'sso.connection_updated', 'sso.enforcement_disabled']);
  });

  it('_entities of workspaces in one request: the one in an organization enforcing SSO is refused, one elsewhere answers', async () => {
    const { admin, workspace } = await enforcedOrganization('Mixed');
    const team = await createOrganization(admin, 'Own team');
    const own = (await ok('mutation($id: ID!) { createWorkspace(input: { organizationId: $id, name: "Own WS" }) { id } }', { id: team.id }, admin)).createWorkspace.id;
    const res = await gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on Workspace { id name } } }', { r: [{ __typename: 'Workspace', id: workspace }, { __typename: 'Workspace', id: own }] }, admin);
    expect(ssoRequired(res)).toBe(true);
    expect(res.errors?.map((e) => e.path)).toEqual([['_entities', 0]]);
    expect(res.data).toEqual({ _entities: [null, { id: own, name: 'Own WS' }] });
  });

  it('an OWNER keeps access without the claim (break-glass), audited once an hour, not on every request', async () => {
    const { org, owner } = await enforcedOrganization('Break glass');
    const before = await sql('SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND action = $2', [org.id, 'sso.break_glass']);
    expect(before[0].n).toBe(0);
    // Its first requests at once: one event all the same.
    const first = await Promise.all(Array.from({ length: 6 }, () => gql(ORG, { id: org.id }, owner)));
    for (const res of first) expect(res.data!.organization.name).toBe('Break glass');
    for (let i = 0; i < 3; i++) expect((await gql(ORG, { id: org.id }, owner)).data!.organization.name).toBe('Break glass');
    expect((await gql('mutation($id: ID!) { updateOrganization(input: { id: $id, description: "still mine" }) { id } }', { id: org.id }, owner)).errors).toBeUndefined();
    const events = await sql('SELECT actor_id, target_id, metadata FROM audit_events WHERE organization_id = $1 AND action = $2', [org.id, 'sso.break_glass']);
    expect(events).toEqual([{ actor_id: owner.id, target_id: org.id, metadata: expect.objectContaining({ intervalMinutes: 60 }) }]);
    // Through the provider: no break-glass at all.
    const other = await enforcedOrganization('Through the provider');
    await gql(ORG, { id: other.org.id }, through(other.owner, other.org.id));
    expect(await sql('SELECT 1 FROM audit_events WHERE organization_id = $1 AND action = $2', [other.org.id, 'sso.break_glass'])).toEqual([]);
  });

  it('another member\'s memberships (User.memberships) list none in an organization the asker may not enter without SSO', async () => {
    const { org, admin, viewer } = await enforcedOrganization('Shared');
    // An organization without enforcement that the ADMIN and the VIEWER are both in.
    const elsewhere = await createOrganization(viewer, 'Not enforced');
    await addMember(elsewhere.id, admin, 'DEVELOPER');
    const query = `query($id: ID!) { organization(id: $id) { members(first: 50) { nodes { user { id memberships(first: 50) { totalCount nodes { role permissions } } } } } } }`;
    const seen = (data: unknown) =>
      ((data as any)?.organization?.members?.nodes ?? []).flatMap((n: any) => n.user?.memberships?.nodes ?? []).filter((m: any) => m?.role === 'VIEWER' || m?.permissions?.length);
    const blocked = await gql(query, { id: elsewhere.id }, admin);
    // The VIEWER's membership in the enforced organization (role VIEWER) is not shown to the ADMIN who has not signed in through it.
    expect(JSON.stringify(blocked.data)).not.toContain('"VIEWER"');
    const ofViewer = ((blocked.data as any)?.organization?.members?.nodes ?? []).find((n: any) => n.user?.id === viewer.id);
    expect(ofViewer.user.memberships.totalCount).toBe(1);
    // Signed in through it, the ADMIN sees it as before.
    const allowed = await ok(query, { id: elsewhere.id }, through(admin, org.id));
    expect(seen(allowed)).toContainEqual(expect.objectContaining({ role: 'VIEWER' }));
  });

  it('the custom roles of the person\'s own membership are the organization\'s: refused without SSO like its other fields', async () => {
    const { org, admin, adminMembership, owner } = await enforcedOrganization('Own roles');
    const trusted = through(owner, org.id);
    const role = (await ok('mutation($id: ID!) { createRole(input: { organizationId: $id, key: "secret-project", name: "Secret project", permissions: ["MEMBERS_READ"] }) { id } }', { id: org.id }, trusted)).createRole.id;
    await ok('mutation($m: ID!, $r: [ID!]) { updateMembership(input: { membershipId: $m, roleIds: $r }) { id } }', { m: adminMembership, r: [role] }, trusted);
    const listed = await gql('{ viewer { memberships(first: 50) { nodes { roles { key name permissions memberCount } } } } }', {}, admin);
    expect(ssoRequired(listed)).toBe(true);
    expect(JSON.stringify(listed.data)).not.toContain('secret-project');
    // Through the provider, as before.
    const seen = await ok('{ viewer { memberships(first: 50) { nodes { roles { key memberCount } } } } }', {}, through(admin, org.id));
    expect(seen.viewer.memberships.nodes.flatMap((n: any) => n.roles)).toEqual([{ key: 'secret-project', memberCount: 1 }]);
  });

  it('the invitation preview says the organization requires SSO', async () => {
    const { org, owner } = await enforcedOrganization('Invites');
    const plain = await createOrganization(owner, 'Plain');
    const preview = 'query($t: String!) { invitation(token: $t) { organizationName ssoRequired } }';
    for (const [id, name, ssoRequired] of [[org.id, 'Invites', true], [plain.id, 'Plain', false]] as const) {
      const [invitation] = (await ok('mutation($id: ID!) { inviteMembers(input: { organizationId: $id, emails: ["sso-invitee@example.test"] }) { id } }', { id }, owner)).inviteMembers;
      expect((await ok(preview, { t: await invitationToken(invitation.id) }, owner)).invitation).toEqual({ organizationName: name, ssoRequired });
    }
  });

  /**
   * Generated from the schema: every field of Organization (reached through the person's own
   * memberships, past the top-level lookups) and every query and mutation taking an id, called
   * with the organization's ids by an ADMIN without the claim, must be refused with
   * SSO_REQUIRED (or, for ids of another kind, NOT_FOUND) and never succeed. A new field or
   * mutation is covered without editing this file.
   */
  it('covers every field of the organization and every operation taking one of its ids', async () => {
    const { org, admin, adminMembership, workspace, owner, domain } = await enforcedOrganization('Sweep');
    const trusted = through(owner, org.id);
    const invitation = (await ok('mutation($id: ID!) { inviteMembers(input: { organizationId: $id, emails: ["sweep-invitee@example.test"] }) { id } }', { id: org.id }, trusted)).inviteMembers[0].id;
    const apiKey = (await ok('mutation($id: ID!) { createApiKey(input: { organizationId: $id, name: "Sweep key", scopes: [MEMBERS_READ] }) { apiKey { id } } }', { id: org.id }, trusted)).createApiKey.apiKey.id;
    const endpoint = (await ok('mutation($id: ID!) { createWebhookEndpoint(input: { organizationId: $id, url: "http://127.0.0.1:9/sweep" }) { endpoint { id } } }', { id: org.id }, trusted)).createWebhookEndpoint.endpoint.id;
    const delivery = (await ok('mutation($id: ID!) { sendTestWebhook(id: $id) { id } }', { id: endpoint }, trusted)).sendTestWebhook.id;
    await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: true }) { id } }', { id: org.id }, trusted);
    const joinRequest = (await ok('mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }', { id: org.id }, newUser())).requestToJoin.id;
    const role = (await ok('mutation($id: ID!) { createRole(input: { organizationId: $id, key: "sweep", name: "Sweep", permissions: ["MEMBERS_READ"] }) { id } }', { id: org.id }, trusted)).createRole.id;
    const directory = (await ok('mutation($id: ID!) { createDirectoryToken(organizationId: $id) { secret token { id } } }', { id: org.id }, trusted)).createDirectoryToken;
    const directoryGroup = (await (
      await fetch(`${serverUrl()}/scim/v2/Groups`, {
        method: 'POST',
        headers: { authorization: `Bearer ${directory.secret}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Sweep' }),
      })
    ).json()) as { id: string };
    const ids: Record<string, string> = {
      organization: org.id, workspace, membership: adminMembership, invitation, apiKey, endpoint, delivery, joinRequest, domain: domain.id, role,
      directoryToken: directory.token.id, directoryGroup: directoryGroup.id,
    };

    const { __schema } = await ok(INTROSPECTION, {}, admin);
    const types = new Map<string, SchemaTypeInfo>(__schema.types.map((t: any) => [t.name, t]));
    const objectSelection = (type: TypeRef) => (['OBJECT', 'INTERFACE', 'UNION'].includes(named(type).kind) ? ' { __typename }' : '');
    const failures: string[] = [];

    // Every field of Organization.
    const { __type } = await ok('{ __type(name: "Organization") { fields { name args { name type { ...T } } type { ...T } } } } fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }', {}, admin);
    expect(__type.fields.length).toBeGreaterThan(15);
    for (const field of __type.fields as Field[]) {
      const args = field.args.filter((a) => required(a.type));
      const vars = args.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ');
      const call = args.length ? `${field.name}(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : field.name;
      const variables = Object.fromEntries(args.map((a) => [a.name, fillArgument(types, a.name, a.type, () => undefined)]));
      const res = await gql(`query${vars ? `(${vars})` : ''} { viewer { memberships(first: 100) { nodes { organization { id ${call}${objectSelection(field.type)} } } } } }`, variables, admin);
      const refused = (res.errors ?? []).filter((e) => e.extensions.reason === 'SSO_REQUIRED');
      const nodes: any[] = (res.data as any)?.viewer?.memberships?.nodes ?? [];
      const leaked = nodes.some((n) => n?.organization?.id === org.id && n.organization[field.name] !== undefined && n.organization[field.name] !== null);
      if (!refused.length || leaked) failures.push(`Organization.${field.name}: ${JSON.stringify(res.errors ?? res.data).slice(0, 300)}`);
      // With the claim, never SSO_REQUIRED.
      const allowed = await gql(`query${vars ? `(${vars})` : ''} { organization(id: "${org.id}") { ${call}${objectSelection(field.type)} } }`, variables, through(admin, org.id));
      if (ssoRequired(allowed)) failures.push(`Organization.${field.name} with the claim: ${JSON.stringify(allowed.errors).slice(0, 300)}`);
    }

    // Every query and mutation taking an id: with one of the organization's ids, refused; never done.
    const takesId = (args: Field['args'], depth = 0): boolean =>
      args.some((a) => named(a.type).name === 'ID' || (depth < 2 && named(a.type).kind === 'INPUT_OBJECT' && takesId(types.get(named(a.type).name!)!.inputFields ?? [], depth + 1)));
    // Not a member's requests to the organization: the invitee's and requester's own (they are not members yet), partner services' (by scope).
    const notAsMember = new Set(['acceptInvitation', 'declineInvitation', 'requestToJoin', 'cancelJoinRequest', 'invitation', 'provisionUser', 'updateSubscription', 'recordUsage', 'recordAuditEvent', 'byokCredentials', 'ssoConnection', 'events', 'webhookEndpoints', 'authorize']);
    const operations: { kind: 'query' | 'mutation'; field: Field }[] = [
      ...__schema.queryType.fields.map((field: Field) => ({ kind: 'query' as const, field })),
      ...__schema.mutationType.fields.map((field: Field) => ({ kind: 'mutation' as const, field })),
    ].filter(({ field }) => !field.name.startsWith('_') && !notAsMember.has(field.name) && takesId(field.args));
    expect(operations.length).toBeGreaterThan(25);
    for (const { kind, field } of operations) {
      const vars = field.args.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ');
      const document = `${kind}${vars ? `(${vars})` : ''} { ${field.name}(${field.args.map((a) => `${a.name}: $${a.name}`).join(', ')})${objectSelection(field.type)} }`;
      let refused = false;
      for (const [label, id] of Object.entries(ids)) {
        const variables = Object.fromEntries(
          field.args.filter((a) => required(a.type) || named(a.type).name === 'ID').map((a) => [a.name, fillArgument(types, a.name, a.type, (_n, base) => (base.name === 'ID' ? id : undefined))]),
        );
        const res = await gql(document, variables, admin);
        const data = (res.data as Record<string, unknown> | null)?.[field.name];
        if (!res.errors?.length || (data !== null && data !== undefined)) failures.push(`${field.name} with the ${label} id succeeded: ${JSON.stringify(res.data).slice(0, 200)}`);
        if (ssoRequired(res)) refused = true;
      }
      if (!refused) failures.push(`${field.name}: never refused with SSO_REQUIRED`);
    }
    expect(failures).toEqual([]);
    // Nothing changed.
    expect(await sql('SELECT name, sso_enforced FROM organizations WHERE id = $1', [org.id])).toEqual([{ name: 'Sweep', sso_enforced: true }]);
    expect((await sql('SELECT status FROM join_requests WHERE id = $1', [joinRequest]))[0].status).toBe('PENDING');
    expect((await sql('SELECT revoked_at FROM api_keys WHERE id = $1', [apiKey]))[0].revoked_at).toBeNull();
  });
});
