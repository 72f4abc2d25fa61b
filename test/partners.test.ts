import { createOrganization, failure, gql, newUser, ok, serviceToken, signToken, sql, unique } from './support/client';

const PROVISION = 'mutation($input: ProvisionUserInput!) { provisionUser(input: $input) { id name kind slug } }';
const RECORD_EVENT = 'mutation($input: RecordAuditEventInput!) { recordAuditEvent(input: $input) { id action origin actor { type id display } target { type id display } metadata organization { id } } }';

describe('scopes of partner operations', () => {
  const org = { id: '01900000-0000-7000-8000-000000000000' };
  const calls: [string, string, Record<string, unknown>][] = [
    ['users:provision', PROVISION, { input: { userId: 'u-scope', email: 'scope@x.test' } }],
    ['billing:write', 'mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) { plan } }', { input: { organizationId: org.id, plan: 'PRO', seats: 1, idempotencyKey: 'k' } }],
    ['usage:write', 'mutation($input: RecordUsageInput!) { recordUsage(input: $input) { creditsUsed } }', { input: { workspaceId: org.id, credits: 1, idempotencyKey: 'k' } }],
    ['audit:write', RECORD_EVENT, { input: { organizationId: org.id, action: 'svc.a.b', idempotencyKey: 'k' } }],
    ['byok:read', 'query($id: ID!) { byokCredentials(organizationId: $id) { accessKeyId } }', { id: org.id }],
  ];

  it.each(calls)('%s: a user token, an API key, another scope are FORBIDDEN; no token UNAUTHENTICATED', async (scope, query, variables) => {
    expect((await failure(query, variables, newUser())).code).toBe('FORBIDDEN');
    const other = calls.map(([s]) => s).filter((s) => s !== scope).join(' ');
    expect((await failure(query, variables, serviceToken(unique('svc'), other))).code).toBe('FORBIDDEN');
    expect((await failure(query, variables, null)).code).toBe('UNAUTHENTICATED');
    // With its scope the call gets through authorization (here: to NOT_FOUND or success).
    const res = await gql(query, variables, serviceToken(unique('svc'), scope));
    expect(res.errors?.[0]?.extensions.code ?? 'OK').not.toMatch(/FORBIDDEN|UNAUTHENTICATED/);
  });

  it('a service token calling a people operation is FORBIDDEN', async () => {
    const token = serviceToken(unique('svc'), 'users:provision billing:write usage:write audit:write byok:read');
    const owner = newUser();
    const team = await createOrganization(owner, 'Not for services');
    for (const [query, variables] of [
      ['mutation { createOrganization(input: { name: "x" }) { id } }', {}],
      ['mutation($id: ID!) { updateOrganization(input: { id: $id, name: "x" }) { id } }', { id: team.id }],
      ['mutation($id: ID!) { leaveOrganization(organizationId: $id) }', { id: team.id }],
      ['mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: team.id, name: 'x' } }],
      ['mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', { input: { organizationId: team.id, name: 'x', scopes: ['MEMBERS_READ'] } }],
      ['query($id: ID!) { organization(id: $id) { members { totalCount } } }', { id: team.id }],
    ] as const) {
      expect(['FORBIDDEN', 'NOT_FOUND']).toContain((await failure(query, variables, token)).code);
    }
  });
});

describe('provisionUser', () => {
  const token = () => serviceToken(unique('accounts'), 'users:provision');

  it('creates the personal organization once, even for ten parallel calls; later calls update email and name', async () => {
    const userId = unique('prov');
    const input = { userId, email: `${userId}@Example.test`, name: 'Ada Lovelace' };
    const t = token();
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(PROVISION, { input }, t)));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => r.data!.provisionUser.id)).size).toBe(1);
    expect(results[0].data!.provisionUser).toMatchObject({ name: "Ada's Organization", kind: 'PERSONAL' });
    expect(await sql('SELECT email, name FROM users WHERE id = $1', [userId])).toEqual([{ email: `${userId}@example.test`, name: 'Ada Lovelace' }]);
    expect(await sql('SELECT 1 FROM organizations WHERE personal_owner_id = $1', [userId])).toHaveLength(1);

    await ok(PROVISION, { input: { userId, email: `${userId}.new@example.test`, name: 'Ada King' } }, t);
    expect(await sql('SELECT email, name FROM users WHERE id = $1', [userId])).toEqual([{ email: `${userId}.new@example.test`, name: 'Ada King' }]);
    const events = await sql(`SELECT action, actor_type FROM audit_events WHERE organization_id = $1 ORDER BY id`, [results[0].data!.provisionUser.id]);
    expect(events).toEqual([
      { action: 'organization.created', actor_type: 'SERVICE' },
      { action: 'user.updated', actor_type: 'SERVICE' },
    ]);
    // The user's own first request finds the same organization.
    const { viewer } = await ok('{ viewer { personalOrganization { id } } }', {}, signToken({ sub: userId, email: `${userId}.new@example.test`, email_verified: true }));
    expect(viewer.personalOrganization.id).toBe(results[0].data!.provisionUser.id);
  });

  it('lets the service read the organization it provisioned, and nothing more of it', async () => {
    const t = token();
    const userId = unique('prov');
    const basic = await ok('mutation($input: ProvisionUserInput!) { provisionUser(input: $input) { id slug name kind createdAt } }', { input: { userId, email: `${userId}@x.test` } }, t);
    expect(basic.provisionUser.kind).toBe('PERSONAL');
    const deeper = await gql('mutation($input: ProvisionUserInput!) { provisionUser(input: $input) { id members { totalCount } } }', { input: { userId, email: `${userId}@x.test` } }, t);
    expect(deeper.errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
    // And it cannot look the organization up afterwards.
    expect((await failure('query($id: ID!) { organization(id: $id) { id } }', { id: basic.provisionUser.id }, t)).code).toBe('NOT_FOUND');
  });

  it.each([
    ['an empty user id', { userId: '', email: 'a@x.test' }, 'userId'],
    ['a user id with spaces around it', { userId: ' u ', email: 'a@x.test' }, 'userId'],
    ['a malformed email', { userId: 'u-bad-email', email: 'not-an-email' }, 'email'],
    ['a 1,000-character name', { userId: 'u-long-name', email: 'a@x.test', name: 'n'.repeat(1000) }, 'name'],
  ])('refuses %s', async (_label, input, field) => {
    expect(await failure(PROVISION, { input }, token())).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});

describe('recordAuditEvent', () => {
  const EVENTS = 'query($id: ID!, $actions: [String!]) { organization(id: $id) { auditEvents(filter: { actions: $actions }) { totalCount nodes { action origin actor { type id } } } } }';

  it('appends to the organization\'s log with the service as actor, once per idempotency key', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Partner log');
    const clientId = unique('model-proxy');
    const token = serviceToken(clientId, 'audit:write');
    const action = `${clientId}.model.invoked`;
    const input = { organizationId: org.id, action, target: { type: 'Workspace', id: 'w-1', display: 'Main' }, metadata: { model: 'claude', tokens: 1200 }, idempotencyKey: unique('e') };
    const results = await Promise.all(Array.from({ length: 5 }, () => gql(RECORD_EVENT, { input }, token)));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => r.data!.recordAuditEvent.id)).size).toBe(1);
    expect(results[0].data!.recordAuditEvent).toMatchObject({
      action,
      origin: 'PARTNER',
      actor: { type: 'SERVICE', id: clientId, display: clientId },
      target: { type: 'Workspace', id: 'w-1', display: 'Main' },
      metadata: { model: 'claude', tokens: 1200 },
      organization: { id: org.id },
    });
    const { organization } = await ok(EVENTS, { id: org.id, actions: [action] }, owner);
    expect(organization.auditEvents.totalCount).toBe(1);
  });

  it('records only the calling service\'s own actions: <client id>.<target>.<verb>', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Forgery');
    const clientId = unique('billing');
    const token = serviceToken(clientId, 'audit:write');
    const other = unique('crm');
    const before = await sql('SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1', [org.id]);
    for (const action of [
      'organization.deleted',
      'member.role_changed',
      'x.y',
      `${other}.invoice.paid`,
      `${clientId}.invoice`,
      `${clientId}.invoice.paid.twice`,
      `${clientId.toUpperCase()}.invoice.paid`,
      `${clientId}.Invoice.paid`,
      `${clientId}..paid`,
      `x.${clientId}.invoice.paid`,
    ]) {
      const res = await failure(RECORD_EVENT, { input: { organizationId: org.id, action, metadata: { role: 'OWNER' }, idempotencyKey: unique('e') } }, token);
      expect({ action, ...res }).toMatchObject({ action, code: 'BAD_USER_INPUT', field: 'action', message: expect.stringContaining(`${clientId}.<target>.<verb>`) });
    }
    expect(await sql('SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1', [org.id])).toEqual(before);

    await ok(RECORD_EVENT, { input: { organizationId: org.id, action: `${clientId}.invoice.paid`, target: { type: 'Invoice', id: 'in_1' }, idempotencyKey: unique('e') } }, token);
    expect(await sql('SELECT action, actor_type, actor_id FROM audit_events WHERE organization_id = $1 AND seq > $2 ORDER BY seq', [org.id, before[0].n])).toEqual([
      { action: `${clientId}.invoice.paid`, actor_type: 'SERVICE', actor_id: clientId },
    ]);
  });

  it.each([
    ['a display with a right-to-left override', { display: 'Main \u202Eevil' }, 'display'],
    ['a display with a line break', { display: 'Main\nForged line' }, 'display'],
    ['an id with a zero-width space', { id: 'w\u200B-1' }, 'id'],
  ])('a target with %s is refused and nothing is written', async (_label, change, field) => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Partner text');
    const clientId = unique('texter');
    const target = Object.assign({ type: 'Workspace', id: 'w-1', display: 'Main' }, change);
    const input = { organizationId: org.id, action: `${clientId}.model.invoked`, target, idempotencyKey: unique('e') };
    const refused = await failure(RECORD_EVENT, { input }, serviceToken(clientId, 'audit:write'));
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await sql('SELECT 1 FROM audit_events WHERE organization_id = $1 AND action = $2', [org.id, input.action])).toEqual([]);
  });

  it('a client id that cannot be an action\'s first segment records nothing, and is told why', async () => {
    const org = await createOrganization(newUser(), 'Odd client');
    for (const clientId of ['https://idp.example/clients/7', 'svc@clients', 'a.b']) {
      const res = await failure(RECORD_EVENT, { input: { organizationId: org.id, action: `${clientId}.invoice.paid`, idempotencyKey: unique('e') } }, serviceToken(clientId, 'audit:write'));
      expect(res).toMatchObject({ code: 'BAD_USER_INPUT', field: 'action', message: expect.stringContaining('client id') });
    }
    expect(await sql("SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND actor_type = 'SERVICE'", [org.id])).toEqual([{ n: 0 }]);
  });

  it('shows a partner\'s events as a partner\'s; a core event written by a service stays a core one', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Origins');
    const clientId = unique('ledger');
    await ok(RECORD_EVENT, { input: { organizationId: org.id, action: `${clientId}.invoice.paid`, idempotencyKey: unique('e') } }, serviceToken(clientId, 'audit:write'));
    await ok('mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) { plan } }', { input: { organizationId: org.id, plan: 'PRO', seats: 2, idempotencyKey: unique('k') } }, serviceToken(unique('billing'), 'billing:write'));
    const { organization } = await ok(EVENTS, { id: org.id }, owner);
    expect(organization.auditEvents.nodes.map((n: any) => ({ action: n.action, origin: n.origin, actor: n.actor.type }))).toEqual([
      { action: 'subscription.updated', origin: 'CORE', actor: 'SERVICE' },
      { action: `${clientId}.invoice.paid`, origin: 'PARTNER', actor: 'SERVICE' },
      { action: 'organization.created', origin: 'CORE', actor: 'USER' },
    ]);
  });

  it.each([
    ['an action without a verb', { action: 'invoked' }, 'action'],
    ['an upper-case action', { action: 'Model.Invoked' }, 'action'],
    ['metadata that is a list', { action: 'svc.a.b', metadata: [1, 2] }, 'metadata'],
    ['metadata over 16 KB', { action: 'svc.a.b', metadata: { pad: 'x'.repeat(17_000) } }, 'metadata'],
  ])('refuses %s', async (_label, spec, field) => {
    const org = await createOrganization(newUser(), 'Refused');
    const res = await failure(RECORD_EVENT, { input: { organizationId: org.id, idempotencyKey: unique('e'), ...spec } }, serviceToken('svc', 'audit:write'));
    expect(res).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});
