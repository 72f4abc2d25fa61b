import { defaultFieldResolver, isIntrospectionType, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { allow, type IRule } from 'graphql-shield';

/** A rule of graphql-shield's: `rule(...)`, `allow`, `deny`, `and(...)`… */
type ShieldRule = Pick<IRule, 'resolve'>;
type FieldRules = Record<string, ShieldRule>;
export type RuleTree = Record<string, ShieldRule | FieldRules>;
type ShieldOptions = Parameters<IRule['resolve']>[4];
type Resolver = GraphQLFieldResolver<unknown, object>;

/**
 * Puts graphql-shield rules on the schema's resolvers, deny by default: the same tree, the
 * same rules, the same answers as `shield(tree, options)`, without its cost on every field.
 * shield's generator wraps every field (`allow` ones included) in an async middleware, so
 * each of the ~2,600 fields of a dashboard answer became a promise; the benchmark showed
 * authorization taking a third of the throughput. Here an `allow` field keeps its resolver,
 * and a rule that depends only on the request (`cache: 'contextual'`) is decided once per
 * request, after which its fields resolve synchronously.
 */
export function applyPermissions(schema: GraphQLSchema, tree: RuleTree, options: { fallbackRule: ShieldRule; fallbackError: () => Error }): GraphQLSchema {
  // What rules see as shield's options: errors they return reach the client, nothing is rethrown.
  const shieldOptions = Object.assign({}, options, { debug: false, allowExternalErrors: true }) as unknown as ShieldOptions;
  const unknownTypes = Object.keys(tree).filter((name) => !schema.getType(name));
  if (unknownTypes.length) throw new Error(`Rules for types the schema does not have: ${unknownTypes.join(', ')}`);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    const rules = tree[type.name];
    const fields = type.getFields();
    const fieldRules = rules && !isRule(rules) ? rules : undefined;
    const unknownFields = Object.keys(fieldRules ?? {}).filter((name) => name !== '*' && !fields[name]);
    if (unknownFields.length) throw new Error(`Rules for fields ${type.name} does not have: ${unknownFields.join(', ')}`);
    for (const field of Object.values(fields)) {
      const rule = (fieldRules ? (fieldRules[field.name] ?? fieldRules['*']) : (rules as ShieldRule | undefined)) ?? options.fallbackRule;
      if (rule !== (allow as ShieldRule)) field.resolve = guard(rule, field.resolve ?? defaultFieldResolver, options.fallbackError, shieldOptions);
    }
  }
  return schema;
}

type Decision = true | Error | false;

/** Per request: what each contextual rule decided, or the promise of it. */
const decisions = new WeakMap<object, Map<ShieldRule, Decision | Promise<Decision>>>();

function guard(rule: ShieldRule, resolve: Resolver, fallbackError: () => Error, options: ShieldOptions): Resolver {
  // A rule's Error is the field's answer; a plain "no" is the fallback error (FORBIDDEN).
  const refuse = (decision: Error | false) => (decision instanceof Error ? decision : fallbackError());
  const decide = (...[parent, args, ctx, info]: Parameters<Resolver>) => {
    // shield's rules keep their own per-request cache there.
    const shieldContext = ctx as { _shield?: { cache: Record<string, unknown> } };
    shieldContext._shield ??= { cache: {} };
    return rule.resolve(parent as object, args, shieldContext as never, info, options) as Promise<Decision>;
  };

  if ((rule as { cache?: unknown }).cache !== 'contextual') {
    const checked: Resolver = async (parent, args, ctx, info) => {
      const decision = await decide(parent, args, ctx, info);
      return decision === true ? resolve(parent, args, ctx, info) : refuse(decision);
    };
    // A rule that can tell at once that it allows (rules.ts, `allowedNow`) spares the field its promises.
    const allowedNow = (rule as { allowedNow?: (parent: unknown, args: Record<string, unknown>, ctx: object) => boolean }).allowedNow;
    if (!allowedNow) return checked;
    const allowsNow = (parent: unknown, args: Record<string, unknown>, ctx: object) => {
      try {
        return allowedNow(parent, args, ctx);
      } catch {
        return false; // the full path decides, and reports
      }
    };
    return (parent, args, ctx, info) => (allowsNow(parent, args, ctx) ? resolve(parent, args, ctx, info) : checked(parent, args, ctx, info));
  }
  return (parent, args, ctx, info) => {
    let known = decisions.get(ctx);
    if (!known) decisions.set(ctx, (known = new Map()));
    const decided = known.get(rule);
    if (decided === true) return resolve(parent, args, ctx, info);
    if (decided !== undefined && !(decided instanceof Promise)) return refuse(decided);
    let pending = decided;
    if (!pending) {
      pending = decide(parent, args, ctx, info);
      known.set(rule, pending);
      void pending.then((decision) => known.set(rule, decision));
    }
    return pending.then((decision) => (decision === true ? resolve(parent, args, ctx, info) : refuse(decision)));
  };
}

const isRule = (value: ShieldRule | FieldRules): value is ShieldRule => typeof (value as ShieldRule).resolve === 'function';
