import fs from 'node:fs';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLResolveInfo } from 'graphql';
import { PROJECT_ROOT } from '../src/paths';

/**
 * The ceiling: the same schema on the same Apollo Server, its resolvers answering from memory
 * with the data our server returned for each operation (captured by run.ts). What the stack
 * costs without a database, authorization or business rules.
 */
const captured = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as Record<string, Record<string, unknown>>;
const typeDefs = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'schema.graphql'), 'utf8'));
const fromCapture = (_root: unknown, _args: unknown, _ctx: unknown, info: GraphQLResolveInfo) => captured[info.operation.name?.value ?? '']?.[info.fieldName];
const entities = new Map<string, unknown>();
for (const op of Object.values(captured)) for (const e of (op._entities as { id: string }[] | undefined) ?? []) entities.set(e.id, e);

const resolvers = {
  Query: { viewer: fromCapture, organization: fromCapture, authorize: fromCapture },
  Mutation: { createOrganization: fromCapture, inviteMembers: fromCapture },
  Workspace: { __resolveReference: (ref: { id: string }) => entities.get(ref.id) },
};
// Our server turns off the cache-control plugin (a wrapper on every field): so does the ceiling.
const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers: resolvers as never }), plugins: [ApolloServerPluginCacheControlDisabled()] });
startStandaloneServer(server, { listen: { port: Number(process.argv[3]), host: '127.0.0.1' } }).then(({ url }) => console.log(`ceiling ready at ${url}`));
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
