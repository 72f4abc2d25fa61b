import {
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from './common/page';

export const LIMITS = {
  tokens: 2000,
  depth: 12,
  aliases: 30,
  directives: 30,
  /** Fields counted, lists multiplying by their `first` (or the default page size). */
  cost: 50_000,
};

interface Measure {
  depth: number;
  cost: number;
}

const intValue = (node: ValueNode | undefined, variables: Record<string, unknown>): number | undefined => {
  if (!node) return undefined;
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const value = variables[node.name.value];
    return typeof value === 'number' ? value : undefined;
  }
  return undefined;
};

/**
 * Why an operation is refused, if it is: too deep, too many aliases or directives, or too
 * costly — each field counts 1, and a list field's selection counts as many times as its
 * `first` (or its representations) ask for. Introspection (Sandbox's schema query) is not
 * counted. Run per request, with its variables, before execution.
 *
 * Linear in the document: each fragment is measured once and its measure reused at every
 * spread, so fragments that spread each other twice cost one visit each, not 2^N (a 943-byte
 * request once blocked the process for seconds). Aliases and directives are counted as
 * written: a fragment's fields merge into one response key wherever it is spread.
 */
export function queryLimitRefusal(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): string | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let aliases = 0;
  let directives = operation.directives?.length ?? 0;

  const multiplier = (field: FieldNode): number => {
    const first = field.arguments?.find((a) => a.name.value === 'first');
    if (first) return Math.max(1, intValue(first.value, variables) ?? DEFAULT_PAGE_SIZE);
    const representations = field.arguments?.find((a) => a.name.value === 'representations');
    if (representations?.value.kind === Kind.LIST) return Math.max(1, representations.value.values.length);
    if (representations?.value.kind === Kind.VARIABLE) {
      const value = variables[representations.value.name.value];
      return Array.isArray(value) ? Math.max(1, value.length) : 1;
    }
    return 1;
  };

  /** Each fragment's measure, relative to where it is spread; a cycle measures 0 (graphql's validation reports it). */
  const measured = new Map<string, Measure>();
  const measureFragment = (fragment: FragmentDefinitionNode): Measure => {
    const name = fragment.name.value;
    let known = measured.get(name);
    if (!known) {
      measured.set(name, { depth: 0, cost: 0 });
      known = measure(fragment.selectionSet, 0);
      measured.set(name, known);
    }
    return known;
  };

  function measure(set: SelectionSetNode | undefined, depth: number): Measure {
    if (!set) return { depth, cost: 0 };
    let maxDepth = depth;
    let cost = 0;
    for (const selection of set.selections) {
      directives += selection.directives?.length ?? 0;
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        if (selection.alias) aliases += 1;
        const inner = measure(selection.selectionSet, depth + 1);
        cost += 1 + multiplier(selection) * inner.cost;
        maxDepth = Math.max(maxDepth, inner.depth);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const inner = measure(selection.selectionSet, depth);
        cost += inner.cost;
        maxDepth = Math.max(maxDepth, inner.depth);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment) continue;
        const inner = measureFragment(fragment);
        cost += inner.cost;
        maxDepth = Math.max(maxDepth, depth + inner.depth);
      }
    }
    return { depth: maxDepth, cost };
  }

  const { depth, cost } = measure(operation.selectionSet, 0);
  if (depth > LIMITS.depth) return `The operation is ${depth} levels deep; at most ${LIMITS.depth} are allowed`;
  if (aliases > LIMITS.aliases) return `The operation uses ${aliases} aliases; at most ${LIMITS.aliases} are allowed`;
  if (directives > LIMITS.directives) return `The operation uses ${directives} directives; at most ${LIMITS.directives} are allowed`;
  if (cost > LIMITS.cost) return `The operation would cost ${Number.isSafeInteger(cost) ? cost : 'over a quadrillion'} (lists multiply by their page size); at most ${LIMITS.cost} is allowed`;
  return undefined;
}
