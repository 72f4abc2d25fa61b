import fs from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import YAML from 'yaml';
import { PROJECT_ROOT } from '../src/paths';

interface SupergraphConfig {
  subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
}

/**
 * Composes the subgraphs of a rover supergraph config, as `rover supergraph compose` does.
 * `routingUrls` overrides where the supergraph routes a subgraph (tests, other ports);
 * `extra` adds subgraphs by SDL.
 */
export function composeSupergraph(
  configFile = path.join(PROJECT_ROOT, 'supergraph.yaml'),
  options: { routingUrls?: Record<string, string>; extra?: { name: string; url: string; sdl: string }[] } = {},
): string {
  const config = YAML.parse(fs.readFileSync(configFile, 'utf8')) as SupergraphConfig;
  const services = [
    ...Object.entries(config.subgraphs).map(([name, subgraph]) => ({
      name,
      url: options.routingUrls?.[name] ?? subgraph.routing_url,
      typeDefs: parse(fs.readFileSync(path.resolve(path.dirname(configFile), subgraph.schema.file), 'utf8')),
    })),
    ...(options.extra ?? []).map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })),
  ];
  const result = composeServices(services);
  if (result.errors?.length) throw new Error(`composition failed:\n${result.errors.map((e) => `- ${e.message}`).join('\n')}`);
  return result.supergraphSdl!;
}

if (require.main === module) {
  try {
    const sdl = composeSupergraph();
    fs.writeFileSync(path.join(PROJECT_ROOT, 'supergraph.graphql'), sdl);
    console.log('Wrote supergraph.graphql');
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
