import { MEMBERSHIP_READS } from '../src/modules/membership/membership.loaders';
import { addMember, createOrganization, newUser, ok, sql, type TestUser } from './support/client';
import { named, type TypeRef } from './support/introspection';

/**
 * A members page reads only the columns its selected fields declare (src/db/selection.ts,
 * MEMBERSHIP_READS). Each field of Membership, asked alone on a page (through `nodes`, `edges`,
 * a fragment, under @include), must answer what the same field answers for the whole row
 * (`_entities`, which always reads every column): a wrong declaration is a wrong answer here.
 */
interface TypeFields {
  fields: { name: string; args: { type: TypeRef }[]; type: TypeRef }[];
}

async function fieldsOf(user: TestUser, type: string): Promise<TypeFields['fields']> {
  const data = await ok<{ __type: TypeFields }>(
    `query($t: String!) { __type(name: $t) { fields { name args { type { kind } } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }`,
    { t: type },
    user,
  );
  return data.__type.fields;
}

/** `field` with a selection for an object type: its leaf fields that take no required arguments. */
async function selection(user: TestUser, field: TypeFields['fields'][number]): Promise<string> {
  const type = named(field.type);
  if (type.kind !== 'OBJECT') return field.name;
  const leaves = (await fieldsOf(user, type.name!)).filter((f) => ['SCALAR', 'ENUM'].includes(named(f.type).kind) && !f.args.some((a) => a.type.kind === 'NON_NULL'));
  return `${field.name} { __typename ${leaves.map((f) => f.name).join(' ')} }`;
}

describe('a members page reads the columns its fields need, and answers as the whole row does', () => {
  let owner: TestUser;
  let organizationId: string;
  let membershipId: string;
  let fields: TypeFields['fields'];

  beforeAll(async () => {
    owner = newUser('Owner');
    organizationId = (await createOrganization(owner, 'Columns')).id;
    const member = newUser('Member Mae');
    // Something in every column: assignments, who invited, a workspace assignment.
    membershipId = await addMember(organizationId, member, 'DEVELOPER', ['AUDITOR', 'WORKSPACES_ADMIN']);
    await sql('UPDATE memberships SET invited_by_id = $2 WHERE id = $1', [membershipId, owner.id]);
    const { createWorkspace } = await ok<any>('mutation($o: ID!) { createWorkspace(input: { organizationId: $o, name: "Docs" }) { id } }', { o: organizationId }, owner);
    await ok('mutation($m: ID!, $w: ID!) { setWorkspaceAccess(input: { membershipId: $m, workspaces: [{ workspaceId: $w, roleOverride: VIEWER }] }) { id } }', { m: membershipId, w: createWorkspace.id }, owner);
    fields = await fieldsOf(owner, 'Membership');
  });

  it('every Membership field declares what it reads (an undeclared one reads whole rows: right, but slower)', () => {
    expect(Object.keys(MEMBERSHIP_READS.byField).sort()).toEqual(fields.map((f) => f.name).sort());
  });

  it('each field asked alone answers as for the whole row, through nodes, edges and a fragment', async () => {
    expect(fields.length).toBeGreaterThan(5);
    for (const field of fields) {
      const wanted = await selection(owner, field);
      const whole = await ok<any>(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Membership { ${wanted} } } }`, { r: [{ __typename: 'Membership', id: membershipId }] }, owner);
      const expected = whole._entities[0][field.name];
      const page = await ok<any>(
        `query($o: ID!, $yes: Boolean!) { organization(id: $o) {
           nodes: members(first: 10) { nodes { id ${wanted} } }
           edges: members(first: 10) { edges { node { id ...F } } }
           included: members(first: 10) { nodes { id ... @include(if: $yes) { ${wanted} } } }
         } }
         fragment F on Membership { ${wanted} }`,
        { o: organizationId, yes: true },
        owner,
      );
      const find = (nodes: any[]) => nodes.find((n) => n.id === membershipId)?.[field.name];
      expect({ field: field.name, value: find(page.organization.nodes.nodes) }).toEqual({ field: field.name, value: expected });
      expect({ field: field.name, value: find(page.organization.edges.edges.map((e: any) => e.node)) }).toEqual({ field: field.name, value: expected });
      expect({ field: field.name, value: find(page.organization.included.nodes) }).toEqual({ field: field.name, value: expected });
    }
  });

  it('the fields that need more than the always-read columns show something real here (the test above could not pass on nulls)', async () => {
    const data = await ok<any>(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Membership { assignments joinedAt invitedBy { id } workspaceAccess { role } permissions } } }`, { r: [{ __typename: 'Membership', id: membershipId }] }, owner);
    const member = data._entities[0];
    expect(member.assignments).toEqual(['AUDITOR', 'WORKSPACES_ADMIN']);
    expect(member.permissions).toContain('AUDIT_READ');
    expect(Date.parse(member.joinedAt)).toBeGreaterThan(0);
    expect(member.invitedBy).toEqual({ id: owner.id });
    // WORKSPACES_ADMIN makes the member ADMIN of the workspace whatever its override: the role depends on the assignments.
    expect(member.workspaceAccess).toEqual([{ role: 'ADMIN' }]);
  });
});
