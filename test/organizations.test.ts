import { addMember, createOrganization, CREATE_ORG, failure, gql, newUser, ok, sql, touch, type TestUser } from './support/client';
import { startServer } from './support/servers';

const UPDATE = 'mutation($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { id slug name description discoverable } }';
const DELETE = 'mutation($id: ID!, $confirmSlug: String!) { deleteOrganization(id: $id, confirmSlug: $confirmSlug) }';

/** What a user has written: their memberships (one per organization they made) and audit events. */
async function footprint(user: TestUser) {
  const [row] = await sql(
    `SELECT (SELECT count(*) FROM memberships WHERE user_id = $1)::int AS memberships,
            (SELECT count(*) FROM audit_events WHERE actor_id = $1)::int AS events`,
    [user.id],
  );
  return row;
}

describe('createOrganization', () => {
  it('creates a TEAM organization with the caller as OWNER, trimmed, slug lower-cased, audited', async () => {
    const owner = newUser();
    const slug = `Acme-${Date.now()}`;
    const { createOrganization } = await ok(CREATE_ORG, { input: { name: '  Acme Inc  ', slug, description: ' Rockets ' } }, owner);
    expect(createOrganization).toMatchObject({ name: 'Acme Inc', slug: slug.toLowerCase(), kind: 'TEAM', viewerRole: 'OWNER' });
    const [event] = await sql('SELECT action, actor_type, actor_id, target_id FROM audit_events WHERE organization_id = $1', [createOrganization.id]);
    expect(event).toEqual({ action: 'organization.created', actor_type: 'USER', actor_id: owner.id, target_id: createOrganization.id });
    const { viewer } = await ok('{ viewer { memberships { nodes { role organization { id } } } } }', {}, owner);
    expect(viewer.memberships.nodes).toContainEqual({ role: 'OWNER', organization: { id: createOrganization.id } });
  });

  it('derives a free slug from the name when none is given', async () => {
    const owner = newUser();
    const name = `Blue Sky ${Date.now()}`;
    const first = await createOrganization(owner, name);
    const second = await createOrganization(owner, name);
    expect(first.slug).toBe(name.toLowerCase().replace(/ /g, '-'));
    expect(second.slug).toMatch(new RegExp(`^${first.slug}-[a-z0-9]{6}$`));
  });

  it('derives a usable slug from a name with nothing Latin in it', async () => {
    const { slug } = await createOrganization(newUser(), '株式会社');
    expect(slug).toMatch(/^org-[a-z0-9]{6}$/);
  });

  it.each([
    ['ab', 'too short'],
    ['a'.repeat(49), 'too long'],
    ['-abc', 'leading hyphen'],
    ['abc-', 'trailing hyphen'],
    ['ab--cd', 'double hyphen'],
    ['ab_cd', 'underscore'],
    ['ab cd', 'space'],
    ['admin', 'reserved'],
    ['api', 'reserved'],
    ['www', 'reserved'],
  ])('refuses slug %j (%s) with BAD_USER_INPUT on field slug, writing nothing', async (slug) => {
    const owner = newUser();
    await touch(owner);
    const before = await footprint(owner);
    const res = await failure(CREATE_ORG, { input: { name: 'X', slug } }, owner);
    expect(res).toMatchObject({ code: 'BAD_USER_INPUT', field: 'slug' });
    expect(await footprint(owner)).toEqual(before);
  });

  it('keeps slugs unique case-insensitively: CONFLICT, and nothing half-written', async () => {
    const owner = newUser();
    await touch(owner);
    const slug = `unique-${Date.now()}`;
    await ok(CREATE_ORG, { input: { name: 'First', slug } }, owner);
    const before = await footprint(owner);
    const res = await failure(CREATE_ORG, { input: { name: 'Second', slug: slug.toUpperCase() } }, owner);
    expect(res).toMatchObject({ code: 'CONFLICT', field: 'slug' });
    expect(await footprint(owner)).toEqual(before);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank'],
    ['x'.repeat(101), '101 characters'],
    ['x'.repeat(1000), '1,000 characters'],
    ['bad\u0000name', 'a NUL byte'],
  ])('refuses name %j (%s) with BAD_USER_INPUT on field name', async (name) => {
    const owner = newUser();
    await touch(owner);
    const before = await footprint(owner);
    expect(await failure(CREATE_ORG, { input: { name } }, owner)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(await footprint(owner)).toEqual(before);
  });

  it('refuses a description over 1,000 characters', async () => {
    expect(await failure(CREATE_ORG, { input: { name: 'X', description: 'd'.repeat(1001) } }, newUser())).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'description',
    });
  });

  it('refuses a wrongly typed input with BAD_USER_INPUT', async () => {
    const res = await gql(CREATE_ORG, { input: { name: 42 } }, newUser());
    expect(res.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('reading an organization', () => {
  let owner: TestUser;
  let org: { id: string; slug: string };
  beforeAll(async () => {
    owner = newUser();
    org = await createOrganization(owner, 'Readable');
  });

  it('by id and by slug (any case) for a member', async () => {
    const byId = await ok('query($id: ID!) { organization(id: $id) { id slug domain } }', { id: org.id }, owner);
    expect(byId.organization).toEqual({ id: org.id, slug: org.slug, domain: null });
    const bySlug = await ok('query($s: String!) { organizationBySlug(slug: $s) { id } }', { s: org.slug.toUpperCase() }, owner);
    expect(bySlug.organizationBySlug).toEqual({ id: org.id });
  });

  it('is NOT_FOUND for anyone else, exactly like an organization that does not exist', async () => {
    const stranger = newUser();
    const existing = await failure('query($id: ID!) { organization(id: $id) { id name } }', { id: org.id }, stranger);
    const missing = await failure('query($id: ID!) { organization(id: $id) { id name } }', { id: '01900000-0000-7000-8000-000000000000' }, stranger);
    const malformed = await failure('query($id: ID!) { organization(id: $id) { id name } }', { id: 'not-a-uuid' }, stranger);
    for (const res of [existing, missing, malformed]) expect(res).toMatchObject({ code: 'NOT_FOUND', message: 'Organization not found', data: { organization: null } });
    expect((await failure('query($s: String!) { organizationBySlug(slug: $s) { id } }', { s: org.slug }, stranger)).code).toBe('NOT_FOUND');
  });

  it('is UNAUTHENTICATED without a token', async () => {
    expect((await failure('query($id: ID!) { organization(id: $id) { id } }', { id: org.id })).code).toBe('UNAUTHENTICATED');
  });
});

describe('updateOrganization', () => {
  it('changes name, slug, description and discoverable, with before and after in the audit event', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Before');
    const slug = `after-${Date.now()}`;
    const { updateOrganization } = await ok(UPDATE, { input: { id: org.id, name: 'After', slug, description: 'Now described', discoverable: true } }, owner);
    expect(updateOrganization).toEqual({ id: org.id, slug, name: 'After', description: 'Now described', discoverable: true });
    const [event] = await sql(`SELECT metadata FROM audit_events WHERE organization_id = $1 AND action = 'organization.updated'`, [org.id]);
    expect(event.metadata.changes).toEqual({
      name: { before: 'Before', after: 'After' },
      slug: { before: org.slug, after: slug },
      description: { before: null, after: 'Now described' },
      discoverable: { before: false, after: true },
    });
  });

  it('lets an ADMIN update, not a VIEWER or DEVELOPER (FORBIDDEN), and hides it from strangers (NOT_FOUND)', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Guarded');
    const [admin, viewer, developer] = [newUser(), newUser(), newUser()];
    await addMember(org.id, admin, 'ADMIN');
    await addMember(org.id, viewer, 'VIEWER');
    await addMember(org.id, developer, 'DEVELOPER');
    expect((await ok(UPDATE, { input: { id: org.id, name: 'By admin' } }, admin)).updateOrganization.name).toBe('By admin');
    expect((await failure(UPDATE, { input: { id: org.id, name: 'By viewer' } }, viewer)).code).toBe('FORBIDDEN');
    expect((await failure(UPDATE, { input: { id: org.id, name: 'By developer' } }, developer)).code).toBe('FORBIDDEN');
    expect((await failure(UPDATE, { input: { id: org.id, name: 'By stranger' } }, newUser())).code).toBe('NOT_FOUND');
    const [row] = await sql('SELECT name FROM organizations WHERE id = $1', [org.id]);
    expect(row.name).toBe('By admin');
  });

  it('refuses a taken slug with CONFLICT and changes nothing', async () => {
    const owner = newUser();
    const taken = await createOrganization(owner, 'Taken');
    const org = await createOrganization(owner, 'Mine');
    expect(await failure(UPDATE, { input: { id: org.id, name: 'Renamed too', slug: taken.slug } }, owner)).toMatchObject({ code: 'CONFLICT', field: 'slug' });
    const [row] = await sql('SELECT name, slug FROM organizations WHERE id = $1', [org.id]);
    expect(row).toEqual({ name: 'Mine', slug: org.slug });
  });

  it('writes no event when nothing changes', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Same');
    await ok(UPDATE, { input: { id: org.id, name: 'Same' } }, owner);
    expect(await sql(`SELECT 1 FROM audit_events WHERE organization_id = $1 AND action = 'organization.updated'`, [org.id])).toHaveLength(0);
  });
});

describe('deleteOrganization', () => {
  it('needs the slug repeated, is OWNER-only, and keeps the audit trail', async () => {
    const owner = newUser();
    const admin = newUser();
    const org = await createOrganization(owner, 'Doomed');
    await addMember(org.id, admin, 'ADMIN');
    expect(await failure(DELETE, { id: org.id, confirmSlug: 'wrong-slug' }, owner)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'confirmSlug' });
    expect((await failure(DELETE, { id: org.id, confirmSlug: org.slug }, admin)).code).toBe('FORBIDDEN');
    expect((await failure(DELETE, { id: org.id, confirmSlug: org.slug }, newUser())).code).toBe('NOT_FOUND');
    expect(await sql('SELECT 1 FROM organizations WHERE id = $1', [org.id])).toHaveLength(1);

    expect(await ok(DELETE, { id: org.id, confirmSlug: org.slug }, owner)).toEqual({ deleteOrganization: true });
    expect((await failure('query($id: ID!) { organization(id: $id) { id } }', { id: org.id }, owner)).code).toBe('NOT_FOUND');
    expect(await sql('SELECT 1 FROM memberships WHERE organization_id = $1', [org.id])).toHaveLength(0);
    const events = await sql('SELECT action FROM audit_events WHERE organization_id = $1 ORDER BY id', [org.id]);
    expect(events.map((e) => e.action)).toEqual(['organization.created', 'organization.deleted']);
  });
});

describe('BASE_DOMAIN', () => {
  it('gives each organization <slug>.<BASE_DOMAIN>', async () => {
    const server = await startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL, BASE_DOMAIN: 'orgs.example.com' });
    try {
      const owner = newUser();
      const res = await gql<{ createOrganization: { slug: string; domain: string } }>(
        'mutation { createOrganization(input: { name: "Domained" }) { slug domain } }',
        {},
        owner,
        { url: server.url },
      );
      expect(res.data!.createOrganization.domain).toBe(`${res.data!.createOrganization.slug}.orgs.example.com`);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});
