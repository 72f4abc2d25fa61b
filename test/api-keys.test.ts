import { createHash } from 'node:crypto';
import { addMember, createOrganization, failure, gql, newUser, ok, sql, type TestUser } from './support/client';

const CREATE_KEY = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name prefix scopes createdAt expiresAt revokedAt lastUsedAt workspace { id } createdBy { id } } } }';
const ROTATE = 'mutation($id: ID!) { rotateApiKey(id: $id) { secret apiKey { id prefix } } }';
const REVOKE = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';
const ORG = 'query($id: ID!) { organization(id: $id) { id name } }';
const MEMBERS = 'query($id: ID!) { organization(id: $id) { members { totalCount } } }';
const WORKSPACES = 'query($id: ID!) { organization(id: $id) { workspaces { nodes { id } } } }';
const CREATE_WS = 'mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }';

interface Setup {
  org: { id: string; slug: string };
  owner: TestUser;
  admin: TestUser;
  developer: TestUser;
  developerMembership: string;
  viewer: TestUser;
  ws: { mine: string; assigned: string; other: string };
}

/** developer: ADMIN override in `mine`, plain in `assigned`, none in `other`. */
async function setup(): Promise<Setup> {
  const owner = newUser('Key Owner');
  const org = await createOrganization(owner, 'Keyed');
  const admin = newUser();
  const developer = newUser();
  const viewer = newUser();
  await addMember(org.id, admin, 'ADMIN');
  const developerMembership = await addMember(org.id, developer, 'DEVELOPER');
  await addMember(org.id, viewer, 'VIEWER');
  const ws = {} as Setup['ws'];
  for (const key of ['mine', 'assigned', 'other'] as const) ws[key] = (await ok(CREATE_WS, { input: { organizationId: org.id, name: key } }, owner)).createWorkspace.id;
  await ok('mutation($input: SetWorkspaceAccessInput!) { setWorkspaceAccess(input: $input) { id } }', {
    input: { membershipId: developerMembership, workspaces: [{ workspaceId: ws.mine, roleOverride: 'ADMIN' }, { workspaceId: ws.assigned }] },
  }, owner);
  return { org, owner, admin, developer, developerMembership, viewer, ws };
}

const create = (by: TestUser, input: Record<string, unknown>) => gql(CREATE_KEY, { input }, by);

