import { buildSchema, graphql } from 'graphql';
import { allow, deny, rule } from 'graphql-shield';
import { applyPermissions } from './apply';

const SDL = `type Query { open: String  member: String  both: String  secret: String  missing: Thing }
type Thing { name: String }`;
const root = { open: 'o', member: 'm', both: 'b', secret: 's', missing: { name: 'n' } };

function setup() {
  const calls = { isMember: 0 };
  const isMember = rule('isMember', { cache: 'contextual' })(async (_p, _a, ctx: { member: boolean }) => {
    calls.isMember += 1;
    return ctx.member ? true : new Error('members only');
  });
  const schema = applyPermissions(buildSchema(SDL), { Query: { open: allow, member: isMember, both: isMember, secret: deny } }, { fallbackRule: deny, fallbackError: () => new Error('denied') });
  const run = (member: boolean, source = '{ open member both secret missing { name } }') => graphql({ schema, source, rootValue: root, contextValue: { member } });
  return { run, calls };
}

describe('applyPermissions', () => {
  it('answers as graphql-shield would: allowed fields, the rule\'s error, deny for anything unnamed', async () => {
    const { run } = setup();
    const member = await run(true);
    expect(member.data).toEqual({ open: 'o', member: 'm', both: 'b', secret: null, missing: null });
    expect(member.errors?.map((e) => `${e.path?.join('.')}: ${e.message}`).sort()).toEqual(['missing: denied', 'secret: denied']);
    const stranger = await run(false, '{ open member }');
    expect(stranger.data).toEqual({ open: 'o', member: null });
    expect(stranger.errors?.map((e) => e.message)).toEqual(['members only']);
  });

  it('decides a contextual rule once per request', async () => {
    const { run, calls } = setup();
    await run(true, '{ member both a: member b: both }');
    expect(calls.isMember).toBe(1);
    await run(true, '{ member }');
    expect(calls.isMember).toBe(2);
  });

  it('refuses a rule tree naming what the schema does not have', () => {
    expect(() => applyPermissions(buildSchema(SDL), { Nothing: allow }, { fallbackRule: deny, fallbackError: () => new Error('x') })).toThrow(/Nothing/);
    expect(() => applyPermissions(buildSchema(SDL), { Query: { nope: allow } }, { fallbackRule: deny, fallbackError: () => new Error('x') })).toThrow(/nope/);
  });
});
