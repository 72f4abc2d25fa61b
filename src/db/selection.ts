import { collectSubFields } from '@graphql-tools/utils';
import { getNamedType, isObjectType, type FieldNode, type GraphQLNamedType, type GraphQLResolveInfo } from 'graphql';

/**
 * What a page of rows must read, derived from the operation: the entity properties its
 * selected fields declare they read (`reads`), or undefined (the whole row) when a selected
 * field declares nothing. A field added without a declaration costs speed, never an answer.
 * test/selection-columns.test.ts asks every field alone and compares it with the whole row.
 */
export function propertiesRead(info: GraphQLResolveInfo, reads: FieldReads): readonly string[] | undefined {
  const properties = new Set(reads.always);
  for (const field of connectionNodeFields(info)) {
    const declared = reads.byField[field];
    if (!declared) return undefined;
    for (const property of declared) properties.add(property);
  }
  return [...properties].sort();
}

/** A type's fields and the entity properties each reads (`__typename` reads nothing). */
export interface FieldReads {
  /** Read whatever is selected (the id, and what the rules and loaders need). */
  always: readonly string[];
  byField: Readonly<Record<string, readonly string[]>>;
}

/** The same field's nodes under one set of variables: every parent of a list asks the same. */
const seen = new WeakMap<readonly FieldNode[], WeakMap<object, Set<string>>>();

/** The fields selected on a connection's nodes, through `nodes { … }` and `edges { node { … } }`, fragments, @skip and @include. */
function connectionNodeFields(info: GraphQLResolveInfo): Set<string> {
  let byVariables = seen.get(info.fieldNodes);
  if (!byVariables) seen.set(info.fieldNodes, (byVariables = new WeakMap()));
  let fields = byVariables.get(info.variableValues);
  if (fields) return fields;
  fields = new Set();
  for (const nodes of selectedUnder(info, getNamedType(info.returnType), [...info.fieldNodes], ['nodes']).concat(selectedUnder(info, getNamedType(info.returnType), [...info.fieldNodes], ['edges', 'node']))) {
    for (const name of selectedUnder(info, nodes.type, nodes.fieldNodes, []).map((f) => f.name)) if (!name.startsWith('__')) fields.add(name);
  }
  byVariables.set(info.variableValues, fields);
  return fields;
}

interface Selected {
  name: string;
  type: GraphQLNamedType;
  fieldNodes: FieldNode[];
}

/** The fields selected under `fieldNodes` of `type`, following `path` (field names) down; at its end, each field selected there. */
function selectedUnder(info: GraphQLResolveInfo, type: GraphQLNamedType, fieldNodes: FieldNode[], path: string[]): Selected[] {
  if (!isObjectType(type)) return [];
  const found: Selected[] = [];
  // @graphql-tools/utils takes graphql 17's variables ({ coerced, sources }) and hands graphql 16 `coerced`.
  const variables = { coerced: info.variableValues, sources: {} };
  for (const nodes of collectSubFields(info.schema, info.fragments, variables, type, fieldNodes).fields.values()) {
    const name = nodes[0].name.value;
    if (path.length && name !== path[0]) continue;
    const fieldType = name.startsWith('__') ? type : getNamedType(type.getFields()[name].type);
    if (path.length > 1) found.push(...selectedUnder(info, fieldType, nodes, path.slice(1)));
    else found.push({ name, type: fieldType, fieldNodes: nodes });
  }
  return found;
}
