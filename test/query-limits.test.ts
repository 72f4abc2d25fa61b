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

describe('limit analysis is linear in the document', () => {
  /** Fragments that each spread the next one twice: 2^levels fields once expanded. */
  const chained = (levels: number) => {
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Viewer { ...F${i + 1} ...F${i + 1} }`);
    fragments.push(`fragment F${levels} on Viewer { id }`);
    return `query Chained { viewer { ...F0 } } ${fragments.join(' ')}`;
  };

  it('150 chained fragments are refused at once, and a health check meanwhile is served at once', async () => {
    const user = newUser();
    await gql('{ viewer { id } }', {}, user);
    const started = Date.now();
    const pending = gql(chained(150), {}, user);
    const health = await fetch(`${process.env.TEST_SERVER_URL}/health/live`);
    const healthMs = Date.now() - started;
    const res = await pending;
    const totalMs = Date.now() - started;
    expect(health.status).toBe(200);
    refused(res, /would cost/);
    // Exponential analysis took seconds at 21 levels; linear takes a few milliseconds at 150.
    expect(totalMs).toBeLessThan(1000);
    expect(healthMs).toBeLessThan(1000);
  });

  it('150 chained fragments of free fields under every connection of Organization answer at once, and a health check meanwhile', async () => {
    const user = newUser();
    const orgId = (await createOrganization(user, 'Chains')).id;
    // Every connection field of Organization and its node type, from the schema: a new connection is covered too.
    const { data } = await gql<any>('{ __type(name: "Organization") { fields { name args { name } type { name ofType { name } } } } }', {}, user);
    const candidates = (data.__type.fields as any[]).filter((f) => (f.type.ofType?.name ?? f.type.name ?? '').endsWith('Connection'));
    let connections = 0;
    for (const connection of candidates) {
      const connectionType = connection.type.ofType?.name ?? connection.type.name;
      const nodes = await gql<any>(`{ __type(name: "${connectionType}") { fields { name type { ofType { ofType { ofType { name } } } } } } }`, {}, user);
      // A connection pages `nodes` (an SsoConnection is no such thing).
      const nodesField = nodes.data.__type.fields.find((f: any) => f.name === 'nodes');
      if (!nodesField) continue;
      connections++;
      const nodeType = nodesField.type.ofType.ofType.ofType.name;
      // __typename costs nothing, so the limits let this through: what reads the selection must be linear too.
      const fragments = Array.from({ length: 150 }, (_, i) => `fragment F${i} on ${nodeType} { ...F${i + 1} ...F${i + 1} }`);
      fragments.push(`fragment F150 on ${nodeType} { __typename }`);
      const started = Date.now();
      const pending = gql(`query($id: ID!) { organization(id: $id) { ${connection.name}(first: 5) { nodes { ...F0 } } } } ${fragments.join(' ')}`, { id: orgId }, user);
      const health = await fetch(`${process.env.TEST_SERVER_URL}/health/live`);
      const healthMs = Date.now() - started;
      const res = await pending;
      expect(health.status).toBe(200);
      expect({ connection: connection.name, errors: res.errors }).toEqual({ connection: connection.name, errors: undefined });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(healthMs).toBeLessThan(1000);
    }
    expect(connections).toBeGreaterThanOrEqual(6);
  });

  it('a fragment spread many times still counts its cost at every spread', async () => {
    const user = newUser();
    // 2^10 = 1,024 spreads of a 100-member page: over the cost limit although the document is small.
    const fragments = Array.from({ length: 10 }, (_, i) => `fragment F${i} on Organization { ...F${i + 1} ...F${i + 1} }`);
    fragments.push('fragment F10 on Organization { members(first: 100) { nodes { id } } }');
    const res = await gql(`query($id: ID!) { organization(id: $id) { ...F0 } } ${fragments.join(' ')}`, { id: '00000000-0000-7000-8000-000000000000' }, user);
    refused(res, /would cost/);
    // Depth through fragments is counted too.
    let inner = 'id';
    for (let i = 0; i < 7; i++) inner = `organization { members(first: 1) { nodes { ${inner} } } }`;
    const deep = await gql(`query($id: ID!) { organization(id: $id) { ...D } } fragment D on Organization { members(first: 1) { nodes { ${inner} } } }`, { id: '00000000-0000-7000-8000-000000000000' }, user);
    refused(deep, /levels deep/);
  });
});
