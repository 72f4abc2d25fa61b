import 'reflect-metadata';
import { Kind, parse, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { nodeFields } from './pagination';

/** What a resolver of the query's one top-level field would be handed. */
function infoFor(query: string): GraphQLResolveInfo {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  return { fieldNodes: [operation.selectionSet.selections[0] as FieldNode], fragments } as unknown as GraphQLResolveInfo;
}

describe('nodeFields: what a query asks of a connection\'s nodes', () => {
  it('reads nodes and edges { node }, through inline and named fragments, and nothing of pageInfo or edges themselves', () => {
    const info = infoFor(`{ members(first: 5) {
      totalCount pageInfo { endCursor }
      nodes { id role ... on Membership { email } }
      edges { cursor node { ...More } }
      ...Connection
    } }
    fragment More on Membership { createdAt user { id name } }
    fragment Connection on MembershipConnection { nodes { permissions } }`);
    expect([...nodeFields(info)].sort()).toEqual(['createdAt', 'email', 'id', 'permissions', 'role', 'user']);
  });

  it('counts a field under @skip or @include as asked, and works it out once per request\'s field', () => {
    const info = infoFor('query($x: Boolean!) { members { nodes { id createdAt @include(if: $x) } } }');
    const fields = nodeFields(info);
    expect([...fields].sort()).toEqual(['createdAt', 'id']);
    expect(nodeFields({ ...info })).toBe(fields);
  });

  it('is empty when only counts or cursors are asked', () => {
    expect(nodeFields(infoFor('{ members { totalCount edges { cursor } } }')).size).toBe(0);
  });
});