describe('creating a key', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });

  it('shows the secret once and stores only its SHA-256 and a prefix', async () => {
    const res = await create(s.owner, { organizationId: s.org.id, name: ' CI deploy ', scopes: ['MEMBERS_READ', 'WORKSPACE_READ'] });
    const { secret, apiKey } = res.data!.createApiKey;
    expect(secret).toMatch(/^ok_[A-Za-z0-9_-]{43,}$/);
    expect(apiKey).toMatchObject({ name: 'CI deploy', scopes: ['MEMBERS_READ', 'WORKSPACE_READ'], revokedAt: null, lastUsedAt: null, workspace: null, createdBy: { id: s.owner.id } });
    expect(secret.startsWith(apiKey.prefix)).toBe(true);
    const [row] = await sql('SELECT * FROM api_keys WHERE id = $1', [apiKey.id]);
    expect(row.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(secret);
    const events = await sql('SELECT action, metadata, target_display FROM audit_events WHERE target_id = $1', [apiKey.id]);
    expect(events).toHaveLength(1);
    expect(events[0].action).toBe('api_key.created');
    expect(JSON.stringify(events)).not.toContain(secret);
    expect(events[0].metadata.prefix).toBe(apiKey.prefix);
  });

  it.each([
    ['a scope its creator lacks (ADMIN → AUDIT_READ)', 'admin', { scopes: ['AUDIT_READ'] }, 'FORBIDDEN'],
    ['a scope its creator lacks (ADMIN → BILLING_READ)', 'admin', { scopes: ['BILLING_READ'] }, 'FORBIDDEN'],
    ['an unbound workspace scope from a DEVELOPER', 'developer', { scopes: ['WORKSPACE_READ'] }, 'FORBIDDEN'],
    ['a workspace scope beyond the DEVELOPER\'s role there', 'developer', { scopes: ['WORKSPACES_MANAGE'], ws: 'assigned' }, 'FORBIDDEN'],
    ['a workspace the DEVELOPER cannot see', 'developer', { scopes: ['WORKSPACE_READ'], ws: 'other' }, 'NOT_FOUND'],
    ['a member without API_KEYS_MANAGE', 'viewer', { scopes: ['MEMBERS_READ'] }, 'FORBIDDEN'],
    ['no scopes', 'owner', { scopes: [] }, 'BAD_USER_INPUT'],
    ['an organization scope on a bound key', 'owner', { scopes: ['MEMBERS_READ'], ws: 'mine' }, 'BAD_USER_INPUT'],
    ['a 1,000-character name', 'owner', { scopes: ['MEMBERS_READ'], name: 'k'.repeat(1000) }, 'BAD_USER_INPUT'],
    ['an expiry in the past', 'owner', { scopes: ['MEMBERS_READ'], expiresAt: '2020-01-01T00:00:00Z' }, 'BAD_USER_INPUT'],
  ])('refuses %s and creates nothing', async (_label, who, spec: any, code) => {
    const before = (await sql('SELECT count(*)::int AS n FROM api_keys WHERE organization_id = $1', [s.org.id]))[0].n;
    const by = (s as any)[who] as TestUser;
    const input = { organizationId: s.org.id, name: spec.name ?? 'k', scopes: spec.scopes, workspaceId: spec.ws ? (s.ws as any)[spec.ws] : undefined, expiresAt: spec.expiresAt };
    expect((await failure(CREATE_KEY, { input }, by)).code).toBe(code);
    expect((await sql('SELECT count(*)::int AS n FROM api_keys WHERE organization_id = $1', [s.org.id]))[0].n).toBe(before);
  });

  it('lets a DEVELOPER bind a key to a workspace where it holds the scopes', async () => {
    const res = await create(s.developer, { organizationId: s.org.id, workspaceId: s.ws.mine, name: 'ws', scopes: ['WORKSPACES_MANAGE', 'WORKSPACE_READ'] });
    expect(res.data!.createApiKey.apiKey.workspace).toEqual({ id: s.ws.mine });
  });

  it('lists the organization\'s keys for API_KEYS_MANAGE holders, never their secrets', async () => {
    const { organization } = await ok('query($id: ID!) { organization(id: $id) { apiKeys { totalCount nodes { id prefix name } } } }', { id: s.org.id }, s.owner);
    expect(organization.apiKeys.totalCount).toBeGreaterThanOrEqual(2);
    expect((await failure('query($id: ID!) { organization(id: $id) { apiKeys { totalCount } } }', { id: s.org.id }, s.viewer)).code).toBe('FORBIDDEN');
  });
});

