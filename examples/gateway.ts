import { spawn } from 'node:child_process';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { startStandaloneServer } from '@apollo/server/standalone';
import { PROJECT_ROOT } from '../src/paths';
import { startAccounts } from './accounts/server';
import { composeSupergraph } from './compose';

interface GatewayContext {
  authorization?: string;
}

/** Forwards the client's Authorization to every subgraph, and Router-Authorization when a router secret is set. */
class ForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    config: { url: string; name: string },
    private readonly routerSecret: string | undefined,
    private readonly onResponse?: (subgraph: string, headers: Headers) => void,
  ) {
    super({ url: config.url });
    this.name = config.name;
  }

  private readonly name: string;

  willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    if (this.routerSecret) request.http?.headers.set('router-authorization', this.routerSecret);
  }

  didReceiveResponse({ response }: { response: GatewayGraphQLResponse }): GatewayGraphQLResponse {
    if (this.onResponse && response.http) this.onResponse(this.name, response.http.headers as unknown as Headers);
    return response;
  }
}

/**
 * @apollo/gateway implements no `for: SECURITY` feature: it refuses a supergraph linking
 * @authenticated / @requiresScopes, which only Apollo Router enforces. It gets them as
 * plain (advisory) links; the subgraph enforces all of it itself anyway.
 */
export function forGateway(supergraphSdl: string): string {
  return supergraphSdl.replace(/(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes)\/v[\d.]+"), for: SECURITY\)/g, '$1)');
}

/** An @apollo/gateway serving `supergraphSdl` on `port`. */
export async function startGateway(options: {
  supergraphSdl: string;
  port: number;
  routerSecret?: string;
  onSubgraphResponse?: (subgraph: string, headers: Headers) => void;
}): Promise<{ url: string; stop: () => Promise<void> }> {
  const gateway = new ApolloGateway({
    supergraphSdl: forGateway(options.supergraphSdl),
    buildService: ({ url, name }) => new ForwardingDataSource({ url: url!, name }, options.routerSecret, options.onSubgraphResponse),
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: options.port, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  return { url, stop: () => server.stop() };
}

/** npm run gateway: this subgraph (4001), the example accounts subgraph (4002) and a gateway (4000). */
async function main(): Promise<void> {
  const port = Number(process.env.GATEWAY_PORT ?? 4000);
  const subgraphPort = Number(process.env.PORT ?? 4001);
  const accountsPort = Number(process.env.ACCOUNTS_PORT ?? 4002);
  const organizations = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: String(subgraphPort) },
    stdio: 'inherit',
  });
  const ready = async () => {
    for (let i = 0; i < 600; i++) {
      if (organizations.exitCode !== null) throw new Error('the organizations subgraph exited');
      try {
        if ((await fetch(`http://127.0.0.1:${subgraphPort}/health/ready`)).ok) return;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the organizations subgraph did not become ready');
  };
  const accounts = await startAccounts({ port: accountsPort, jwtSecret: process.env.JWT_SECRET });
  await ready();
  const supergraphSdl = composeSupergraph(undefined, {
    routingUrls: { organizations: `http://127.0.0.1:${subgraphPort}/graphql`, accounts: `http://127.0.0.1:${accountsPort}/` },
  });
  const gateway = await startGateway({ supergraphSdl, port, routerSecret: process.env.ROUTER_SECRET });
  console.log(`gateway ready at ${gateway.url} (organizations on ${subgraphPort}, accounts on ${accountsPort})`);
  const shutdown = async () => {
    await gateway.stop();
    await accounts.stop();
    organizations.kill('SIGTERM');
    organizations.once('exit', () => process.exit(0));
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
