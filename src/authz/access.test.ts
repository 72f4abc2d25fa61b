import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal';
import type { MembershipEntity } from '../modules/membership/membership.entity';
import { accessLoaders, memberAccess } from './access';
import { OrganizationRole } from './permissions';

const user: Principal = { kind: 'user', userId: 'u', email: null, emailVerified: false, name: null, issuedAt: null, ssoOrgId: null };
const membership = (role: OrganizationRole) => ({ organizationId: 'org', role, assignments: [], organizationSsoEnforced: false }) as unknown as MembershipEntity;

/** Memberships read from a "database" the test answers when it wants. */
function setup() {
  let answer!: (rows: (MembershipEntity | null)[]) => void;
  let reads = 0;
  const viewerMembership = new DataLoader<string, MembershipEntity | null>(
    () => ((reads += 1), new Promise((resolve) => (answer = resolve))),
    { cache: false },
  );
  return { loaders: accessLoaders(user, viewerMembership, new Set()), answer: (rows: (MembershipEntity | null)[]) => answer(rows), reads: () => reads };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the access loader: one store the rules read at once', () => {
  it('answers with a promise until loaded, then at once with the same value', async () => {
    const { loaders, answer } = setup();
    const pending = loaders.accessNow('org');
    expect(pending).toBeInstanceOf(Promise);
    await tick();
    answer([membership(OrganizationRole.ADMIN)]);
    expect((await pending)?.role).toBe('ADMIN');
    await tick();
    expect(loaders.accessNow('org')).toMatchObject({ role: 'ADMIN' });
  });

  it('keeps what was primed while a read was under way: the later read never overwrites it', async () => {
    const { loaders, answer, reads } = setup();
    const pending = loaders.access.load('org');
    await tick();
    loaders.primeMembership('org', membership(OrganizationRole.VIEWER));
    answer([membership(OrganizationRole.OWNER)]);
    expect((await pending)?.role).toBe('OWNER');
    await tick();
    expect(loaders.accessNow('org')).toMatchObject({ role: 'VIEWER' });
    expect((await loaders.access.load('org'))?.role).toBe('VIEWER');
    expect(reads()).toBe(1);
  });

  it('knows a primed non-member at once: null, not a second read', async () => {
    const { loaders, reads } = setup();
    loaders.primeMembership('org', null);
    await tick();
    expect(loaders.accessNow('org')).toBeNull();
    expect(reads()).toBe(0);
  });
});

describe('SSO enforcement in memberAccess: the one place a person\'s access is computed', () => {
  const member = (role: OrganizationRole, organizationSsoEnforced: boolean | undefined) =>
    ({ organizationId: 'org', role, assignments: [], organizationSsoEnforced }) as unknown as MembershipEntity;
  const person = (ssoOrgId: string | null): Principal => ({ kind: 'user', userId: 'u', email: null, emailVerified: false, name: null, issuedAt: null, ssoOrgId });

  it('refuses a member without the claim of the organization (SSO_REQUIRED), admits one with it', () => {
    for (const claim of [null, 'another-org']) {
      expect(() => memberAccess(member(OrganizationRole.ADMIN, true), person(claim))).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN', reason: 'SSO_REQUIRED' }) }));
    }
    expect(memberAccess(member(OrganizationRole.ADMIN, true), person('org'))).toMatchObject({ role: 'ADMIN' });
    expect(memberAccess(member(OrganizationRole.ADMIN, true), person('org')).ssoBreakGlass).toBeUndefined();
    expect(memberAccess(member(OrganizationRole.VIEWER, false), person(null))).toMatchObject({ role: 'VIEWER' });
  });

  it('lets an OWNER in without it, marked as break-glass', () => {
    expect(memberAccess(member(OrganizationRole.OWNER, true), person(null))).toMatchObject({ role: 'OWNER', ssoBreakGlass: true });
  });

  it('refuses to judge a membership read without its organization\'s enforcement', () => {
    expect(() => memberAccess(member(OrganizationRole.VIEWER, undefined), person(null))).toThrow('sso_enforced');
  });

  it('the access loader records the break-glass before answering, and refuses when it could not', async () => {
    const recorded: string[] = [];
    const load = (breakGlass: (id: string) => Promise<void>) =>
      accessLoaders(person(null), new DataLoader(async (keys) => keys.map(() => member(OrganizationRole.OWNER, true)), { cache: false }), new Set(), breakGlass).access.load('org');
    expect(await load(async (id) => void recorded.push(id))).toMatchObject({ ssoBreakGlass: true });
    expect(recorded).toEqual(['org']);
    await expect(load(async () => Promise.reject(new Error('audit down')))).rejects.toThrow('audit down');
  });
});
