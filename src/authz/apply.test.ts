import { buildSchema, graphql } from 'graphql';
import { allow, applyPermissions, type Decision, type PermissionOptions, type Rule } from './apply';

const SDL = `type Query { open: String  member: String  both: String  known: String  broken: String  missing: Thing }
type Thing { name: String }`;
const root = { open: 'o', member: 'm', both: 'b', known: 'k', broken: 'x', missing: { name: 'n' } };
type Ctx = { member: boolean; failures: unknown[] };

function setup() {
  const calls = { isMember: 0, known: 0 };
  const isMember: Rule = {
    name: 'isMember',
    perRequest: true,
    decide: async (_p, _a, ctx: Ctx) => {
      calls.isMember += 1;
      return ctx.member || new Error('members only');
    },
  };
  // Answers at once, without a promise: the same function a rule with a loaded value is.
  const knownNow: Rule = {
    name: 'knownNow',
    decide: (_p, _a, ctx: Ctx): Decision => (calls.known++, ctx.member || new Error('not now')),
  };
  const broken: Rule = {
    name: 'broken',
    decide: () => {
      throw new TypeError('a bug');
    },
  };
  const options: PermissionOptions = {
    denied: () => new Error('denied'),
    failed: (error, ctx) => ((ctx as Ctx).failures.push(error), new Error('internal')),
  };
  const schema = applyPermissions(buildSchema(SDL), { Query: { open: allow, member: isMember, both: isMember, known: knownNow, broken } }, options);
  const run = (member: boolean, source = '{ open member both known broken missing { name } }') => {
    const contextValue: Ctx = { member, failures: [] };
    return graphql({ schema, source, rootValue: root, contextValue }).then((result) => Object.assign(result, { failures: contextValue.failures }));
  };
  return { run, calls, schema };
}

const messages = (errors: readonly { path?: readonly (string | number)[]; message: string }[] | undefined) =>
  (errors ?? []).map((e) => `${e.path?.join('.')}: ${e.message}`).sort();

describe('applyPermissions', () => {
  it("answers with the rule's decision: the field, the rule's error, denied for anything unnamed", async () => {
    const { run } = setup();
    const member = await run(true);
    expect(member.data).toEqual({ open: 'o', member: 'm', both: 'b', known: 'k', broken: null, missing: null });
    expect(messages(member.errors)).toEqual(['broken: internal', 'missing: denied']);
    const stranger = await run(false, '{ open member known }');
    expect(stranger.data).toEqual({ open: 'o', member: null, known: null });
    expect(messages(stranger.errors)).toEqual(['known: not now', 'member: members only']);
  });

  it('hands what a rule threw to `failed`, which decides the answer', async () => {
    const { run } = setup();
    const result = await run(true, '{ broken }');
    expect(result.failures).toEqual([new TypeError('a bug')]);
  });

  it('leaves an allowed field its own resolver; a rule that answers at once costs the field no promise', () => {
    const { schema } = setup();
    const fields = schema.getQueryType()!.getFields();
    expect(fields.open.resolve).toBeUndefined();
    const info = { fieldName: 'known' } as never;
    expect(fields.known.resolve!(root, {}, { member: true, failures: [] }, info)).toBe('k');
    expect(fields.known.resolve!(root, {}, { member: false, failures: [] }, info)).toEqual(new Error('not now'));
  });

  it('decides a perRequest rule once per request, and other rules on every field', async () => {
    const { run, calls } = setup();
    await run(true, '{ member both a: member b: both known k: known }');
    expect(calls).toEqual({ isMember: 1, known: 2 });
    await run(true, '{ member }');
    expect(calls.isMember).toBe(2);
  });

  it('refuses a map naming what the schema does not have', () => {
    const options: PermissionOptions = { denied: () => new Error('x'), failed: () => new Error('x') };
    expect(() => applyPermissions(buildSchema(SDL), { Nothing: allow }, options)).toThrow(/Nothing/);
    expect(() => applyPermissions(buildSchema(SDL), { Query: { nope: allow } }, options)).toThrow(/nope/);
  });
});
