import { Kind, parse, print, visit } from 'graphql';

// Its own module, graphql alone: the example gateways and their tests load it without the schema's resolvers (and jose, an ES module Jest cannot load).

/** The router-enforced authorization directives (Federation 2.5), which `FEDERATION_AUTH_DIRECTIVES=false` leaves out. */
const AUTH_DIRECTIVES = new Set(['authenticated', 'requiresScopes']);

/**
 * The SDL without @authenticated / @requiresScopes (nor their import): what the subgraph
 * publishes with FEDERATION_AUTH_DIRECTIVES=false, for gateways such as @apollo/gateway that
 * refuse a supergraph linking them `for: SECURITY`. The subgraph enforces the same rules itself.
 */
export function withoutAuthDirectives(sdl: string): string {
  const document = visit(parse(sdl), {
    Directive: (node) => (AUTH_DIRECTIVES.has(node.name.value) ? null : undefined),
    // Their definitions, in a printed `_service { sdl }` (schema.graphql).
    DirectiveDefinition: (node) => (AUTH_DIRECTIVES.has(node.name.value) ? null : undefined),
    // The import list of the federation @link.
    ListValue: (node, _key, parent) =>
      (parent as { name?: { value: string } } | undefined)?.name?.value === 'import'
        ? { ...node, values: node.values.filter((v) => !(v.kind === Kind.STRING && AUTH_DIRECTIVES.has(v.value.replace(/^@/, '')))) }
        : undefined,
  });
  return `${print(document)}\n`;
}
