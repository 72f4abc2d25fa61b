import fs from 'node:fs';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import gql from 'graphql-tag';
import { DEVELOPMENT_JWT_SECRET } from '../../src/config';

/**
 * A small accounts subgraph that owns `User { id email name }`, for trying the supergraph
 * locally (npm run gateway) and for the federation tests. It knows the users whose tokens it
 * has verified; a real accounts service has its own user store.
 */
interface Account {
  id: string;
  email: string | null;
  name: string | null;
}

export async function startAccounts(options: { port: number; jwtSecret?: string }): Promise<{ url: string; stop: () => Promise<void> }> {
  // Required here rather than imported: jose is ESM-only, and test runners load this file's exports.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const { jwtVerify } = require('jose') as typeof import('jose');
  const accounts = new Map<string, Account>();
  const secret = new TextEncoder().encode(options.jwtSecret ?? DEVELOPMENT_JWT_SECRET);
  const typeDefs = gql(fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8'));
  const resolvers = {
    Query: { me: (_: unknown, __: unknown, ctx: { me: Account | null }) => ctx.me },
    User: { __resolveReference: (ref: { id: string }) => accounts.get(ref.id) ?? { id: ref.id, email: null, name: null } },
  };
  const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers: resolvers as never }) });
  const { url } = await startStandaloneServer(server, {
    listen: { port: options.port, host: '127.0.0.1' },
    context: async ({ req }) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || token.startsWith('ok_')) return { me: null };
      try {
        const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
        if (typeof payload.sub !== 'string' || typeof payload.email !== 'string') return { me: null };
        const me = { id: payload.sub, email: payload.email.toLowerCase(), name: typeof payload.name === 'string' ? payload.name : null };
        accounts.set(me.id, me);
        return { me };
      } catch {
        return { me: null };
      }
    },
  });
  return { url, stop: () => server.stop() };
}

if (require.main === module) {
  const port = Number(process.env.ACCOUNTS_PORT ?? 4002);
  startAccounts({ port, jwtSecret: process.env.JWT_SECRET }).then(({ url, stop }) => {
    console.log(`accounts subgraph ready at ${url}`);
    const shutdown = () => void stop().then(() => process.exit(0));
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  });
}
