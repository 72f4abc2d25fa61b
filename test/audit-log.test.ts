import { addMember, createOrganization, failure, newUser, ok, sql } from './support/client';

const EVENTS = `query($id: ID!, $first: Int, $after: String, $filter: AuditEventFilter) {
  organization(id: $id) { auditEvents(first: $first, after: $after, filter: $filter) {
    totalCount edges { cursor node { id action occurredAt actor { type id display } target { type id display } metadata requestId userAgent organization { id } } }
    pageInfo { hasNextPage endCursor }
  } }
}`;

describe('Organization.auditEvents', () => {
  it('lists every change newest first, keyset-paginated, with actor, target and request details', async () => {
    const owner = newUser('Auditor Owner');
    const org = await createOrganization(owner, 'Logged');
    const member = newUser();
    const membership = await addMember(org.id, member, 'VIEWER');
    for (const name of ['One', 'Two', 'Three']) await ok('mutation($id: ID!, $n: String!) { updateOrganization(input: { id: $id, name: $n }) { id } }', { id: org.id, n: name }, owner);
    await ok('mutation($m: ID!) { updateMembership(input: { membershipId: $m, role: DEVELOPER }) { id } }', { m: membership }, owner);

    const first = (await ok(EVENTS, { id: org.id, first: 2 }, owner)).organization.auditEvents;
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((e: any) => e.node.action)).toEqual(['member.role_changed', 'organization.updated']);
    expect(first.edges[0].node).toMatchObject({
      actor: { type: 'USER', id: owner.id, display: 'Auditor Owner' },
      target: { type: 'Membership', id: membership },
      organization: { id: org.id },
    });
    expect(first.edges[0].node.requestId).toEqual(expect.any(String));
    expect(first.pageInfo.hasNextPage).toBe(true);

    const rest = (await ok(EVENTS, { id: org.id, first: 10, after: first.pageInfo.endCursor }, owner)).organization.auditEvents;
    expect(rest.edges.map((e: any) => e.node.action)).toEqual(['organization.updated', 'organization.updated', 'organization.created']);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect(rest.edges[0].node.metadata.changes.name).toEqual({ before: 'One', after: 'Two' });

    const filtered = (await ok(EVENTS, { id: org.id, filter: { actions: ['organization.created', 'member.role_changed'] } }, owner)).organization.auditEvents;
    expect(filtered.edges.map((e: any) => e.node.action)).toEqual(['member.role_changed', 'organization.created']);
    const byTarget = (await ok(EVENTS, { id: org.id, filter: { targetType: 'Membership', targetId: membership } }, owner)).organization.auditEvents;
    expect(byTarget.totalCount).toBe(1);
    const future = (await ok(EVENTS, { id: org.id, filter: { since: new Date(Date.now() + 60_000).toISOString() } }, owner)).organization.auditEvents;
    expect(future.totalCount).toBe(0);
  });

  it('writes no event when a mutation fails', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Quiet');
    const before = await sql('SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1', [org.id]);
    await failure('mutation($id: ID!) { updateOrganization(input: { id: $id, slug: "no" }) { id } }', { id: org.id }, owner);
    await failure('mutation($id: ID!) { deleteOrganization(id: $id, confirmSlug: "nope") }', { id: org.id }, owner);
    expect(await sql('SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1', [org.id])).toEqual(before);
  });

  it('is for holders of AUDIT_READ only', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Private log');
    const admin = newUser();
    await addMember(org.id, admin, 'ADMIN');
    expect((await failure(EVENTS, { id: org.id }, admin)).code).toBe('FORBIDDEN');
    expect((await failure(EVENTS, { id: org.id }, newUser())).code).toBe('NOT_FOUND');
  });
});
