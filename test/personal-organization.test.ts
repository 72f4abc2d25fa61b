import { failure, newUser, ok, signToken, sql, touch, unique } from './support/client';

const PERSONAL = '{ viewer { personalOrganization { id name kind slug viewerRole members { totalCount nodes { role user { id } } } } } }';

describe('personal organization', () => {
  it('is created on the first request, named after the user, with them as its only OWNER', async () => {
    const ada = newUser('Ada Lovelace');
    const { viewer } = await ok(PERSONAL, {}, ada);
    expect(viewer.personalOrganization).toMatchObject({
      name: "Ada's Organization",
      kind: 'PERSONAL',
      viewerRole: 'OWNER',
      members: { totalCount: 1, nodes: [{ role: 'OWNER', user: { id: ada.id } }] },
    });
    expect(viewer.personalOrganization.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('is named after the email when the token has no name', async () => {
    const id = unique('noname');
    const token = signToken({ sub: id, email: `grace.h@example.test`, email_verified: true });
    const { viewer } = await ok(PERSONAL, {}, token);
    expect(viewer.personalOrganization.name).toBe("grace.h's Organization");
  });

  it('is created exactly once when ten first requests arrive at the same moment', async () => {
    const user = newUser('Concurrent Carl');
    const results = await Promise.all(Array.from({ length: 10 }, () => ok(PERSONAL, {}, user)));
    const ids = new Set(results.map((r) => r.viewer.personalOrganization.id));
    expect(ids.size).toBe(1);
    const organizations = await sql('SELECT id FROM organizations WHERE personal_owner_id = $1', [user.id]);
    expect(organizations).toHaveLength(1);
    expect(await sql('SELECT id FROM memberships WHERE user_id = $1', [user.id])).toHaveLength(1);
    expect(await sql(`SELECT id FROM audit_events WHERE organization_id = $1 AND action = 'organization.created'`, [organizations[0].id])).toHaveLength(1);
  });

  describe('cannot be', () => {
    const user = newUser('Solo');
    let organization: { id: string; slug: string };
    beforeAll(async () => {
      organization = (await ok(PERSONAL, {}, user)).viewer.personalOrganization;
    });

    it('deleted', async () => {
      const res = await failure('mutation($id: ID!, $s: String!) { deleteOrganization(id: $id, confirmSlug: $s) }', { id: organization.id, s: organization.slug }, user);
      expect(res.code).toBe('FAILED_PRECONDITION');
    });

    it('left', async () => {
      const res = await failure('mutation($id: ID!) { leaveOrganization(organizationId: $id) }', { id: organization.id }, user);
      expect(res).toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringMatching(/personal/) });
    });

    it('transferred', async () => {
      const [own] = await sql('SELECT id FROM memberships WHERE organization_id = $1', [organization.id]);
      const res = await failure('mutation($o: ID!, $m: ID!) { transferOwnership(organizationId: $o, membershipId: $m) { id } }', { o: organization.id, m: own.id }, user);
      expect(res.code).toBe('FAILED_PRECONDITION');
    });

    it('made discoverable', async () => {
      const res = await failure('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: true }) { id } }', { id: organization.id }, user);
      expect(res.code).toBe('FAILED_PRECONDITION');
    });

    it('given away by demoting its owner', async () => {
      const [own] = await sql('SELECT id FROM memberships WHERE organization_id = $1', [organization.id]);
      const res = await failure('mutation($m: ID!) { updateMembership(input: { membershipId: $m, role: ADMIN }) { id } }', { m: own.id }, user);
      expect(res).toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringMatching(/personal/) });
    });

    afterAll(async () => {
      await touch(user);
      const [row] = await sql('SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1 AND role = $2', [organization.id, 'OWNER']);
      expect(row.n).toBe(1);
    });
  });

  it('can be renamed', async () => {
    const user = newUser('Renamer');
    const { viewer } = await ok(PERSONAL, {}, user);
    const res = await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, name: "My lab" }) { name kind } }', { id: viewer.personalOrganization.id }, user);
    expect(res.updateOrganization).toEqual({ name: 'My lab', kind: 'PERSONAL' });
  });
});
