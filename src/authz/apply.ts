import { defaultFieldResolver, isIntrospectionType, isObjectType, type GraphQLFieldResolver, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';

/** A rule's answer: allowed, or the Error that is the field's answer instead. */
export type Decision = true | Error;

/**
 * One authorization rule: a named decision function. It answers at once when what it needs is
 * already known, with a promise otherwise; it may also throw, which the wrapper turns into the
 * field's error (`failed` below). `perRequest` rules read only who asks, never the field: the
 * wrapper decides them once per request.
 */
export interface Rule {
  readonly name: string;
  readonly perRequest?: boolean;
  decide(parent: unknown, args: Record<string, unknown>, ctx: object, info: GraphQLResolveInfo): Decision | Promise<Decision>;
}

/** Per type: one rule for all its fields, or a rule per field (`'*'`: the type's other fields). */
export type PermissionMap = Record<string, Rule | Record<string, Rule>>;

export interface PermissionOptions {
  /** The answer for a field the map does not name. */
  denied: () => Error;
  /** What a rule that threw answers instead. */
  failed(error: unknown, ctx: object): Error;
}

/** Lets the field resolve as it would unguarded: its resolver is left untouched. */
export const allow: Rule = { name: 'allow', perRequest: true, decide: () => true };

/** The rule guarding `type.field`, undefined when the map does not name it (then it is denied). */
export function ruleFor(map: PermissionMap, type: string, field: string): Rule | undefined {
  const rules = map[type];
  if (!rules || isRule(rules)) return rules;
  return rules[field] ?? rules['*'];
}

type Resolver = GraphQLFieldResolver<unknown, object>;

/**
 * Puts the map's rules on the schema's resolvers, deny by default: a field the map does not
 * name answers `denied()`; an `allow` field keeps its resolver (no promise per field).
 */
export function applyPermissions(schema: GraphQLSchema, map: PermissionMap, options: PermissionOptions): GraphQLSchema {
  const unknownTypes = Object.keys(map).filter((name) => !schema.getType(name));
  if (unknownTypes.length) throw new Error(`Rules for types the schema does not have: ${unknownTypes.join(', ')}`);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    const fields = type.getFields();
    const rules = map[type.name];
    const unknownFields = rules && !isRule(rules) ? Object.keys(rules).filter((name) => name !== '*' && !fields[name]) : [];
    if (unknownFields.length) throw new Error(`Rules for fields ${type.name} does not have: ${unknownFields.join(', ')}`);
    for (const field of Object.values(fields)) {
      const rule = ruleFor(map, type.name, field.name);
      if (rule === allow) continue;
      field.resolve = rule ? guard(rule, field.resolve ?? defaultFieldResolver, options) : () => options.denied();
    }
  }
  return schema;
}

/** Per request: what each perRequest rule decided, or the promise of it. */
const decisions = new WeakMap<object, Map<Rule, Decision | Promise<Decision>>>();

function guard(rule: Rule, resolve: Resolver, options: PermissionOptions): Resolver {
  const decide: Resolver = (parent, args, ctx, info) => {
    try {
      const decision = rule.decide(parent, args, ctx, info);
      return decision instanceof Promise ? decision.catch((error: unknown) => options.failed(error, ctx)) : decision;
    } catch (error) {
      return options.failed(error, ctx);
    }
  };
  const decideOnce: Resolver = (parent, args, ctx, info) => {
    let known = decisions.get(ctx);
    if (!known) decisions.set(ctx, (known = new Map()));
    let decision = known.get(rule);
    if (decision === undefined) {
      decision = decide(parent, args, ctx, info) as Decision | Promise<Decision>;
      known.set(rule, decision);
      // Once settled, later fields read the decision itself, without a promise.
      if (decision instanceof Promise) void decision.then((settled) => known.set(rule, settled));
    }
    return decision;
  };
  const check = rule.perRequest ? decideOnce : decide;
  // Anything but `true` refuses: a rule's Error as it is, any other value as `denied()`.
  const refusal = (decision: unknown) => (decision instanceof Error ? decision : options.denied());
  return (parent, args, ctx, info) => {
    const decision = check(parent, args, ctx, info) as Decision | Promise<Decision>;
    if (decision === true) return resolve(parent, args, ctx, info);
    if (decision instanceof Promise) return decision.then((settled) => (settled === true ? resolve(parent, args, ctx, info) : refusal(settled)));
    return refusal(decision);
  };
}

const isRule = (value: Rule | Record<string, Rule>): value is Rule => typeof (value as Rule).decide === 'function';
