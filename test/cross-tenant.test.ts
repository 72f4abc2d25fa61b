import { fillArgument, INTROSPECTION, named, required, typeString, type Field, type InputValue, type SchemaTypeInfo, type TypeRef } from './support/introspection';
import { addMember, createOrganization, gql, invitationToken, newUser, ok, sql } from './support/client';


/**
 * Generated from the schema: every query field and mutation taking an ID (directly or in its
 * input) is called by members of another organization — every role, and an API key with every
 * scope — with the real ids of a victim organization's objects. Each must answer NOT_FOUND or
 * FORBIDDEN and leak nothing. A new field is covered without editing this file.
 */
describe('another organization\'s ids, for every operation that takes one', () => {
  let types: Map<string, SchemaTypeInfo>;
  let operations: { kind: 'query' | 'mutation'; field: Field }[];
  const victim: Record<string, string> = {};
  const attackers: { label: string; token: string }[] = [];
  let victimNames: string[];

  beforeAll(async () => {
    const anyone = newUser();
    const { __schema } = await ok(INTROSPECTION, {}, anyone);
    types = new Map(__schema.types.map((t: any) => [t.name, t]));

    // The victim: an organization with one of everything.
    const owner = newUser('Victim Owner');
    const org = await createOrganization(owner, 'Victim Corp Secret');
    victim.organization = org.id;
    victim.workspace = (await ok('mutation($id: ID!) { createWorkspace(input: { organizationId: $id, name: "Victim Workspace Secret" }) { id } }', { id: org.id }, owner)).createWorkspace.id;
    victim.membership = await addMember(org.id, newUser(), 'VIEWER');
    const invitation = (await ok('mutation($id: ID!) { inviteMembers(input: { organizationId: $id, emails: ["victim-invitee@example.test"] }) { id } }', { id: org.id }, owner)).inviteMembers[0];
    victim.invitation = invitation.id;
    victim.invitationToken = await invitationToken(invitation.id);
    victim.apiKey = (await ok('mutation($id: ID!) { createApiKey(input: { organizationId: $id, name: "Victim Key", scopes: [MEMBERS_READ] }) { apiKey { id } } }', { id: org.id }, owner)).createApiKey.apiKey.id;
    const endpoint = (await ok('mutation($id: ID!) { createWebhookEndpoint(input: { organizationId: $id, url: "http://127.0.0.1:9/victim-hook" }) { endpoint { id } } }', { id: org.id }, owner)).createWebhookEndpoint.endpoint.id;
    victim.webhookEndpoint = endpoint;
    victim.webhookDelivery = (await ok('mutation($id: ID!) { sendTestWebhook(id: $id) { id } }', { id: endpoint }, owner)).sendTestWebhook.id;
    await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: true }) { id } }', { id: org.id }, owner);
    victim.joinRequest = (await ok('mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }', { id: org.id }, newUser())).requestToJoin.id;
    // Not discoverable any more: nobody outside may ask to join it now.
    await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: false }) { id } }', { id: org.id }, owner);
    victimNames = ['Victim Corp Secret', 'Victim Workspace Secret', 'Victim Key', 'victim-invitee@example.test'];

    // The attackers: every role of another organization, and its API key with every scope.
    const theirOwner = newUser('Attacker Owner');
    const theirs = await createOrganization(theirOwner, 'Attackers');
    attackers.push({ label: 'OWNER elsewhere', token: theirOwner.token });
    for (const role of ['ADMIN', 'DEVELOPER', 'VIEWER', 'GUEST']) {
      const user = newUser(`Attacker ${role}`);
      await addMember(theirs.id, user, role, role === 'GUEST' ? [] : ['AUDITOR', 'BILLING_MANAGER', 'MEMBERS_ADMIN', 'WORKSPACES_ADMIN'].slice(0, role === 'ADMIN' ? 0 : 2));
      attackers.push({ label: `${role} elsewhere`, token: user.token });
    }
    const allScopes = types.get('Permission')!.enumValues!.map((v) => v.name);
    const key = await ok('mutation($id: ID!, $s: [Permission!]!) { createApiKey(input: { organizationId: $id, name: "Attacker key", scopes: $s }) { secret } }', { id: theirs.id, s: allScopes }, theirOwner);
    attackers.push({ label: 'API key elsewhere', token: key.createApiKey.secret });

    const takesId = (args: InputValue[], depth = 0): boolean =>
      args.some((a) => named(a.type).name === 'ID' || (depth < 2 && named(a.type).kind === 'INPUT_OBJECT' && takesId(types.get(named(a.type).name!)!.inputFields ?? [], depth + 1)));
    operations = [
      ...__schema.queryType.fields.map((field: Field) => ({ kind: 'query' as const, field })),
      ...__schema.mutationType.fields.map((field: Field) => ({ kind: 'mutation' as const, field })),
    ].filter(({ field }) => !field.name.startsWith('_') && takesId(field.args));
  });

  /** A value for an argument: `id` where an ID goes, the victim's token and slug where those go. */
  const fill = (name: string, type: TypeRef, id: string): unknown =>
    fillArgument(types, name, type, (field, base) => {
      if (base.name === 'ID') return id;
      if (base.name === 'String' && field === 'token') return victim.invitationToken;
      if (base.name === 'String' && field === 'confirmSlug') return 'victim';
      return undefined;
    });

  it('covers every such operation, and each answers NOT_FOUND or FORBIDDEN with no data', async () => {
    expect(operations.length).toBeGreaterThan(25);
    const failures: string[] = [];
    for (const { kind, field } of operations) {
      const vars = field.args.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ');
      const call = `${field.name}(${field.args.map((a) => `${a.name}: $${a.name}`).join(', ')})`;
      const selection = await selectionFor(kind, field.name);
      const document = `${kind}${vars ? `(${vars})` : ''} { ${call}${selection} }`;
      for (const [label, id] of Object.entries(victim)) {
        if (label === 'invitationToken') continue;
        // Required arguments and every ID; optional others left out (acceptInvitation takes token OR id).
        const variables = Object.fromEntries(
          field.args.filter((a) => required(a.type) || named(a.type).name === 'ID').map((a) => [a.name, fill(a.name, a.type, id)]),
        );
        for (const attacker of attackers) {
          const res = await gql(document, variables, attacker.token);
          const codes = (res.errors ?? []).map((e) => e.extensions.code);
          const text = JSON.stringify(res.data ?? {});
          const leaked = victimNames.find((n) => text.includes(n));
          const data = (res.data as Record<string, unknown> | null)?.[field.name];
          if (!codes.length || codes.some((c) => c !== 'NOT_FOUND' && c !== 'FORBIDDEN') || leaked || (data !== null && data !== undefined)) {
            failures.push(`${field.name} with the victim's ${label} id as ${attacker.label}: ${JSON.stringify(res.errors ?? res.data).slice(0, 200)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    // Nothing of the victim changed.
    expect(await sql('SELECT name, discoverable FROM organizations WHERE id = $1', [victim.organization])).toEqual([{ name: 'Victim Corp Secret', discoverable: false }]);
    expect(await sql('SELECT role FROM memberships WHERE id = $1', [victim.membership])).toEqual([{ role: 'VIEWER' }]);
    expect((await sql('SELECT status FROM invitations WHERE id = $1', [victim.invitation]))[0].status).toBe('PENDING');
    expect((await sql('SELECT revoked_at FROM api_keys WHERE id = $1', [victim.apiKey]))[0].revoked_at).toBeNull();
    expect(await sql('SELECT url, enabled, previous_secret FROM webhook_endpoints WHERE id = $1', [victim.webhookEndpoint])).toEqual([{ url: 'http://127.0.0.1:9/victim-hook', enabled: true, previous_secret: null }]);
  });

  /** `{ __typename }` for object results, nothing for scalars. */
  async function selectionFor(kind: 'query' | 'mutation', fieldName: string): Promise<string> {
    const res = await gql<any>(`{ __schema { ${kind}Type { fields { name type { ...T } } } } } fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`, {}, null);
    const field = res.data.__schema[`${kind}Type`].fields.find((f: any) => f.name === fieldName);
    const kindOf = named(field.type).kind;
    return kindOf === 'OBJECT' || kindOf === 'INTERFACE' || kindOf === 'UNION' ? ' { __typename }' : '';
  }
});

/**
 * Generated from the schema like the suite above, inside one organization: every mutation that
 * takes the id of a membership, an API key or an invitation is called by members who hold the operation's
 * permission but less than the target (an ADMIN against the OWNER, a DEVELOPER with every
 * assignment against the OWNER and an ADMIN, an API key with every scope). Nobody changes a
 * member holding more than they do, nor a key carrying more than they hold: each call fails and
 * nothing of the targets changes. A new mutation of that kind is covered without editing this.
 */
describe('a weaker member, for every mutation that takes a membership, API key or invitation id', () => {
  it('is refused against a stronger member or key, and changes nothing', async () => {
    const { __schema } = await ok(INTROSPECTION, {}, newUser());
    const types = new Map<string, any>(__schema.types.map((t: any) => [t.name, t]));
    const owner = newUser('Rank Owner');
    const org = await createOrganization(owner, 'Rank Corp');
    const workspaceId = (await ok('mutation($id: ID!) { createWorkspace(input: { organizationId: $id, name: "Rank WS" }) { id } }', { id: org.id }, owner)).createWorkspace.id;
    const ownerMembership = (await sql('SELECT id FROM memberships WHERE organization_id = $1', [org.id]))[0].id;
    const admin = newUser('Rank Admin');
    const adminMembership = await addMember(org.id, admin, 'ADMIN');
    const developer = newUser('Rank Developer');
    await addMember(org.id, developer, 'DEVELOPER', ['MEMBERS_ADMIN', 'WORKSPACES_ADMIN']);
    const key = (scopes: string[]) =>
      ok('mutation($id: ID!, $s: [Permission!]!) { createApiKey(input: { organizationId: $id, name: "rank", scopes: $s }) { apiKey { id } secret } }', { id: org.id, s: scopes }, owner);
    const auditKey = (await key(['AUDIT_READ'])).createApiKey.apiKey.id;
    const adminKey = (await key(['ORGANIZATION_UPDATE'])).createApiKey.apiKey.id;
    const everyScope = (await key(types.get('Permission').enumValues.map((v: any) => v.name))).createApiKey;
    const adminInvitation = (await ok('mutation($id: ID!) { inviteMembers(input: { organizationId: $id, emails: ["rank-admin@example.test"], role: ADMIN }) { id } }', { id: org.id }, owner))
      .inviteMembers[0].id;
    const attacks = [
      { label: 'ADMIN', token: admin.token, targets: { ownerMembership, ownerOnlyKey: auditKey } },
      { label: 'DEVELOPER with every assignment', token: developer.token, targets: { ownerMembership, adminMembership, adminKey, adminInvitation } },
      { label: 'API key with every scope', token: everyScope.secret as string, targets: { ownerMembership, adminMembership, adminKey, adminInvitation } },
    ];
    const state = () =>
      sql(
        `SELECT (SELECT json_agg(json_build_array(id, role, assignments) ORDER BY id) FROM memberships WHERE organization_id = $1) AS members,
                (SELECT json_agg(json_build_array(membership_id, workspace_id, role_override) ORDER BY id) FROM workspace_access WHERE organization_id = $1) AS access,
                (SELECT json_agg(json_build_array(id, secret_hash, revoked_at) ORDER BY id) FROM api_keys WHERE organization_id = $1) AS keys,
                (SELECT json_agg(json_build_array(id, status, token_hash, send_count) ORDER BY id) FROM invitations WHERE organization_id = $1) AS invitations`,
        [org.id],
      );
    const before = await state();

    // An organization's id and a workspace's id where those go; the target's id in every other ID; enums at their weakest value.
    const fill = (name: string, type: TypeRef, target: string): unknown =>
      fillArgument(
        types,
        name,
        type,
        (field, base) => {
          if (base.name === 'ID') return /^organizationId$/.test(field) ? org.id : /^workspaceIds?$/.test(field) ? workspaceId : target;
          if (base.kind === 'ENUM') return types.get(base.name!).enumValues.at(-1).name;
          return undefined;
        },
        true,
      );
    const takesTarget = (args: InputValue[], depth = 0): boolean =>
      args.some(
        (a) =>
          (named(a.type).name === 'ID' && !/^(organizationId|workspaceIds?)$/.test(a.name)) ||
          (depth < 2 && named(a.type).kind === 'INPUT_OBJECT' && takesTarget(types.get(named(a.type).name!).inputFields, depth + 1)),
      );
    const mutations: Field[] = __schema.mutationType.fields.filter((f: Field) => takesTarget(f.args));
    expect(mutations.map((m) => m.name)).toEqual(expect.arrayContaining(['updateMembership', 'removeMember', 'setWorkspaceAccess', 'transferOwnership', 'rotateApiKey', 'revokeApiKey']));

    const failures: string[] = [];
    for (const mutation of mutations) {
      const vars = mutation.args.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ');
      const objectResult = ['OBJECT', 'INTERFACE', 'UNION'].includes(named(mutation.type).kind);
      const document = `mutation(${vars}) { ${mutation.name}(${mutation.args.map((a) => `${a.name}: $${a.name}`).join(', ')})${objectResult ? ' { __typename }' : ''} }`;
      for (const attack of attacks) {
        for (const [label, target] of Object.entries(attack.targets)) {
          const variables = Object.fromEntries(mutation.args.map((a) => [a.name, fill(a.name, a.type, target)]));
          const res = await gql(document, variables, attack.token);
          const data = (res.data as Record<string, unknown> | null)?.[mutation.name];
          if (!res.errors?.length || (data !== null && data !== undefined)) {
            failures.push(`${mutation.name} on the ${label} as ${attack.label}: ${JSON.stringify(res.errors ?? res.data).slice(0, 200)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await state()).toEqual(before);
  });
});