describe('acting with a key', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  const key = async (by: TestUser, input: Record<string, unknown>) => (await ok(CREATE_KEY, { input: { organizationId: s.org.id, name: 'k', ...input } }, by)).createApiKey;

  it('acts inside its organization with exactly its scopes', async () => {
    const { secret } = await key(s.owner, { scopes: ['MEMBERS_READ', 'WORKSPACE_READ'] });
    expect((await ok(ORG, { id: s.org.id }, secret)).organization.name).toBe('Keyed');
    expect((await ok(MEMBERS, { id: s.org.id }, secret)).organization.members.totalCount).toBe(4);
    expect((await ok(WORKSPACES, { id: s.org.id }, secret)).organization.workspaces.nodes).toHaveLength(3);
    expect((await failure('query($id: ID!) { organization(id: $id) { auditEvents { totalCount } } }', { id: s.org.id }, secret)).code).toBe('FORBIDDEN');
    expect((await failure(CREATE_WS, { input: { organizationId: s.org.id, name: 'nope' } }, secret)).code).toBe('FORBIDDEN');
  });

  it('never reaches another organization, nor does what only people do', async () => {
    const { secret } = await key(s.owner, { scopes: ['MEMBERS_READ', 'MEMBERS_MANAGE', 'API_KEYS_MANAGE', 'ORGANIZATION_DELETE', 'WORKSPACES_MANAGE'] });
    const elsewhere = await createOrganization(newUser(), 'Elsewhere');
    expect((await failure(ORG, { id: elsewhere.id }, secret)).code).toBe('NOT_FOUND');
    expect((await failure('{ viewer { id } }', {}, secret)).code).toBe('FORBIDDEN');
    expect((await failure(CREATE_KEY, { input: { organizationId: s.org.id, name: 'child', scopes: ['MEMBERS_READ'] } }, secret)).code).toBe('FORBIDDEN');
    expect((await failure('mutation($m: ID!) { updateMembership(input: { membershipId: $m, role: ADMIN }) { id } }', { m: s.developerMembership }, secret)).code).toBe('FORBIDDEN');
    expect((await failure('mutation($m: ID!) { removeMember(membershipId: $m) }', { m: s.developerMembership }, secret)).code).toBe('FORBIDDEN');
    expect((await failure('mutation($id: ID!, $s: String!) { deleteOrganization(id: $id, confirmSlug: $s) }', { id: s.org.id, s: s.org.slug }, secret)).code).toBe('FORBIDDEN');
    expect((await failure('mutation($input: SetWorkspaceAccessInput!) { setWorkspaceAccess(input: $input) { id } }', { input: { membershipId: s.developerMembership, workspaces: [] } }, secret)).code).toBe('FORBIDDEN');
    expect((await failure('mutation { createOrganization(input: { name: "By key" }) { id } }', {}, secret)).code).toBe('FORBIDDEN');
    expect((await failure('query($id: ID!) { organization(id: $id) { apiKeys { totalCount } } }', { id: s.org.id }, secret)).code).toBe('FORBIDDEN');
  });

  it('is recorded as the actor of what it changes, by name and prefix', async () => {
    const { secret, apiKey } = await key(s.owner, { scopes: ['WORKSPACES_CREATE'] });
    const created = (await ok(CREATE_WS, { input: { organizationId: s.org.id, name: 'By key' } }, secret)).createWorkspace.id;
    const [event] = await sql(`SELECT actor_type, actor_id, actor_display FROM audit_events WHERE target_id = $1`, [created]);
    expect(event).toEqual({ actor_type: 'API_KEY', actor_id: apiKey.id, actor_display: `k (${apiKey.prefix}…)` });
  });

  it('bound to a workspace, acts there only', async () => {
    const { secret } = await key(s.developer, { workspaceId: s.ws.mine, scopes: ['WORKSPACE_READ', 'WORKSPACES_MANAGE'] });
    expect((await ok('mutation($id: ID!) { updateWorkspace(input: { id: $id, name: "Renamed by key" }) { name } }', { id: s.ws.mine }, secret)).updateWorkspace.name).toBe('Renamed by key');
    expect((await failure('mutation($id: ID!) { updateWorkspace(input: { id: $id, name: "x" }) { name } }', { id: s.ws.assigned }, secret)).code).toBe('NOT_FOUND');
    expect((await failure('query($id: ID!) { workspace(id: $id) { id } }', { id: s.ws.other }, secret)).code).toBe('NOT_FOUND');
    expect((await ok(WORKSPACES, { id: s.org.id }, secret)).organization.workspaces.nodes).toEqual([{ id: s.ws.mine }]);
    expect((await failure(MEMBERS, { id: s.org.id }, secret)).code).toBe('FORBIDDEN');
  });

  it('stops working when its creator leaves: a departed member keeps no way in (keys of the organization\'s own are made by who stays)', async () => {
    const creator = newUser();
    await addMember(s.org.id, creator, 'DEVELOPER');
    const { secret } = await key(creator, { scopes: ['MEMBERS_READ'] });
    expect((await ok(MEMBERS, { id: s.org.id }, secret)).organization.members.totalCount).toBeGreaterThan(0);
    await ok('mutation($id: ID!) { leaveOrganization(organizationId: $id) }', { id: s.org.id }, creator);
    expect((await gql(MEMBERS, { id: s.org.id }, secret)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('keeps lastUsedAt without writing on every request', async () => {
    const { secret, apiKey } = await key(s.owner, { scopes: ['MEMBERS_READ'] });
    await ok(ORG, { id: s.org.id }, secret);
    const [first] = await sql('SELECT last_used_at FROM api_keys WHERE id = $1', [apiKey.id]);
    expect(first.last_used_at).toBeInstanceOf(Date);
    const again = await gql(ORG, { id: s.org.id }, secret);
    const [second] = await sql('SELECT last_used_at FROM api_keys WHERE id = $1', [apiKey.id]);
    expect(second.last_used_at).toEqual(first.last_used_at);
    // One lookup statement, no UPDATE, for a key used within the minute.
    expect(again.statements).toBeLessThanOrEqual(3);
  });
});

describe('revoking, rotating, expiring', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  const key = async (scopes: string[] = ['MEMBERS_READ'], by = s.owner) =>
    (await ok(CREATE_KEY, { input: { organizationId: s.org.id, name: 'k', scopes } }, by)).createApiKey;

  it('a revoked key is UNAUTHENTICATED on the very next request', async () => {
    const { secret, apiKey } = await key();
    expect((await gql(ORG, { id: s.org.id }, secret)).errors).toBeUndefined();
    const revoked = await ok(REVOKE, { id: apiKey.id }, s.admin);
    expect(revoked.revokeApiKey.revokedAt).toEqual(expect.any(String));
    const res = await failure(ORG, { id: s.org.id }, secret);
    expect(res).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/revoked/) });
    expect((await failure(ROTATE, { id: apiKey.id }, s.owner)).code).toBe('FAILED_PRECONDITION');
  });

  it('rotation gives a new secret; the old one stops working at once', async () => {
    const { secret, apiKey } = await key();
    const rotated = (await ok(ROTATE, { id: apiKey.id }, s.owner)).rotateApiKey;
    expect(rotated.apiKey.id).toBe(apiKey.id);
    expect(rotated.secret).not.toBe(secret);
    expect((await failure(ORG, { id: s.org.id }, secret)).code).toBe('UNAUTHENTICATED');
    expect((await ok(ORG, { id: s.org.id }, rotated.secret)).organization.id).toBe(s.org.id);
    const actions = (await sql('SELECT action FROM audit_events WHERE target_id = $1 ORDER BY id', [apiKey.id])).map((e) => e.action);
    expect(actions).toEqual(['api_key.created', 'api_key.rotated']);
  });

  it('nobody rotates a key carrying permissions they lack (and so learns its secret)', async () => {
    const { apiKey } = await key(['MEMBERS_READ', 'AUDIT_READ']);
    expect((await failure(ROTATE, { id: apiKey.id }, s.developer)).code).toBe('FORBIDDEN');
    expect((await failure(ROTATE, { id: apiKey.id }, s.admin)).code).toBe('FORBIDDEN');
  });

  it('an expired key is UNAUTHENTICATED', async () => {
    const { secret, apiKey } = await key();
    await sql(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [apiKey.id]);
    expect(await failure(ORG, { id: s.org.id }, secret)).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/expired/) });
  });

  it('an unknown key or another organization\'s key id is NOT_FOUND; a made-up secret UNAUTHENTICATED', async () => {
    const other = await setup();
    const { apiKey } = await key(['MEMBERS_READ'], s.owner);
    expect((await failure(REVOKE, { id: apiKey.id }, other.owner)).code).toBe('NOT_FOUND');
    expect((await failure(ROTATE, { id: '01900000-0000-7000-8000-000000000000' }, s.owner)).code).toBe('NOT_FOUND');
    expect((await failure(ORG, { id: s.org.id }, `ok_${'A'.repeat(43)}`)).code).toBe('UNAUTHENTICATED');
    expect((await sql('SELECT revoked_at FROM api_keys WHERE id = $1', [apiKey.id]))[0].revoked_at).toBeNull();
  });

  it('a key bound to a workspace disappears with it', async () => {
    const { secret } = (await ok(CREATE_KEY, { input: { organizationId: s.org.id, workspaceId: s.ws.other, name: 'bound', scopes: ['WORKSPACE_READ'] } }, s.owner)).createApiKey;
    await ok('mutation($id: ID!) { deleteWorkspace(id: $id) }', { id: s.ws.other }, s.owner);
    expect((await failure(ORG, { id: s.org.id }, secret)).code).toBe('UNAUTHENTICATED');
  });
});
