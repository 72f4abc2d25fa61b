import { addMember, createOrganization, failure, gql, newUser, ok, serviceToken, sql, touch } from './support/client';

const AUTHORIZE = 'query($checks: [AuthorizationCheckInput!]!) { authorize(checks: $checks) { allowed reason } }';
const CREATE_WORKSPACE = 'mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }';
const SET_ACCESS = 'mutation($input: SetWorkspaceAccessInput!) { setWorkspaceAccess(input: $input) { id } }';
const CREATE_KEY = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }';
const service = serviceToken('sandboxes-service', 'authz:check');

describe('authorize', () => {
  const owner = newUser('Owner Authorize');
  const developer = newUser('Developer Authorize');
  const viewer = newUser('Viewer Authorize');
  const stranger = newUser('Stranger Authorize');
  let org: string;
  let ws: string;
  let otherWs: string;
  let elsewhereWs: string;
  let keys: { unbound: string; bound: string; revoked: string; expired: string };

  beforeAll(async () => {
    org = (await createOrganization(owner, 'Authorize')).id;
    const developerMembership = await addMember(org, developer, 'DEVELOPER');
    await addMember(org, viewer, 'VIEWER');
    await touch(stranger);
    ws = (await ok(CREATE_WORKSPACE, { input: { organizationId: org, name: 'Sandboxes' } }, owner)).createWorkspace.id;
    otherWs = (await ok(CREATE_WORKSPACE, { input: { organizationId: org, name: 'Other' } }, owner)).createWorkspace.id;
    await ok(SET_ACCESS, { input: { membershipId: developerMembership, workspaces: [{ workspaceId: ws }] } }, owner);
    const elsewhere = (await createOrganization(stranger, 'Elsewhere')).id;
    elsewhereWs = (await ok(CREATE_WORKSPACE, { input: { organizationId: elsewhere, name: 'Theirs' } }, stranger)).createWorkspace.id;
    const key = async (input: Record<string, unknown>) => (await ok(CREATE_KEY, { input: { organizationId: org, name: 'k', ...input } }, owner)).createApiKey.apiKey.id as string;
    keys = {
      unbound: await key({ scopes: ['MEMBERS_READ'], permissionKeys: ['registries:read', 'sandboxes:read'] }),
      bound: await key({ workspaceId: ws, scopes: ['WORKSPACE_READ'], permissionKeys: ['sandboxes:create'] }),
      revoked: await key({ scopes: ['MEMBERS_READ'] }),
      expired: await key({ scopes: ['MEMBERS_READ'] }),
    };
    await ok('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: keys.revoked }, owner);
    await sql(`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1`, [keys.expired]);
  });

  it('answers each check in input order, with a reason', async () => {
    const user = (userId: string, permission: string, workspaceId?: string) => ({ organizationId: org, userId, permission, workspaceId });
    const key = (apiKeyId: string, permission: string, workspaceId?: string) => ({ organizationId: org, apiKeyId, permission, workspaceId });
    const checks = [
      [user(developer.id, 'sandboxes:create', ws), true, 'ALLOWED'],
      [user(developer.id, 'sandboxes:create', otherWs), false, 'NO_WORKSPACE_ACCESS'],
      [user(developer.id, 'sandboxes:admin', ws), false, 'MISSING_PERMISSION'],
      [user(developer.id, 'sandboxes:create'), false, 'MISSING_PERMISSION'],
      [user(owner.id, 'sandboxes:create'), true, 'ALLOWED'],
      [user(owner.id, 'ORGANIZATION_DELETE'), true, 'ALLOWED'],
      [user(viewer.id, 'sandboxes:read', ws), false, 'NO_WORKSPACE_ACCESS'],
      [user(viewer.id, 'registries:read'), true, 'ALLOWED'],
      [user(viewer.id, 'MEMBERS_INVITE'), false, 'MISSING_PERMISSION'],
      [user(stranger.id, 'sandboxes:read'), false, 'NOT_A_MEMBER'],
      [user('nobody-at-all', 'sandboxes:read'), false, 'UNKNOWN_SUBJECT'],
      [user(owner.id, 'sandboxes:read', elsewhereWs), false, 'UNKNOWN_WORKSPACE'],
      [user(owner.id, 'sandboxes:read', 'not-a-uuid'), false, 'UNKNOWN_WORKSPACE'],
      [{ ...user(owner.id, 'sandboxes:read'), organizationId: '00000000-0000-7000-8000-000000000000' }, false, 'UNKNOWN_ORGANIZATION'],
      [key(keys.unbound, 'registries:read'), true, 'ALLOWED'],
      [key(keys.unbound, 'sandboxes:read', ws), true, 'ALLOWED'],
      [key(keys.unbound, 'sandboxes:create', ws), false, 'MISSING_PERMISSION'],
      [key(keys.bound, 'sandboxes:create', ws), true, 'ALLOWED'],
      [key(keys.bound, 'sandboxes:create', otherWs), false, 'NO_WORKSPACE_ACCESS'],
      [key(keys.bound, 'sandboxes:create'), false, 'MISSING_PERMISSION'],
      [key(keys.revoked, 'MEMBERS_READ'), false, 'KEY_REVOKED'],
      [key(keys.expired, 'MEMBERS_READ'), false, 'KEY_EXPIRED'],
      [key('00000000-0000-7000-8000-000000000000', 'MEMBERS_READ'), false, 'UNKNOWN_SUBJECT'],
      [{ ...key(keys.unbound, 'MEMBERS_READ'), organizationId: (await createOrganization(owner, 'Second')).id }, false, 'NOT_A_MEMBER'],
    ] as const;
    const { authorize } = await ok(AUTHORIZE, { checks: checks.map(([c]) => c) }, service);
    expect(authorize).toEqual(checks.map(([, allowed, reason]) => ({ allowed, reason })));
  });

  it('sees a custom role and a role change on the very next call', async () => {
    const member = newUser('Changing Authorize');
    const membership = await addMember(org, member, 'VIEWER');
    const check = [{ organizationId: org, userId: member.id, permission: 'snapshots:admin', workspaceId: otherWs }];
    expect((await ok(AUTHORIZE, { checks: check }, service)).authorize).toEqual([{ allowed: false, reason: 'NO_WORKSPACE_ACCESS' }]);
    const role = (await ok('mutation($id: ID!) { createRole(input: { organizationId: $id, key: "snapshot-admins", name: "Snapshot admins", permissions: ["snapshots:admin", "WORKSPACES_MANAGE"] }) { id } }', { id: org }, owner)).createRole.id;
    await ok('mutation($m: ID!, $r: [ID!]) { updateMembership(input: { membershipId: $m, roleIds: $r }) { id } }', { m: membership, r: [role] }, owner);
    // WORKSPACES_MANAGE through the role makes it ADMIN in every workspace; snapshots:admin is the role's.
    expect((await ok(AUTHORIZE, { checks: check }, service)).authorize).toEqual([{ allowed: true, reason: 'ALLOWED' }]);
    await ok('mutation($id: ID!) { updateRole(input: { id: $id, permissions: [] }) { id } }', { id: role }, owner);
    expect((await ok(AUTHORIZE, { checks: check }, service)).authorize).toEqual([{ allowed: false, reason: 'NO_WORKSPACE_ACCESS' }]);
  });

  it('costs one statement per kind of subject, never one per check', async () => {
    const mixed = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        i % 3 === 2
          ? { organizationId: org, apiKeyId: keys.unbound, permission: 'sandboxes:read', workspaceId: i % 2 ? ws : null }
          : { organizationId: org, userId: [owner, developer, viewer, stranger][i % 4].id, permission: i % 2 ? 'sandboxes:create' : 'MEMBERS_READ', workspaceId: i % 5 ? ws : otherWs },
      );
    const statements = async (checks: unknown[]) => {
      const res = await gql(AUTHORIZE, { checks }, service);
      expect(res.errors).toBeUndefined();
      expect(res.headers.get('x-sql-statements')).toMatch(/^[1-9]\d*$/);
      return res.statements;
    };
    expect(await statements(mixed(3))).toBe(2);
    expect(await statements(mixed(100))).toBe(2);
    expect(await statements(mixed(100).filter((c) => c.userId))).toBe(1);
  });

  it('refuses more than 100 checks, an unknown permission key (naming it), and a check with no subject or two', async () => {
    const check = { organizationId: org, userId: owner.id, permission: 'MEMBERS_READ' };
    expect(await failure(AUTHORIZE, { checks: Array(101).fill(check) }, service)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'checks' });
    expect(await failure(AUTHORIZE, { checks: [check, { ...check, permission: 'sandboxes:launch' }] }, service)).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('checks[1]: unknown permission key "sandboxes:launch"'),
    });
    expect(await failure(AUTHORIZE, { checks: [{ organizationId: org, permission: 'MEMBERS_READ' }] }, service)).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await failure(AUTHORIZE, { checks: [{ ...check, apiKeyId: keys.unbound }] }, service)).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('is for services with authz:check only', async () => {
    const checks = [{ organizationId: org, userId: owner.id, permission: 'MEMBERS_READ' }];
    expect(await failure(AUTHORIZE, { checks }, serviceToken('other-service', 'events:read'))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failure(AUTHORIZE, { checks }, owner)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failure(AUTHORIZE, { checks }, null)).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
