import type { FieldReads } from '../src/db/selection';
import { AUDIT_EVENT_READS } from '../src/modules/audit/audit.loaders';
import { MEMBERSHIP_READS } from '../src/modules/membership/membership.loaders';
import { WORKSPACE_READS } from '../src/modules/workspace/workspace.loaders';
import { addMember, createOrganization, gql, newUser, ok, serviceToken, sql, unique, type TestUser } from './support/client';
import { named, type TypeRef } from './support/introspection';

/**
 * A page reads only the columns its selected fields declare (src/db/selection.ts): members
 * (MEMBERSHIP_READS), workspaces (WORKSPACE_READS) and audit events (AUDIT_EVENT_READS). Each
 * field, asked alone on a page (through `nodes`, `edges`, a fragment, under @include), must
 * answer what the same field answers from the whole row: a wrong declaration is a wrong answer
 * here. Every field that reads more than the always-read columns holds something in the row
 * compared, so the test cannot pass on nulls.
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

/** `field` with a selection for an object type: its id when it has one (who asks changes the rest of an organization), else its leaf fields. */
async function selection(user: TestUser, field: TypeFields['fields'][number]): Promise<string> {
  const type = named(field.type);
  if (type.kind !== 'OBJECT') return field.name;
  const leaves = (await fieldsOf(user, type.name!)).filter((f) => ['SCALAR', 'ENUM'].includes(named(f.type).kind) && !f.args.some((a) => a.type.kind === 'NON_NULL'));
  const id = leaves.find((f) => f.name === 'id');
  return `${field.name} { __typename ${id ? 'id' : leaves.map((f) => f.name).join(' ')} }`;
}

interface PageCase {
  type: string;
  reads: FieldReads;
  /** The connection field of Organization that lists it. */
  page: string;
  /** The row compared, and what it answers for `selected` (every field) when read whole. */
  prepare(owner: TestUser, organizationId: string, selected: string): Promise<{ id: string; whole: Record<string, unknown> }>;
}

/** Every field of a type read whole, through `_entities` (which reads every column). */
const throughEntities = (owner: TestUser, type: string, id: string, selected: string) =>
  ok<any>(`query($r: [_Any!]!) { _entities(representations: $r) { ... on ${type} { ${selected} } } }`, { r: [{ __typename: type, id }] }, owner).then((data) => data._entities[0]);

