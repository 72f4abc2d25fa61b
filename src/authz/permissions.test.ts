import { grantRefusal, organizationKeysOf, sortKeys, workspaceKeysOf } from './effective-permissions';
import { Assignment, OrganizationRole as R, Permission as P, permissionsOf, ROLE_PERMISSIONS, WorkspaceRole as W } from './permissions';

describe('role table (API.md)', () => {
  it('OWNER holds every permission', () => {
    expect(ROLE_PERMISSIONS.OWNER.size).toBe(Object.keys(P).length);
  });

  it('ADMIN holds all but billing, BYOK, deletion, transfer, audit and SSO', () => {
    const lacks = Object.values(P).filter((p) => !ROLE_PERMISSIONS.ADMIN.has(p));
    expect(lacks.sort()).toEqual([P.AUDIT_READ, P.BILLING_MANAGE, P.BILLING_READ, P.BYOK_MANAGE, P.ORGANIZATION_DELETE, P.OWNERSHIP_TRANSFER, P.SSO_MANAGE].sort());
  });

  it('DEVELOPER, VIEWER and GUEST hold only their organization-wide permissions', () => {
    expect([...ROLE_PERMISSIONS.DEVELOPER]).toEqual([P.MEMBERS_READ, P.API_KEYS_MANAGE]);
    expect([...ROLE_PERMISSIONS.VIEWER]).toEqual([P.MEMBERS_READ]);
    expect(ROLE_PERMISSIONS.GUEST.size).toBe(0);
  });

  it.each([
    [Assignment.AUDITOR, [P.AUDIT_READ]],
    [Assignment.BILLING_MANAGER, [P.BILLING_READ, P.BILLING_MANAGE]],
    [Assignment.WORKSPACES_ADMIN, [P.WORKSPACES_CREATE, P.WORKSPACES_MANAGE, P.WORKSPACES_ACCESS_ALL]],
    [Assignment.MEMBERS_ADMIN, [P.MEMBERS_INVITE, P.MEMBERS_MANAGE]],
  ])('assignment %s adds %j to a VIEWER', (assignment, added) => {
    expect([...permissionsOf(R.VIEWER, [assignment])].sort()).toEqual([P.MEMBERS_READ, ...added].sort());
  });

  it('assignments never widen a GUEST', () => {
    expect(permissionsOf(R.GUEST, [Assignment.AUDITOR, Assignment.MEMBERS_ADMIN]).size).toBe(0);
  });
});

describe('grantRefusal', () => {
  const g = (role: R, assignments: Assignment[] = []) => ({ role, assignments });

  it('only an OWNER makes, changes or removes an OWNER', () => {
    expect(grantRefusal(g(R.OWNER), g(R.ADMIN), g(R.OWNER))).toBeUndefined();
    expect(grantRefusal(g(R.OWNER), g(R.OWNER), undefined)).toBeUndefined();
    expect(grantRefusal(g(R.ADMIN), g(R.ADMIN), g(R.OWNER))).toMatch(/OWNER/);
    expect(grantRefusal(g(R.ADMIN), g(R.OWNER), g(R.VIEWER))).toMatch(/OWNER/);
    expect(grantRefusal(g(R.ADMIN), g(R.OWNER), undefined)).toMatch(/OWNER/);
  });

  it('nobody grants what they do not hold', () => {
    expect(grantRefusal(g(R.ADMIN), g(R.VIEWER), g(R.VIEWER, [Assignment.AUDITOR]))).toMatch(/grant/);
    expect(grantRefusal(g(R.ADMIN), g(R.VIEWER), g(R.VIEWER, [Assignment.BILLING_MANAGER]))).toMatch(/grant/);
    expect(grantRefusal(g(R.ADMIN), g(R.VIEWER), g(R.ADMIN, [Assignment.MEMBERS_ADMIN]))).toBeUndefined();
    expect(grantRefusal(g(R.DEVELOPER, [Assignment.MEMBERS_ADMIN]), g(R.VIEWER), g(R.ADMIN))).toMatch(/grant/);
    expect(grantRefusal(g(R.DEVELOPER, [Assignment.MEMBERS_ADMIN]), g(R.VIEWER), g(R.DEVELOPER))).toBeUndefined();
  });

  it('nobody changes or removes a member who holds more than they do', () => {
    expect(grantRefusal(g(R.DEVELOPER, [Assignment.MEMBERS_ADMIN]), g(R.ADMIN), g(R.VIEWER))).toMatch(/change/);
    expect(grantRefusal(g(R.ADMIN), g(R.VIEWER, [Assignment.AUDITOR]), undefined)).toMatch(/change/);
    expect(grantRefusal(g(R.ADMIN), g(R.DEVELOPER), undefined)).toBeUndefined();
  });
});

describe('custom roles and product keys (effective-permissions.ts)', () => {
  const c = (role: R, rolePermissions: string[] = []) => ({ role, assignments: [], rolePermissions });

  it('a custom role\'s built-in permissions count; a GUEST gets none of them', () => {
    expect(permissionsOf(R.VIEWER, [], ['MEMBERS_INVITE', 'sandboxes:create'])).toContain(P.MEMBERS_INVITE);
    expect(permissionsOf(R.GUEST, [], ['MEMBERS_INVITE']).size).toBe(0);
    expect(organizationKeysOf(c(R.VIEWER, ['sandboxes:create', 'no-longer:in-catalog']))).toEqual(new Set(['MEMBERS_READ', 'registries:read', 'sandboxes:create']));
    expect(organizationKeysOf(c(R.GUEST, ['sandboxes:create']))).toEqual(new Set());
  });

  it('the rank rule counts them: MEMBERS_MANAGE through a role changes no OWNER and nobody holding more', () => {
    const manager = c(R.VIEWER, ['MEMBERS_MANAGE', 'ROLES_MANAGE']);
    expect(grantRefusal(manager, c(R.OWNER), c(R.VIEWER))).toMatch(/OWNER/);
    expect(grantRefusal(manager, c(R.ADMIN), c(R.VIEWER))).toMatch(/change/);
    expect(grantRefusal(manager, c(R.VIEWER, ['sandboxes:admin']), c(R.VIEWER))).toMatch(/change/);
    expect(grantRefusal(manager, c(R.VIEWER), c(R.VIEWER, ['MEMBERS_INVITE']))).toMatch(/grant/);
    expect(grantRefusal(manager, c(R.VIEWER), c(R.VIEWER, ['MEMBERS_MANAGE']))).toBeUndefined();
  });

  it('workspace keys: the workspace role\'s, the catalog\'s for that role, and WORKSPACE keys held organization-wide', () => {
    expect(workspaceKeysOf(new Set(['registries:read']), W.VIEWER)).toEqual(new Set(['WORKSPACE_READ', 'sandboxes:read', 'snapshots:read', 'volumes:read']));
    expect(workspaceKeysOf(new Set(['sandboxes:admin', 'registries:admin']), W.VIEWER)).toContain('sandboxes:admin');
    expect(workspaceKeysOf(new Set(['sandboxes:admin']), null).size).toBe(0);
    expect(sortKeys(['sandboxes:create', 'MEMBERS_READ', 'gone:key'])).toEqual(['MEMBERS_READ', 'sandboxes:create']);
  });
});
