import { addMember, createOrganization, newUser, ok, serverUrl, serviceToken } from './support/client';
import { issue } from './support/organization-tokens';
import { startPartner, type Partner } from './support/partner';

const CREATE_WORKSPACE = 'mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }';
const SET_ACCESS = 'mutation($input: SetWorkspaceAccessInput!) { setWorkspaceAccess(input: $input) { id } }';

/**
 * examples/partner-authorize.ts, run as a user runs it against the running server: a sandbox
 * platform enforcing sandboxes:create in a workspace through `authorize` and through an
 * organization token — and both agree.
 */
describe('examples/partner-authorize.ts', () => {
  let partner: Partner;
  const owner = newUser('Owner Partner');
  const developer = newUser('Developer Partner');
  const viewer = newUser('Viewer Partner');
  let org: string;
  let ws: string;
  let developerMembership: string;

  const online = async (who: { id: string }, workspaceId = ws) => {
    const res = await fetch(`${partner.url}/organizations/${org}/workspaces/${workspaceId}/sandboxes`, { method: 'POST', headers: { 'x-user-id': who.id } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    partner = await startPartner(serverUrl(), { AUTHZ_SERVICE_TOKEN: serviceToken('sandboxes', 'authz:check') }, 'examples/partner-authorize.ts');
    org = (await createOrganization(owner, 'Sandbox Platform')).id;
    developerMembership = await addMember(org, developer, 'DEVELOPER');
    const viewerMembership = await addMember(org, viewer, 'VIEWER');
    ws = (await ok(CREATE_WORKSPACE, { input: { organizationId: org, name: 'Sandboxes' } }, owner)).createWorkspace.id;
    for (const m of [developerMembership, viewerMembership]) await ok(SET_ACCESS, { input: { membershipId: m, workspaces: [{ workspaceId: ws }] } }, owner);
  });
  afterAll(() => partner?.stop());

  it('lets a DEVELOPER of the workspace create sandboxes, both ways', async () => {
    expect(await online(developer)).toEqual({ status: 201, body: { created: true, organizationId: org, workspaceId: ws, checkedBy: 'authorize' } });
    const { token } = await issue(developer, org, ws);
    expect(await partner.createSandbox(ws, token)).toMatchObject({ status: 201, body: { created: true, workspaceId: ws, userId: developer.id } });
  });

  it('refuses a VIEWER of the workspace, both ways, with the reason', async () => {
    expect(await online(viewer)).toEqual({ status: 403, body: { error: 'sandboxes:create is needed in this workspace', reason: 'MISSING_PERMISSION' } });
    const { token } = await issue(viewer, org, ws);
    expect(await partner.createSandbox(ws, token)).toEqual({ status: 403, body: { error: 'sandboxes:create is needed in this workspace' } });
  });

  it('refuses someone outside, and another workspace\'s token', async () => {
    expect((await online(newUser())).body.reason).toBe('UNKNOWN_SUBJECT');
    const other = (await ok(CREATE_WORKSPACE, { input: { organizationId: org, name: 'Other' } }, owner)).createWorkspace.id;
    expect((await online(developer, other)).body.reason).toBe('NO_WORKSPACE_ACCESS');
    const { token } = await issue(owner, org, other);
    expect((await partner.createSandbox(ws, token)).status).toBe(403);
  });

  it('sees a demotion at once through authorize; a token issued after it says the same', async () => {
    const demoted = newUser('Demoted Partner');
    const membership = await addMember(org, demoted, 'DEVELOPER');
    await ok(SET_ACCESS, { input: { membershipId: membership, workspaces: [{ workspaceId: ws, roleOverride: 'DEVELOPER' }] } }, owner);
    expect((await online(demoted)).status).toBe(201);
    await ok(SET_ACCESS, { input: { membershipId: membership, workspaces: [{ workspaceId: ws, roleOverride: 'VIEWER' }] } }, owner);
    expect(await online(demoted)).toMatchObject({ status: 403, body: { reason: 'MISSING_PERMISSION' } });
    expect((await partner.createSandbox(ws, (await issue(demoted, org, ws)).token)).status).toBe(403);
  });
});
