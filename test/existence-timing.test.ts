import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kind, parse, print, type ObjectTypeDefinitionNode } from 'graphql';
import { Client } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { fillArgument, INTROSPECTION, named, required, typeString, type Field, type InputValue, type SchemaTypeInfo, type TypeRef } from './support/introspection';
import { addMember, createOrganization, gql, newUser, ok, type GqlResponse } from './support/client';
import { ROOT } from './support/servers';

/**
 * Generated from the schema, beside test/cross-tenant.test.ts: every operation that selects
 * something by a client's value (an ID, a slug; and `_entities` by each key of each entity)
 * is asked by another organization's user and API key with the victim's real value and with a
 * made-up one of the same shape. Both must cost the same SQL statements (X-SQL-Statements)
 * and give the same answer: a difference in work is a difference in time, and tells an
 * attacker which ids exist elsewhere. bench/existence-timing.ts measures the time itself.
 */
describe('another organization\'s ids cost what made-up ones do', () => {
  let types: Map<string, SchemaTypeInfo>;
  let operations: { kind: 'query' | 'mutation'; field: Field }[];
  const victim: Record<string, string> = {};
  let victimSlug: string;
  let victimUserId: string;
  const attackers: { label: string; token: string }[] = [];

  beforeAll(async () => {
    const { __schema } = await ok(INTROSPECTION, {}, newUser());
    types = new Map(__schema.types.map((t: any) => [t.name, t]));

    const owner = newUser('Victim Owner');
    victimUserId = owner.id;
    const org = await createOrganization(owner, 'Victim Timing');
    victim.organization = org.id;
    victimSlug = org.slug;
    victim.workspace = (await ok('mutation($id: ID!) { createWorkspace(input: { organizationId: $id, name: "W" }) { id } }', { id: org.id }, owner)).createWorkspace.id;
    victim.membership = await addMember(org.id, newUser(), 'VIEWER');
    victim.invitation = (await ok('mutation($id: ID!) { inviteMembers(input: { organizationId: $id, emails: ["timing-invitee@example.test"] }) { id } }', { id: org.id }, owner)).inviteMembers[0].id;
    victim.apiKey = (await ok('mutation($id: ID!) { createApiKey(input: { organizationId: $id, name: "K", scopes: [MEMBERS_READ] }) { apiKey { id } } }', { id: org.id }, owner)).createApiKey.apiKey.id;
    await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: true }) { id } }', { id: org.id }, owner);
    victim.joinRequest = (await ok('mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }', { id: org.id }, newUser())).requestToJoin.id;
    await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: false }) { id } }', { id: org.id }, owner);

    const theirOwner = newUser('Attacker Owner');
    const theirs = await createOrganization(theirOwner, 'Attackers');
    attackers.push({ label: 'a user elsewhere', token: theirOwner.token });
    const allScopes = types.get('Permission')!.enumValues!.map((v) => v.name);
    const key = await ok('mutation($id: ID!, $s: [Permission!]!) { createApiKey(input: { organizationId: $id, name: "A", scopes: $s }) { secret } }', { id: theirs.id, s: allScopes }, theirOwner);
    attackers.push({ label: 'an API key elsewhere', token: key.createApiKey.secret });

    // What selects by a client's value: an ID anywhere in the arguments, or a slug.
    const selects = (args: InputValue[], depth = 0): boolean =>
      args.some(
        (a) =>
          named(a.type).name === 'ID' ||
          (a.name === 'slug' && depth === 0) ||
          (depth < 2 && named(a.type).kind === 'INPUT_OBJECT' && selects(types.get(named(a.type).name!)!.inputFields ?? [], depth + 1)),
      );
    operations = [
      ...__schema.queryType.fields.map((field: Field) => ({ kind: 'query' as const, field })),
      ...__schema.mutationType.fields.map((field: Field) => ({ kind: 'mutation' as const, field })),
    ].filter(({ field }) => !field.name.startsWith('_') && selects(field.args));
  });

  /** The value of an argument: `ids.id` where an ID goes, `ids.slug` for a slug, something plausible elsewhere. */
  const fill = (name: string, type: TypeRef, ids: { id: string; slug: string }): unknown =>
    fillArgument(types, name, type, (field, base) => (base.name === 'ID' ? ids.id : base.name === 'String' && field === 'slug' ? ids.slug : undefined));


  const madeUpSlug = () => randomBytes(victimSlug.length).toString('hex').replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]).slice(0, victimSlug.length);

  /**
   * The answer and statements of a request, with the values asked about left out. Statements:
   * the fewer of two runs, so that an API key's once-a-minute lastUsedAt write cannot count.
   */
  async function ask(document: string, variables: Record<string, unknown>, token: string, values: string[]): Promise<{ answer: string; statements: number }> {
    const runs: GqlResponse[] = [await gql(document, variables, token), await gql(document, variables, token)];
    const errors = (runs[0].errors ?? []).map((e) => ({ code: e.extensions.code, message: e.message }));
    const answer = values.reduce((text, value) => text.replaceAll(value, '<asked>'), JSON.stringify({ errors, data: runs[0].data }));
    return { answer, statements: Math.min(runs[0].statements, runs[1].statements) };
  }

  /** `_entities` of every entity type by each of its keys (`@key` in schema.graphql). */
  function entityKeys(): { typename: string; field: string }[] {
    const document = parse(fs.readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8'));
    return document.definitions
      .filter((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION)
      .flatMap((d) =>
        (d.directives ?? [])
          .filter((directive) => directive.name.value === 'key')
          .map((directive) => ({ typename: d.name.value, field: print(directive.arguments![0].value).replace(/"/g, '') })),
      );
  }

  it('the same SQL statements and the same answer for every operation, every entity key and every kind of id', async () => {
    expect(operations.length).toBeGreaterThan(25);
    const differences: string[] = [];
    const compare = async (what: string, document: string, variablesFor: (ids: { id: string; slug: string }) => Record<string, unknown>, real: { id: string; slug: string }) => {
      const fake = { id: real.id.startsWith('user-') ? `user-${randomBytes(6).toString('hex')}` : uuidv7(), slug: madeUpSlug() };
      for (const attacker of attackers) {
        const a = await ask(document, variablesFor(real), attacker.token, [real.id, real.slug]);
        const b = await ask(document, variablesFor(fake), attacker.token, [fake.id, fake.slug]);
        if (a.statements !== b.statements || a.answer !== b.answer) {
          differences.push(`${what} as ${attacker.label}: real ${a.statements} statements ${a.answer.slice(0, 160)}; made-up ${b.statements} statements ${b.answer.slice(0, 160)}`);
        }
      }
    };
    for (const { kind, field } of operations) {
      const vars = field.args.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ');
      const call = `${field.name}(${field.args.map((a) => `${a.name}: $${a.name}`).join(', ')})`;
      const objectResult = ['OBJECT', 'INTERFACE', 'UNION'].includes(named(field.type).kind);
      const document = `${kind}${vars ? `(${vars})` : ''} { ${call}${objectResult ? ' { __typename }' : ''} }`;
      // Required arguments and every ID; optional others left out (acceptInvitation takes token OR id).
      const variablesFor = (ids: { id: string; slug: string }) =>
        Object.fromEntries(field.args.filter((a) => required(a.type) || named(a.type).name === 'ID').map((a) => [a.name, fill(a.name, a.type, ids)]));
      for (const [label, id] of Object.entries(victim)) await compare(`${field.name} with the victim's ${label}`, document, variablesFor, { id, slug: victimSlug });
    }
    const keys = entityKeys();
    expect(keys.map((k) => `${k.typename}.${k.field}`)).toEqual(expect.arrayContaining(['Organization.id', 'Organization.slug', 'Workspace.id']));
    for (const { typename, field } of keys) {
      const document = 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }';
      const variablesFor = (ids: { id: string; slug: string }) => ({ r: [{ __typename: typename, [field]: field === 'slug' ? ids.slug : ids.id }] });
      const reals = field === 'slug' ? [victim.organization] : typename === 'User' ? [victimUserId] : Object.values(victim);
      for (const id of reals) await compare(`_entities ${typename} by ${field} (${id})`, document, variablesFor, { id, slug: victimSlug });
    }
    expect(differences).toEqual([]);
  });

  it('another organization\'s rows locked by its own writes do not hold up a stranger asking for them', async () => {
    // The victim's organization and invitation are locked, as a member change or an acceptance does.
    const holder = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [victim.organization]);
      await holder.query('SELECT 1 FROM invitations WHERE id = $1 FOR UPDATE', [victim.invitation]);
      const stranger = newUser('Stranger');
      const asks = {
        requestToJoin: gql('mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }', { id: victim.organization }, stranger),
        acceptInvitation: gql('mutation($id: ID!) { acceptInvitation(id: $id) { id } }', { id: victim.invitation }, stranger),
        declineInvitation: gql('mutation($id: ID!) { declineInvitation(id: $id) { id } }', { id: victim.invitation }, stranger),
      };
      // Answered while the locks are held: a stranger's request never waits on them.
      const answered: Record<string, string> = {};
      const deadline = new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 10_000).unref());
      for (const [name, answer] of Object.entries(asks)) {
        const outcome = await Promise.race([answer, deadline]);
        answered[name] = outcome === 'waiting' ? 'still waiting on the lock' : String(outcome.errors?.[0].extensions.code);
      }
      expect(answered).toEqual({ requestToJoin: 'NOT_FOUND', acceptInvitation: 'NOT_FOUND', declineInvitation: 'NOT_FOUND' });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });
});
