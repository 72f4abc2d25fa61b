import fs from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { composeServices as composeWithGuild } from '@theguild/federation-composition';
import { parse } from 'graphql';
import YAML from 'yaml';
import { PROJECT_ROOT } from '../src/paths';
import { withoutAuthDirectives } from '../src/federation-sdl';

interface SupergraphConfig {
  subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
}

/**
 * Composes the subgraphs of a rover supergraph config, as `rover supergraph compose` does.
 * `routingUrls` overrides where the supergraph routes a subgraph (tests, other ports);
 * `extra` adds subgraphs by SDL; `authDirectives: false` composes each SDL as the subgraph
 * publishes it with FEDERATION_AUTH_DIRECTIVES=false (for @apollo/gateway); `composer` picks
 * Apollo's composition (@apollo/composition, the default, what rover runs) or The Guild's
 * (@theguild/federation-composition, what Hive uses).
 */
export function composeSupergraph(
  configFile = path.join(PROJECT_ROOT, 'supergraph.yaml'),
  options: {
    routingUrls?: Record<string, string>;
    extra?: { name: string; url: string; sdl: string }[];
    authDirectives?: boolean;
    composer?: 'apollo' | 'guild';
  } = {},
): string {
  const config = YAML.parse(fs.readFileSync(configFile, 'utf8')) as SupergraphConfig;
  const sdlOf = (sdl: string) => parse(options.authDirectives === false ? withoutAuthDirectives(sdl) : sdl);
  const services = [
    ...Object.entries(config.subgraphs).map(([name, subgraph]) => ({
      name,
      url: options.routingUrls?.[name] ?? subgraph.routing_url,
      typeDefs: sdlOf(fs.readFileSync(path.resolve(path.dirname(configFile), subgraph.schema.file), 'utf8')),
    })),
    ...(options.extra ?? []).map(({ name, url, sdl }) => ({ name, url, typeDefs: sdlOf(sdl) })),
  ];
  const result = options.composer === 'guild' ? composeWithGuild(services) : composeServices(services);
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
