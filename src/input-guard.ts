import type { ApolloServerPlugin } from '@apollo/server';
import { visit, type DocumentNode, type GraphQLFieldResolver, type OperationDefinitionNode } from 'graphql';
import { AppError, badInput } from './errors';
import { queryLimitRefusal } from './query-limits';

const NUL = '\u0000';
/**
 * An unpaired UTF-16 surrogate has no UTF-8 form: the driver would store U+FFFD in its place,
 * silently — and an audit event hashed over what was sent would no longer verify.
 */
const LONE_SURROGATE = /\p{Surrogate}/u;
const unstorable = (text: string) => text.includes(NUL) || LONE_SURROGATE.test(text);

/** The innermost field name under which a string in `value` holds a NUL character or a lone surrogate. */
function nulField(value: unknown, field: string): string | undefined {
  if (typeof value === 'string') return unstorable(value) ? field : undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = nulField(item, field);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      // Keys too: a JSON argument's keys are stored as they are.
      const found = unstorable(key) ? key : nulField(inner, key);
      if (found) return found;
    }
  }
  return undefined;
}

/** What nulInDocument found per document: Apollo hands every request of the same text the same parsed document. */
const nulsInDocuments = new WeakMap<DocumentNode, string | null>();

/** The same for literals written into the document: the argument or input field holding one. */
function nulInDocument(document: DocumentNode): string | undefined {
  let known = nulsInDocuments.get(document);
  if (known === undefined) nulsInDocuments.set(document, (known = findNulInDocument(document) ?? null));
  return known ?? undefined;
}

function findNulInDocument(document: DocumentNode): string | undefined {
  let found: string | undefined;
  const names: string[] = [];
  visit(document, {
    Argument: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
    ObjectField: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
    StringValue(literal) {
      if (!found && unstorable(literal.value)) found = names[names.length - 1];
    },
  });
  return found;
}

/**
 * Refuses, before anything runs: operations past the query limits (query-limits.ts), any string holding a NUL character (PostgreSQL cannot store
 * one, and each resolver would discover it as a SQL error) or a lone surrogate (stored altered), and subscription operations.
 * API.md's `Subscription` type (a plan) is the subscription root for Federation, which allows
 * no other type by that name; this subgraph streams nothing.
 */
export function requestGuardPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation }) {
          if (operation?.operation === 'subscription') {
            throw new AppError('BAD_USER_INPUT', 'This subgraph serves no subscription operations; read Organization.subscription instead', {
              http: { status: 400 },
            });
          }
          const refusal = operation ? limitRefusal(document, operation, request.variables ?? {}) : undefined;
          if (refusal) throw new AppError('BAD_USER_INPUT', refusal, { reason: 'QUERY_LIMIT', http: { status: 400 } });
          const field = nulField(request.variables ?? {}, '') ?? nulInDocument(document);
          if (field) {
            throw new AppError('BAD_USER_INPUT', 'Strings may not contain NUL characters or unpaired surrogates', { field, http: { status: 400 } });
          }
        },
      };
    },
  };
}

/** Refusals of operations without variables, per parsed document and operation: they cannot change. */
const refusalsWithoutVariables = new WeakMap<OperationDefinitionNode, string | null>();

function limitRefusal(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): string | undefined {
  if (operation.variableDefinitions?.length) return queryLimitRefusal(document, operation, variables);
  let known = refusalsWithoutVariables.get(operation);
  if (known === undefined) refusalsWithoutVariables.set(operation, (known = queryLimitRefusal(document, operation, {}) ?? null));
  return known ?? undefined;
}

/** The key fields of each entity this subgraph resolves. A Map: a client's `__typename` never reaches a prototype. */
const ENTITY_KEYS: ReadonlyMap<string, readonly (readonly string[])[]> = new Map([
  ['Organization', [['id'], ['slug']]],
  ['Membership', [['id']]],
  ['Workspace', [['id']]],
  ['User', [['id']]],
  ['Invitation', [['id']]],
]);

/**
 * `_entities` accepts only representations of our entities carrying a whole key of strings:
 * anything else is BAD_USER_INPUT, never an error inside a reference resolver. Wraps the
 * resolver federation gives `_entities`.
 */
export function entitiesGuard<C>(resolve: GraphQLFieldResolver<unknown, C>): GraphQLFieldResolver<unknown, C> {
  return (parent, args, context, info) => {
    const representations = (args as { representations?: unknown }).representations;
    if (!Array.isArray(representations)) throw badInput('representations', 'representations must be a list');
    if (representations.length > 1000) throw badInput('representations', 'At most 1,000 representations at once');
    representations.forEach((representation, i) => {
      const r = representation as Record<string, unknown> | null;
      const keys = r && typeof r === 'object' && typeof r.__typename === 'string' ? ENTITY_KEYS.get(r.__typename) : undefined;
      if (!keys) throw badInput('representations', `representations[${i}] is not an entity of this subgraph`);
      if (!keys.some((key) => key.every((field) => typeof r![field] === 'string'))) {
        throw badInput('representations', `representations[${i}] needs its key (${keys.map((k) => k.join(' ')).join(' or ')}) as strings`);
      }
    });
    return resolve(parent, args, context, info);
  };
}
