import { addMember, createOrganization, gql, newUser, ok, serviceToken, signToken, sql, unique } from './support/client';

/** The request failed cleanly: one documented code, never a 500 or an internal error. */
function expectCode(res: Awaited<ReturnType<typeof gql>>, code: string) {
  expect(res.status).toBeLessThan(500);
  expect(res.errors?.map((e) => e.extensions.code)).toEqual([code]);
}

describe('strings PostgreSQL cannot store are refused up front', () => {
  const owner = newUser();
  let org: { id: string; slug: string };
  beforeAll(async () => {
    org = await createOrganization(owner, 'Hostile');
  });

  it.each([
    ['a variable', 'query($s: String!) { organizationBySlug(slug: $s) { id } }', { s: 'a\u0000b' }, 's'],
    ['a nested input variable', 'mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id } }', { i: { name: 'x\u0000' } }, 'name'],
    ['a literal', 'query { organizationBySlug(slug: "a\\u0000b") { id } }', {}, 'slug'],
    ['a literal inside an input object', 'mutation { createOrganization(input: { name: "a\\u0000b" }) { id } }', {}, 'name'],
  ])('NUL in %s: BAD_USER_INPUT naming it', async (_label, query, variables, field) => {
    const res = await gql(query, variables, owner);
    expectCode(res, 'BAD_USER_INPUT');
    expect(res.errors![0].extensions.field).toBe(field);
  });

  it('NUL in a search or an audit filter', async () => {
    expectCode(await gql('query($id: ID!) { organization(id: $id) { members(search: "a\\u0000") { totalCount } } }', { id: org.id }, owner), 'BAD_USER_INPUT');
    expectCode(await gql('query($id: ID!, $f: AuditEventFilter) { organization(id: $id) { auditEvents(filter: $f) { totalCount } } }', { id: org.id, f: { actions: ['\u0000'] } }, owner), 'BAD_USER_INPUT');
  });

  it('a date PostgreSQL cannot store', async () => {
    const res = await gql('query($id: ID!, $f: AuditEventFilter) { organization(id: $id) { auditEvents(filter: $f) { totalCount } } }', { id: org.id, f: { since: '0000-01-01T00:00:00Z' } }, owner);
    expectCode(res, 'BAD_USER_INPUT');
    expect(res.errors![0].extensions.field).toBe('since');
  });
});

describe('strings with an unpaired surrogate are refused up front (found by test/fuzz.test.ts)', () => {
  // The driver stores U+FFFD in place of a lone surrogate: not what was sent, and an audit event
  // hashed over what was sent no longer verifies.
  const INTEGRITY = 'query($id: ID!) { organization(id: $id) { auditIntegrity { verified eventsChecked } } }';
  const owner = newUser();
  let org: { id: string; slug: string };
  beforeAll(async () => {
    org = await createOrganization(owner, 'Surrogates');
  });

  it.each([
    ['a high surrogate in a variable', 'mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { id } }', () => ({ i: { id: org.id, name: 'x\ud800' } }), 'name'],
    ['a low surrogate in a list', 'mutation($i: InviteMembersInput!) { inviteMembers(input: $i) { id } }', () => ({ i: { organizationId: org.id, emails: ['a\udc00@example.test'] } }), 'emails'],
    [
      'a surrogate in a JSON key',
      'mutation($i: RecordAuditEventInput!) { recordAuditEvent(input: $i) { id } }',
      () => ({ i: { organizationId: org.id, action: 'hostile-audit.model.invoked', metadata: { ['k\ud83d']: 1 }, idempotencyKey: unique('k') } }),
      'k\ud83d',
    ],
  ])('%s: BAD_USER_INPUT naming it', async (_label, query, variables, field) => {
    const res = await gql(query, variables(), query.includes('recordAuditEvent') ? serviceToken('hostile-audit', 'audit:write') : owner);
    expectCode(res, 'BAD_USER_INPUT');
    expect(res.errors![0].extensions.field).toBe(field);
  });

  it('a partner\'s audit event with one is refused, and the chain still verifies', async () => {
    const clientId = unique('audit');
    const service = serviceToken(clientId, 'audit:write');
    const RECORD = 'mutation($i: RecordAuditEventInput!) { recordAuditEvent(input: $i) { id } }';
    const res = await gql(RECORD, { i: { organizationId: org.id, action: `${clientId}.model.invoked`, target: { type: 'Model', id: 'x\ud83dy' }, idempotencyKey: unique('k') } }, service);
    expectCode(res, 'BAD_USER_INPUT');
    expect(res.errors![0].extensions.field).toBe('id');
    await ok(RECORD, { i: { organizationId: org.id, action: `${clientId}.model.invoked`, target: { type: 'Model', id: 'x\ud83d\ude00y' }, idempotencyKey: unique('k') } }, service);
    expect((await ok(INTEGRITY, { id: org.id }, owner)).organization.auditIntegrity).toEqual({ verified: true, eventsChecked: 2 });
  });

  it('a surrogate pair (an emoji) is stored as it is', async () => {
    const res = await ok('mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { name } }', { i: { id: org.id, name: 'Rocket \ud83d\ude80' } }, owner);
    expect(res.updateOrganization.name).toBe('Rocket 🚀');
  });
});

