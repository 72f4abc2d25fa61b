import { createDecipheriv } from 'node:crypto';
import { addMember, createOrganization, failure, gql, newUser, ok, serverUrl, serviceToken, sql } from './support/client';
import { decode, issue, ISSUE } from './support/organization-tokens';
import { startPartner, type Partner } from './support/partner';
import { startServer } from './support/servers';

const CREATE_WORKSPACE = 'mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }';
const SET_ACCESS = 'mutation($input: SetWorkspaceAccessInput!) { setWorkspaceAccess(input: $input) { id } }';
const UPDATE = 'mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { id role } }';
const REMOVE = 'mutation($id: ID!) { removeMember(membershipId: $id) }';

/** The development ENCRYPTION_KEY the test server runs with (README). */
const DEV_ENCRYPTION_KEY = Buffer.from('ZGV2ZWxvcG1lbnQtb25seS1lbmNyeXB0aW9uLWtleSE=', 'base64');

describe('issueOrganizationToken', () => {
  let partner: Partner;
  const owner = newUser('Owner Tokens');
  const developer = newUser('Developer Tokens');
  const viewer = newUser('Viewer Tokens');
  const guest = newUser('Guest Tokens');
  const outsider = newUser('Outsider Tokens');
  let org: string;
  let assigned: string;
  let unassigned: string;
  const memberships: Record<string, string> = {};

  beforeAll(async () => {
    partner = await startPartner(serverUrl());
    org = (await createOrganization(owner, 'Tokens')).id;
    memberships.developer = await addMember(org, developer, 'DEVELOPER');
    memberships.viewer = await addMember(org, viewer, 'VIEWER');
    memberships.guest = await addMember(org, guest, 'GUEST');
    assigned = (await ok(CREATE_WORKSPACE, { input: { organizationId: org, name: 'Assigned' } }, owner)).createWorkspace.id;
    unassigned = (await ok(CREATE_WORKSPACE, { input: { organizationId: org, name: 'Unassigned' } }, owner)).createWorkspace.id;
    for (const who of ['developer', 'viewer', 'guest']) {
      await ok(SET_ACCESS, { input: { membershipId: memberships[who], workspaces: [{ workspaceId: assigned }] } }, owner);
    }
  });

  afterAll(() => partner?.stop());

  it('states who the member is and what it may do, as viewerPermissionKeys show (built-in and catalog keys), signed with a published ES256 key', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { token, expiresAt } = await issue(developer, org, assigned);
    const { header, payload } = decode(token);
    const shown = await ok(`query($org: ID!, $ws: ID!) { organization(id: $org) { viewerRole viewerPermissionKeys } workspace(id: $ws) { viewerPermissionKeys } }`, { org, ws: assigned }, developer);
    expect(header).toEqual({ alg: 'ES256', kid: expect.any(String), typ: 'JWT' });
    expect(payload).toEqual({
      sub: developer.id,
      iss: 'http://localhost:3000',
      aud: 'organization-token',
      iat: expect.any(Number),
      exp: payload.iat + 300,
      org_id: org,
      org_role: 'DEVELOPER',
      org_permissions: shown.organization.viewerPermissionKeys,
      ws_id: assigned,
      ws_permissions: shown.workspace.viewerPermissionKeys,
    });
    expect(payload.ws_permissions).toEqual(['WORKSPACE_READ', 'WORKSPACE_OPERATE', 'sandboxes:read', 'sandboxes:create', 'snapshots:read', 'snapshots:create', 'volumes:read']);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(new Date(expiresAt).getTime()).toBe(payload.exp * 1000);

    const jwks = await fetch(`${serverUrl()}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
    const { keys } = (await jwks.json()) as { keys: Record<string, string>[] };
    expect(keys).toContainEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: header.kid, alg: 'ES256', use: 'sig' });

    // A partner verifies it offline (jose.createRemoteJWKSet against this server) and lets the developer act there.
    expect(await partner.createSandbox(assigned, token)).toEqual({ status: 201, body: { created: true, organizationId: org, workspaceId: assigned, userId: developer.id, kid: header.kid } });
  });

  it('without a workspace, carries the organization only; the partner refuses it for a workspace', async () => {
    const { token } = await issue(owner, org);
    const { payload } = decode(token);
    expect(payload.org_role).toBe('OWNER');
    expect(payload.org_permissions).toContain('ORGANIZATION_DELETE');
    expect(payload).not.toHaveProperty('ws_id');
    expect(payload).not.toHaveProperty('ws_permissions');
    expect((await partner.createSandbox(assigned, token)).status).toBe(403);
  });

  it('a member without the permission in the workspace is refused by the partner; a forged or altered token too', async () => {
    const { token } = await issue(viewer, org, assigned);
    expect(decode(token).payload.ws_permissions).toEqual(['WORKSPACE_READ', 'sandboxes:read', 'snapshots:read', 'volumes:read']);
    expect(await partner.createSandbox(assigned, token)).toEqual({ status: 403, body: { error: 'sandboxes:create is needed in this workspace' } });

    // The viewer's token with the developer's permissions written in: the signature no longer matches.
    const [header, , signature] = token.split('.');
    const raised = Buffer.from(JSON.stringify({ ...decode(token).payload, ws_permissions: ['WORKSPACE_READ', 'WORKSPACE_OPERATE', 'sandboxes:create'] })).toString('base64url');
    expect(await partner.createSandbox(assigned, `${header}.${raised}.${signature}`)).toEqual({ status: 401, body: { error: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' } });
    // A user token of the test issuer is no organization token.
    expect((await partner.createSandbox(assigned, developer.token)).status).toBe(401);
  });

  it('a GUEST gets one for a workspace it is assigned to only', async () => {
    const { token } = await issue(guest, org, assigned);
    expect(decode(token).payload).toMatchObject({ org_role: 'GUEST', org_permissions: [], ws_id: assigned, ws_permissions: ['WORKSPACE_READ', 'sandboxes:read', 'snapshots:read', 'volumes:read'] });
    expect(await failure(ISSUE, { org }, guest)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failure(ISSUE, { org, ws: unassigned }, guest)).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('another organization, or its workspace, is NOT_FOUND; a bad id too', async () => {
    const elsewhere = (await createOrganization(outsider, 'Elsewhere')).id;
    const theirs = (await ok(CREATE_WORKSPACE, { input: { organizationId: elsewhere, name: 'Theirs' } }, outsider)).createWorkspace.id;
    expect(await failure(ISSUE, { org: elsewhere }, developer)).toMatchObject({ code: 'NOT_FOUND', message: 'Organization not found' });
    expect(await failure(ISSUE, { org, ws: theirs }, owner)).toMatchObject({ code: 'NOT_FOUND', message: 'Workspace not found' });
    expect(await failure(ISSUE, { org: 'nope' }, developer)).toMatchObject({ code: 'NOT_FOUND' });
    expect(await failure(ISSUE, { org, ws: 'nope' }, developer)).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('is for people: an API key and a partner service are FORBIDDEN, no token UNAUTHENTICATED', async () => {
    const key = (await ok('mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', { input: { organizationId: org, name: 'k', scopes: ['MEMBERS_READ'] } }, owner)).createApiKey.secret;
    expect(await failure(ISSUE, { org }, key)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failure(ISSUE, { org }, serviceToken('svc-tokens', 'authz:check'))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failure(ISSUE, { org }, null)).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('is no bearer token of this API, even for a server whose JWKS_URL publishes our keys', async () => {
    const { token } = await issue(owner, org);
    const trusting = await startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL, JWKS_URL: `${serverUrl()}/.well-known/jwks.json`, JWT_SECRET: undefined });
    try {
      const refused = await gql('{ viewer { id } }', {}, token, { url: trusting.url });
      expect(refused.errors?.[0]).toMatchObject({ message: expect.stringContaining('organization token'), extensions: { code: 'UNAUTHENTICATED' } });
    } finally {
      await trusting.stop();
    }
  });

  it('a role change shows in the next token; a removed member gets none', async () => {
    const member = newUser('Changing Tokens');
    const membership = await addMember(org, member, 'VIEWER');
    expect(decode((await issue(member, org)).token).payload).toMatchObject({ org_role: 'VIEWER', org_permissions: ['MEMBERS_READ', 'registries:read'] });
    await ok(UPDATE, { input: { membershipId: membership, role: 'ADMIN' } }, owner);
    const promoted = decode((await issue(member, org, unassigned)).token).payload;
    expect(promoted).toMatchObject({ org_role: 'ADMIN' });
    expect(promoted.ws_permissions).toEqual(expect.arrayContaining(['WORKSPACES_MANAGE', 'WORKSPACE_READ', 'WORKSPACE_OPERATE', 'sandboxes:create', 'sandboxes:admin']));
    expect(promoted.org_permissions).toEqual(expect.arrayContaining(['MEMBERS_MANAGE', 'registries:admin']));
    await ok(REMOVE, { id: membership }, owner);
    expect(await failure(ISSUE, { org }, member)).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('costs the statements of viewerPermissions: the membership, and the workspace with the assignment', async () => {
    await issue(owner, org);
    const organizationOnly = await gql(ISSUE, { org }, developer);
    const withWorkspace = await gql(ISSUE, { org, ws: assigned }, developer);
    expect([organizationOnly.errors, withWorkspace.errors]).toEqual([undefined, undefined]);
    // One more when this process's copy of the keys (10 seconds) is read again.
    expect(organizationOnly.statements).toBeLessThanOrEqual(1 + 1);
    expect(withWorkspace.statements).toBeLessThanOrEqual(2 + 1);
  });

  it('writes nothing: no audit event, no event', async () => {
    const [before] = await sql('SELECT (SELECT count(*) FROM audit_events WHERE organization_id = $1) AS audit, (SELECT count(*) FROM events WHERE organization_id = $1) AS events', [org]);
    const res = await gql(ISSUE, { org }, owner);
    expect(res.errors).toBeUndefined();
    const [after] = await sql('SELECT (SELECT count(*) FROM audit_events WHERE organization_id = $1) AS audit, (SELECT count(*) FROM events WHERE organization_id = $1) AS events', [org]);
    expect(after).toEqual(before);
  });

  it('keeps the private key sealed: never in the JWKS, never in the database in clear', async () => {
    const { header } = decode((await issue(owner, org)).token);
    const [row] = await sql('SELECT * FROM signing_keys WHERE kid = $1', [header.kid]);
    // Opened as the server opens it (AES-256-GCM under ENCRYPTION_KEY, the kid as associated data): a private EC key.
    const raw = Buffer.from(row.private_key, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', DEV_ENCRYPTION_KEY, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(`signing_key:${header.kid}`));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const jwk = JSON.parse(Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8'));
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', d: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), x: row.public_jwk.x });

    const everything = JSON.stringify(await sql('SELECT * FROM signing_keys'));
    expect(everything).not.toContain(jwk.d);
    expect(everything).not.toContain(Buffer.from(jwk.d, 'base64url').toString('hex'));
    const published = await (await fetch(`${serverUrl()}/.well-known/jwks.json`)).text();
    expect(published).not.toContain(jwk.d);
    expect(published).not.toMatch(/"d"/);
  });
});