const CASES: PageCase[] = [
  {
    type: 'Membership',
    reads: MEMBERSHIP_READS,
    page: 'members',
    async prepare(owner, organizationId, selected) {
      const member = newUser('Member Mae');
      // Something in every column: assignments, a custom role, who invited, a workspace assignment.
      const id = await addMember(organizationId, member, 'DEVELOPER', ['AUDITOR', 'WORKSPACES_ADMIN']);
      await sql('UPDATE memberships SET invited_by_id = $2 WHERE id = $1', [id, owner.id]);
      const role = (await ok<any>('mutation($o: ID!) { createRole(input: { organizationId: $o, key: "readers", name: "Readers", permissions: ["BILLING_READ"] }) { id } }', { o: organizationId }, owner)).createRole.id;
      await ok('mutation($m: ID!, $r: [ID!]!) { updateMembership(input: { membershipId: $m, roleIds: $r }) { id } }', { m: id, r: [role] }, owner);
      const { createWorkspace } = await ok<any>('mutation($o: ID!) { createWorkspace(input: { organizationId: $o, name: "Docs" }) { id } }', { o: organizationId }, owner);
      await ok('mutation($m: ID!, $w: ID!) { setWorkspaceAccess(input: { membershipId: $m, workspaces: [{ workspaceId: $w, roleOverride: VIEWER }] }) { id } }', { m: id, w: createWorkspace.id }, owner);
      return { id, whole: await throughEntities(owner, 'Membership', id, selected) };
    },
  },
  {
    type: 'Workspace',
    reads: WORKSPACE_READS,
    page: 'workspaces',
    async prepare(owner, organizationId, selected) {
      const { createWorkspace } = await ok<any>('mutation($o: ID!) { createWorkspace(input: { organizationId: $o, name: "Sandbox", slug: "sandbox-one", description: "Where agents run" }) { id } }', { o: organizationId }, owner);
      return { id: createWorkspace.id, whole: await throughEntities(owner, 'Workspace', createWorkspace.id, selected) };
    },
  },
  {
    type: 'AuditEvent',
    reads: AUDIT_EVENT_READS,
    page: 'auditEvents',
    async prepare(_owner, organizationId, selected) {
      // Not an entity: a partner's event as recordAuditEvent answers it, read whole by id (the rows it records from a request's headers included).
      const partner = unique('partner');
      const res = await gql<any>(
        `mutation($o: ID!, $a: String!, $k: String!) { recordAuditEvent(input: { organizationId: $o, action: $a, idempotencyKey: $k, target: { type: "model", id: "m-1", display: "Model one" }, metadata: { tokens: 42 } }) { id ${selected} } }`,
        { o: organizationId, a: `${partner}.model.invoked`, k: unique('k') },
        serviceToken(partner, 'audit:write'),
        { headers: { 'user-agent': 'columns-test/1.0', 'x-request-id': unique('request') } },
      );
      if (res.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(res.errors)}`);
      return { id: res.data.recordAuditEvent.id, whole: res.data.recordAuditEvent };
    },
  },
];

describe.each(CASES)('Organization.$page reads the columns its fields need, and answers as the whole row does', ({ type, reads, page, prepare }) => {
  let owner: TestUser;
  let organizationId: string;
  let fields: TypeFields['fields'];
  let selections: Map<string, string>;
  let row: { id: string; whole: Record<string, unknown> };

  beforeAll(async () => {
    owner = newUser('Owner');
    organizationId = (await createOrganization(owner, 'Columns')).id;
    fields = await fieldsOf(owner, type);
    selections = new Map(await Promise.all(fields.map(async (f) => [f.name, await selection(owner, f)] as const)));
    row = await prepare(owner, organizationId, [...selections.values()].join(' '));
  });

  it(`every ${type} field declares what it reads (an undeclared one reads whole rows: right, but slower)`, () => {
    expect(Object.keys(reads.byField).sort()).toEqual(fields.map((f) => f.name).sort());
  });

  it('the fields that read more than the always-read columns hold something in the row compared (the next test could not pass on nulls)', () => {
    const empty = fields
      .filter((f) => reads.byField[f.name]?.length)
      .filter((f) => {
        const value = row.whole[f.name];
        return value === null || value === undefined || (Array.isArray(value) && value.length === 0);
      })
      .map((f) => f.name);
    expect(empty).toEqual([]);
  });

  it('each field asked alone answers as for the whole row, through nodes, edges and a fragment', async () => {
    expect(fields.length).toBeGreaterThan(5);
    for (const field of fields) {
      const wanted = selections.get(field.name)!;
      const data = await ok<any>(
        `query($o: ID!, $yes: Boolean!) { organization(id: $o) {
           nodes: ${page}(first: 10) { nodes { id ${wanted} } }
           edges: ${page}(first: 10) { edges { node { id ...F } } }
           included: ${page}(first: 10) { nodes { id ... @include(if: $yes) { ${wanted} } } }
         } }
         fragment F on ${type} { ${wanted} }`,
        { o: organizationId, yes: true },
        owner,
      );
      const find = (nodes: any[]) => nodes.find((n) => n.id === row.id)?.[field.name];
      const expected = { field: field.name, value: row.whole[field.name] };
      expect({ field: field.name, value: find(data.organization.nodes.nodes) }).toEqual(expected);
      expect({ field: field.name, value: find(data.organization.edges.edges.map((e: any) => e.node)) }).toEqual(expected);
      expect({ field: field.name, value: find(data.organization.included.nodes) }).toEqual(expected);
    }
  });
});
