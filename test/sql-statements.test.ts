import { addMember, createOrganization, gql, newUser, sql, touch, type TestUser } from './support/client';

const DASHBOARD = `{ viewer { memberships(first: 50) { nodes { organization { name members(first: 50) { nodes { role user { id } } } } } } } }`;

/** A user who belongs to `count` organizations of `membersEach` members each (their personal one included). */
async function userIn(count: number, membersEach: number): Promise<TestUser> {
  const user = newUser();
  await touch(user);
  const colleagues = Array.from({ length: membersEach - 1 }, () => newUser());
  await Promise.all(colleagues.map(touch));
  for (let i = 1; i < count; i++) {
    const org = await createOrganization(newUser(), `Org ${i}`);
    await addMember(org.id, user, i % 2 ? 'VIEWER' : 'ADMIN');
    for (const colleague of colleagues.slice(0, membersEach - 2)) await addMember(org.id, colleague, 'DEVELOPER');
  }
  return user;
}

async function statementsFor(user: TestUser, query: string): Promise<{ statements: number; data: any }> {
  await gql(query, {}, user); // the first request may store the user's claims
  const res = await gql(query, {}, user);
  expect(res.errors).toBeUndefined();
  // The count comes from the X-SQL-Statements header: a missing header must not pass as zero.
  expect(res.headers.get('x-sql-statements')).toMatch(/^[1-9]\d*$/);
  return { statements: res.statements, data: res.data };
}

describe('SQL statements per operation depend on its depth, not on how many rows it returns', () => {
  it('the nested memberships → organization → members query costs the same at 5 and at 50 organizations', async () => {
    const small = await statementsFor(await userIn(5, 5), DASHBOARD);
    const large = await statementsFor(await userIn(50, 5), DASHBOARD);
    expect(small.data.viewer.memberships.nodes).toHaveLength(5);
    expect(large.data.viewer.memberships.nodes).toHaveLength(50);
    const rows = large.data.viewer.memberships.nodes.reduce((n: number, m: any) => n + m.organization.members.nodes.length, 0);
    expect(rows).toBeGreaterThan(150);
    console.log(`SQL statements: ${small.statements} at 5 organizations, ${large.statements} at 50`);
    expect(large.statements).toBe(small.statements);
    // memberships with their organizations, then members with their users: one batched statement each.
    expect(large.statements).toBe(2);
  });

  it('member emails and names come with their members page; totalCount adds one batched statement each', async () => {
    const ids = `{ viewer { memberships(first: 50) { nodes { organization { members(first: 50) { nodes { id } } } } } } }`;
    const profiles = `{ viewer { memberships(first: 50) { nodes { organization { members(first: 50) { nodes { id email displayName } } } } } } }`;
    const counts = `{ viewer { memberships(first: 50) { totalCount nodes { organization { members(first: 50) { totalCount nodes { email displayName } } } } } } }`;
    const user = await userIn(20, 6);
    // One member without a name: displayName falls back to the email.
    const [nameless] = await sql(`UPDATE users SET name = NULL WHERE id = (SELECT m.user_id FROM memberships m WHERE m.organization_id IN (SELECT organization_id FROM memberships WHERE user_id = $1) AND m.user_id <> $1 LIMIT 1) RETURNING id, email`, [user.id]);
    const plain = await statementsFor(user, ids);
    const withProfiles = await statementsFor(user, profiles);
    expect(withProfiles.statements).toBe(plain.statements);
    // ...and they are each member's own.
    const members = withProfiles.data.viewer.memberships.nodes.flatMap((m: any) => m.organization.members.nodes);
    expect(members.length).toBeGreaterThan(100);
    const stored = await sql(`SELECT m.id, u.email, coalesce(u.name, u.email) AS display FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.id = ANY($1)`, [members.map((m: any) => m.id)]);
    const byId = new Map(stored.map((row) => [row.id, row]));
    for (const member of members) expect([member.email, member.displayName]).toEqual([byId.get(member.id)!.email, byId.get(member.id)!.display]);
    expect(members.filter((m: any) => m.email === nameless.email).map((m: any) => m.displayName)).toContain(nameless.email);

    const small = await statementsFor(await userIn(3, 3), counts);
    const large = await statementsFor(await userIn(20, 6), counts);
    expect(large.statements).toBe(small.statements);
    expect(large.statements).toBe(plain.statements + 2);
  });

  it('_entities costs one statement per entity type, authorization included, for any number of representations', async () => {
    const user = await userIn(30, 3);
    const { viewer } = (await gql('{ viewer { memberships(first: 50) { nodes { id organization { id members(first: 5) { nodes { id } } } } } } }', {}, user)).data as any;
    const owned = await createOrganization(user, 'Many workspaces');
    const workspaces: string[] = [];
    await sql(`UPDATE subscriptions SET plan = 'ENTERPRISE', seats = 25 WHERE organization_id = $1`, [owned.id]);
    for (let i = 0; i < 100; i++) {
      workspaces.push((await gql<any>('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: owned.id, name: `W${i}` } }, user)).data.createWorkspace.id);
    }
    const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Organization { id name viewerRole } ... on Workspace { id name workspaceRole: viewerRole } ... on Membership { id role } } }`;
    const run = async (r: object[]) => {
      const res = await gql(ENTITIES, { r }, user);
      expect(res.errors).toBeUndefined();
      expect((res.data as any)._entities).toHaveLength(r.length);
      expect(res.headers.get('x-sql-statements')).toMatch(/^[1-9]\d*$/);
      return res.statements;
    };
    const organizations = viewer.memberships.nodes.map((m: any) => ({ __typename: 'Organization', id: m.organization.id }));
    const memberships = viewer.memberships.nodes.flatMap((m: any) => m.organization.members.nodes.map((n: any) => ({ __typename: 'Membership', id: n.id })));
    const workspaceRefs = workspaces.map((id) => ({ __typename: 'Workspace', id }));
    expect(await run(organizations)).toBe(1);
    expect(await run(workspaceRefs)).toBe(1);
    expect(memberships.length).toBeGreaterThan(50);
    expect(await run(memberships)).toBe(1);
    expect(await run([...organizations, ...workspaceRefs, ...memberships])).toBe(3);
    console.log(`_entities: 1 statement for ${organizations.length} organizations, 1 for 100 workspaces, 1 for ${memberships.length} memberships`);
  });
});