describe('_entities takes only representations of our entities', () => {
  const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Organization { id } ... on User { id } } }';
  it.each([
    ['an unknown type', [{ __typename: 'Nope', id: 'x' }]],
    ['no __typename', [{ id: 'x' }]],
    ['a type that is not an entity', [{ __typename: 'Viewer', id: 'x' }]],
    ['a key that is not a string', [{ __typename: 'Organization', slug: 5 }]],
    ['a null key', [{ __typename: 'Organization', id: null }]],
    ['an object as a key', [{ __typename: 'User', id: { a: 1 } }]],
  ])('%s: BAD_USER_INPUT', async (_label, representations) => {
    expectCode(await gql(ENTITIES, { r: representations }, newUser()), 'BAD_USER_INPUT');
  });
  // Every name a plain object inherits: a look-up keyed by the client's string must not find it.
  it.each(Object.getOwnPropertyNames(Object.prototype))('__typename "%s": BAD_USER_INPUT, not a 500', async (typename) => {
    expectCode(await gql(ENTITIES, { r: [{ __typename: typename, id: 'x', slug: 'x' }] }, newUser()), 'BAD_USER_INPUT');
  });
});

describe('token claims that cannot be stored faithfully', () => {
  it.each([
    ['a NUL in the subject', { sub: 'u\u0000x', email: 'n@x.test' }],
    ['a NUL in the email', { sub: unique('u'), email: 'n\u0000@x.test' }],
    ['a NUL in the name', { sub: unique('u'), email: 'nn@x.test', name: 'A\u0000' }],
    // Stored as U+FFFD, it would also break the personal organization's audit chain from its first event.
    ['an unpaired surrogate in the name', { sub: unique('u'), email: 'sn@x.test', name: 'A\ud800 B' }],
    ['an unpaired surrogate in the subject', { sub: `${unique('u')}\udc00`, email: 'ss@x.test' }],
    ['a subject with spaces around it', { sub: ` ${unique('u')} `, email: 's@x.test' }],
    ['a subject of 256 characters', { sub: 'u'.repeat(256), email: 'l@x.test' }],
  ])('%s: UNAUTHENTICATED, not a 500', async (_label, claims) => {
    expectCode(await gql('{ viewer { id } }', {}, signToken(claims)), 'UNAUTHENTICATED');
  });
});

describe('switchOrganization racing deleteOrganization', () => {
  it('each switch either succeeds or is NOT_FOUND (10 rounds of 1 delete against 3 switches)', async () => {
    for (let round = 0; round < 10; round++) {
      const owner = newUser();
      const org = await createOrganization(owner, 'Vanishing');
      const members = [newUser(), newUser(), newUser()];
      for (const m of members) await addMember(org.id, m, 'VIEWER');
      const SWITCH = 'mutation($id: ID!) { switchOrganization(organizationId: $id) { id } }';
      const results = await Promise.all([
        gql('mutation($id: ID!, $s: String!) { deleteOrganization(id: $id, confirmSlug: $s) }', { id: org.id, s: org.slug }, owner),
        ...members.map((m) => gql(SWITCH, { id: org.id }, m)),
      ]);
      expect(results[0].data).toEqual({ deleteOrganization: true });
      for (const res of results.slice(1)) expect(['NOT_FOUND', undefined]).toContain(res.errors?.[0]?.extensions.code);
    }
  });
});

describe('a mutation is one transaction with its audit event', () => {
  it('when the change fails after its event was written, neither stays', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Atomic');
    // Make the organization's DELETE fail inside the transaction, after the audit insert.
    const fn = `fail_delete_${org.id.replace(/-/g, '')}`;
    await sql(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$`);
    await sql(`CREATE TRIGGER ${fn} BEFORE DELETE ON organizations FOR EACH ROW WHEN (OLD.id = '${org.id}') EXECUTE FUNCTION ${fn}()`);
    try {
      const res = await gql('mutation($id: ID!, $s: String!) { deleteOrganization(id: $id, confirmSlug: $s) }', { id: org.id, s: org.slug }, owner);
      expectCode(res, 'INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(res.errors)).not.toMatch(/refused by test/);
      expect(await sql(`SELECT 1 FROM audit_events WHERE organization_id = $1 AND action = 'organization.deleted'`, [org.id])).toHaveLength(0);
      expect(await sql('SELECT 1 FROM organizations WHERE id = $1', [org.id])).toHaveLength(1);
    } finally {
      await sql(`DROP TRIGGER ${fn} ON organizations`);
      await sql(`DROP FUNCTION ${fn}()`);
    }
    // And the same delete, unhindered, leaves exactly its one event.
    await ok('mutation($id: ID!, $s: String!) { deleteOrganization(id: $id, confirmSlug: $s) }', { id: org.id, s: org.slug }, owner);
    expect(await sql(`SELECT 1 FROM audit_events WHERE organization_id = $1 AND action = 'organization.deleted'`, [org.id])).toHaveLength(1);
  });
});
