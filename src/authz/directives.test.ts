import 'reflect-metadata';
import { parse, visit, type ConstDirectiveNode, type TypeNode } from 'graphql';
import type { Principal } from '../auth/principal';
import { RequestContext } from '../context';
import { AppError } from '../errors';
import { subgraphSdl } from '../schema';
import { ruleFor, type PermissionMap, type Rule } from './apply';
import { permissions } from './permissions-map';
import { hasScope } from './rules';

interface SdlField {
  type: string;
  field: string;
  returns: string;
  authenticated: boolean;
  /** The scopes of `@requiresScopes(scopes: [[…]])`, one inner list per alternative. */
  scopes: string[][] | null;
}

const namedType = (type: TypeNode): string => (type.kind === 'NamedType' ? type.name.value : namedType(type.type));

/** Every object field of the federation SDL (what `_service { sdl }` serves a router) with the directives on it or its type. */
async function sdlFields(): Promise<SdlField[]> {
  const fields: SdlField[] = [];
  const scopesOf = (directives: readonly ConstDirectiveNode[] = []) => {
    const directive = directives.find((d) => d.name.value === 'requiresScopes');
    const value = directive?.arguments?.find((a) => a.name.value === 'scopes')?.value;
    if (!value || value.kind !== 'ListValue') return null;
    return value.values.map((inner) => (inner.kind === 'ListValue' ? inner.values.map((s) => (s.kind === 'StringValue' ? s.value : '?')) : ['?']));
  };
  const authenticated = (directives: readonly ConstDirectiveNode[] = []) => directives.some((d) => d.name.value === 'authenticated');
  const onType = (node: { name: { value: string }; directives?: readonly ConstDirectiveNode[]; fields?: readonly { name: { value: string }; type: TypeNode; directives?: readonly ConstDirectiveNode[] }[] }) => {
    for (const field of node.fields ?? []) {
      fields.push({
        type: node.name.value,
        field: field.name.value,
        returns: namedType(field.type),
        authenticated: authenticated(node.directives) || authenticated(field.directives),
        scopes: scopesOf(field.directives) ?? scopesOf(node.directives),
      });
    }
  };
  visit(parse(await subgraphSdl()), { ObjectTypeDefinition: onType, ObjectTypeExtension: onType });
  return fields;
}

/** A request's context with this principal, nothing loaded: rules that check who asks answer before reading anything. */
function contextOf(principal: Principal | null): RequestContext {
  return Object.assign(Object.create(RequestContext.prototype) as RequestContext, { principal, authError: null });
}

/** What the rule answers, thrown or returned, with no arguments and no parent. */
async function answer(rule: Rule, ctx: RequestContext): Promise<unknown> {
  return Promise.resolve()
    .then(() => rule.decide({}, {}, ctx, {} as never))
    .catch((error: unknown) => error);
}

const codeOf = (value: unknown) => (value instanceof AppError ? value.extensions.code : value);

/** The scope of a hasScope rule of the map, or undefined for any other rule. */
function scopeOf(rule: Rule | undefined): string | undefined {
  const scope = rule?.name.startsWith('scope:') ? rule.name.slice('scope:'.length) : undefined;
  return scope !== undefined && hasScope(scope) === rule ? scope : undefined;
}

/** Every rule the map names, with where: a whole type (`field` undefined) or one field. */
function mapEntries(map: PermissionMap): { type: string; field?: string; rule: Rule }[] {
  return Object.entries(map).flatMap(([type, rules]) =>
    typeof rules.decide === 'function' ? [{ type, rule: rules as Rule }] : Object.entries(rules as Record<string, Rule>).map(([field, rule]) => ({ type, field, rule })),
  );
}

describe('the federation directives agree with the permissions map', () => {
  let fields: SdlField[];
  beforeAll(async () => {
    fields = await sdlFields();
  });

  it('every @requiresScopes field is guarded by hasScope of that one scope', () => {
    const scoped = fields.filter((f) => f.scopes);
    expect(scoped.length).toBeGreaterThanOrEqual(5);
    const wrong = scoped.filter((f) => f.scopes!.length !== 1 || f.scopes![0].length !== 1 || ruleFor(permissions, f.type, f.field) !== hasScope(f.scopes![0][0]));
    expect(wrong.map((f) => `${f.type}.${f.field}`)).toEqual([]);
  });

  it('every field the map guards by a scope says so with @requiresScopes; a type guarded by one is reached only through such fields', () => {
    const entries = mapEntries(permissions).filter((e) => scopeOf(e.rule) !== undefined);
    expect(entries.length).toBeGreaterThanOrEqual(5);
    const missing: string[] = [];
    for (const { type, field, rule } of entries) {
      const scope = scopeOf(rule)!;
      const carrying = fields.filter((f) => (field ? f.type === type && f.field === field : f.returns === type));
      if (!carrying.length) missing.push(`${type}${field ? `.${field}` : ''}: no such field in the SDL`);
      for (const f of carrying) if (JSON.stringify(f.scopes) !== JSON.stringify([[scope]])) missing.push(`${f.type}.${f.field} lacks @requiresScopes(scopes: [["${scope}"]])`);
    }
    expect(missing).toEqual([]);
  });

  it('every @authenticated field needs a principal in the map: anonymous, its rule answers UNAUTHENTICATED', async () => {
    const authenticated = fields.filter((f) => f.authenticated);
    expect(authenticated.length).toBeGreaterThanOrEqual(20);
    const open: string[] = [];
    for (const f of authenticated) {
      const rule = ruleFor(permissions, f.type, f.field);
      if (!rule || codeOf(await answer(rule, contextOf(null))) !== 'UNAUTHENTICATED') open.push(`${f.type}.${f.field}`);
    }
    expect(open).toEqual([]);
  });

  it('every operation only a person may use carries @authenticated', async () => {
    const apiKey: Principal = { kind: 'apiKey', keyId: 'k', organizationId: 'o', workspaceId: null, scopes: new Set(), name: 'key', prefix: 'ok_' };
    const unmarked: string[] = [];
    for (const f of fields.filter((f) => f.type === 'Query' || f.type === 'Mutation')) {
      const rule = ruleFor(permissions, f.type, f.field);
      const refused = rule ? await answer(rule, contextOf(apiKey)) : undefined;
      const peopleOnly = refused instanceof AppError && /^Only a person/.test(refused.message);
      if (peopleOnly && !f.authenticated) unmarked.push(`${f.type}.${f.field}`);
    }
    expect(unmarked).toEqual([]);
  });
});
