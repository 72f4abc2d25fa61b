import { createOrganization, gql, newUser } from './support/client';

const refused = (res: Awaited<ReturnType<typeof gql>>, pattern: RegExp) => {
  expect(res.status).toBe(400);
  expect(res.data ?? null).toBeNull();
  expect(res.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  expect(res.errors?.[0].message).toMatch(pattern);
};

describe('hostile queries are refused before execution', () => {
  const user = newUser();
  let orgId: string;
  beforeAll(async () => {
    orgId = (await createOrganization(user, 'Limits')).id;
  });

  it('deeper than 12 levels', async () => {
    let selection = 'id';
    for (let i = 0; i < 6; i++) selection = `organization { members(first: 1) { nodes { ${selection} } } }`;
    const res = await gql(`query($id: ID!) { organization(id: $id) { members(first: 1) { nodes { ${selection} } } } }`, { id: orgId }, user);
    refused(res, /levels deep; at most 12/);
  });

  it('more than 30 aliases', async () => {
    const fields = Array.from({ length: 31 }, (_, i) => `a${i}: viewer { id }`).join(' ');
    refused(await gql(`{ ${fields} }`, {}, user), /31 aliases; at most 30/);
  });

  it('more than 2,000 tokens', async () => {
    const fields = Array.from({ length: 2100 }, () => '__typename').join(' ');
    refused(await gql(`{ ${fields} }`, {}, user), /2000 tokens/);
  });

  it('lists multiplying past the cost limit, with first taken from the variables too', async () => {
    const q = `query($n: Int) { organization(id: "${'0'.repeat(8)}-0000-7000-8000-000000000000") {
      members(first: $n) { nodes { organization { members(first: $n) { nodes { organization { members(first: $n) { nodes { id } } } } } } } } } }`;
    refused(await gql(q, { n: 100 }, user), /would cost \d+/);
    // The same document with small pages is fine (it was cached once refused: limits are per request).
    const small = await gql(q, { n: 2 }, user);
    expect(small.errors?.[0].extensions.code).toBe('NOT_FOUND');
  });

  it('too many directives', async () => {
    const fields = Array.from({ length: 31 }, () => '__typename @include(if: true)').join(' ');
    refused(await gql(`{ ${fields} }`, {}, user), /31 directives/);
  });

  it('introspection, as Apollo Sandbox sends it, still answers in development', async () => {
    const deep = 'fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } }';
    const res = await gql(`{ __schema { types { name ${deep} } } }`, {}, null);
    expect(res.errors).toBeUndefined();
  });
});
