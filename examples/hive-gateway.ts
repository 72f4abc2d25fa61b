import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeSupergraph } from './compose';
import { accountsSubgraph, organizationsSubgraph } from './gateway';

/** What this uses of Hive Gateway's runtime, typed here: its own declarations augment graphql's error extensions for the whole program (Yoga's `http.headers`, a record where Apollo's is a Map). */
interface HiveRuntime extends http.RequestListener {
  dispose(): Promise<void> | void;
}
interface HiveRequest {
  request: { headers: { get(name: string): string | null } };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createGatewayRuntime } = require('@graphql-hive/gateway') as { createGatewayRuntime(config: Record<string, unknown>): HiveRuntime };

/**
 * Hive Gateway (@graphql-hive/gateway, as a library) serving `supergraphSdl` on `port` (0: any
 * free one), composed with The Guild's composition library. It forwards the client's
 * Authorization and X-Request-Id, and Router-Authorization when a router secret is set.
 */
export async function startHiveGateway(options: { supergraphSdl: string; port: number; routerSecret?: string }): Promise<{ url: string; stop: () => Promise<void> }> {
  const gateway = createGatewayRuntime({
    supergraph: options.supergraphSdl,
    // The subgraph's errors pass as they are (they carry no stack); the gateway's own are masked.
    maskedErrors: true,
    landingPage: false,
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }: HiveRequest) => ({
        ...(request.headers.get('authorization') ? { authorization: request.headers.get('authorization')! } : {}),
        ...(request.headers.get('x-request-id') ? { 'x-request-id': request.headers.get('x-request-id')! } : {}),
        ...(options.routerSecret ? { 'router-authorization': options.routerSecret } : {}),
      }),
    },
  });
  const server = http.createServer(gateway);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    stop: async () => {
      await new Promise((resolve) => server.close(resolve));
      await gateway.dispose();
    },
  };
}

/** npm run hive-gateway: as npm run gateway, with Hive Gateway on GATEWAY_PORT (4000) and The Guild's composition. */
async function main(): Promise<void> {
  const port = Number(process.env.GATEWAY_PORT ?? 4000);
  const subgraphPort = Number(process.env.PORT ?? 4001);
  const accountsPort = Number(process.env.ACCOUNTS_PORT ?? 4002);
  const organizations = await organizationsSubgraph(subgraphPort);
  const accounts = await accountsSubgraph(accountsPort);
  const supergraphSdl = composeSupergraph(undefined, {
    composer: 'guild',
    routingUrls: { organizations: `http://127.0.0.1:${subgraphPort}/graphql`, accounts: accounts.url },
  });
  const gateway = await startHiveGateway({ supergraphSdl, port, routerSecret: process.env.ROUTER_SECRET });
  console.log(`hive gateway ready at ${gateway.url} (organizations on ${subgraphPort}, accounts on ${accountsPort})`);
  const shutdown = async () => {
    await gateway.stop();
    await accounts.stop?.();
    organizations.child?.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

if (require.main === module) {
  main().catch((error) => {
    console.error(`npm run hive-gateway: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
