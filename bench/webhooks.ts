/**
 * Webhook delivery, measured (issue 19): how fast events reach a receiver, and how many per second.
 *
 *   npm run bench:webhooks [-- --seconds 10 --writers 1,10 --backlog 2000]
 *
 * Starts PostgreSQL (embedded, or on DATABASE_URL's server) with a fresh database, the subgraph on
 * it as users run it, and a receiver on localhost that verifies every delivery with the
 * `standardwebhooks` library. Each writer owns an organization with one endpoint at the receiver.
 *
 * - Live: for each writer count, every writer renames its organization as fast as the server
 *   answers for `--seconds`; per event, the time from its change (the audit event's occurredAt,
 *   taken inside the transaction, so it includes the commit) to the receiver verifying it: p50,
 *   p99, max; and the events delivered per second.
 * - Backlog: `--backlog` events written for 10 endpoints while no worker runs, then delivered by a
 *   server that starts: the worker's throughput when nothing else runs.
 *
 * The write path's cost of the outbox is measured side by side by the main bench:
 * `npm run bench -- --only CreateOrganization,InviteMembers --baseline <a ref without the outbox>`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { startServer, TEST_JWT_SECRET, type RunningServer } from '../test/support/servers';
import { waitFor } from '../test/support/wait';
import { freshDatabase } from './database';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const SECONDS = Number(arg('seconds', '10'));
const WRITERS = arg('writers', '1,10').split(',').map(Number);
const BACKLOG = Number(arg('backlog', '2000'));

function token(sub: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, email: `${sub}@example.test`, email_verified: true, name: sub, iat: now, exp: now + 86_400 })}`;
  return `${body}.${createHmac('sha256', TEST_JWT_SECRET).update(body).digest('base64url')}`;
}

async function gql(server: RunningServer, bearer: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** What the receiver saw of one event: when it verified it, and when its change happened. */
interface Receipt {
  receivedAt: number;
  occurredAt: number;
}

/** A receiver as a user writes one: verify with standardwebhooks (the path's secret), answer 204. */
class Receiver {
  readonly receipts = new Map<string, Receipt>();
  readonly secrets = new Map<string, Webhook>();
  rejected = 0;
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const payload = this.secrets.get(req.url ?? '')!.verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>) as {
          type: string;
          data: { occurredAt: string };
        };
        if (payload.type === 'organization.updated') {
          this.receipts.set(String(req.headers['webhook-id']), { receivedAt: Date.now(), occurredAt: Date.parse(payload.data.occurredAt) });
        }
        res.writeHead(204).end();
      } catch {
        this.rejected++;
        res.writeHead(400).end();
      }
    });
  });
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

interface Writer {
  bearer: string;
  organizationId: string;
  endpointId: string;
}

async function writers(server: RunningServer, receiver: Receiver, count: number): Promise<Writer[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const bearer = token(`bench-${randomUUID()}`);
      const slug = `w-${randomUUID().slice(0, 8)}`;
      const { createOrganization } = await gql(server, bearer, 'mutation($n: String!, $s: String!) { createOrganization(input: { name: $n, slug: $s }) { id } }', { n: slug, s: slug });
      const path = `/${createOrganization.id}`;
      const { createWebhookEndpoint } = await gql(
        server,
        bearer,
        'mutation($o: ID!, $u: String!) { createWebhookEndpoint(input: { organizationId: $o, url: $u, eventTypes: ["organization.updated"] }) { endpoint { id } secret } }',
        { o: createOrganization.id, u: `http://127.0.0.1:${receiver.port}${path}` },
      );
      receiver.secrets.set(path, new Webhook(createWebhookEndpoint.secret));
      return { bearer, organizationId: createOrganization.id, endpointId: createWebhookEndpoint.endpoint.id };
    }),
  );
}

const rename = (server: RunningServer, w: Writer, n: number) =>
  gql(server, w.bearer, 'mutation($id: ID!, $n: String!) { updateOrganization(input: { id: $id, name: $n }) { id } }', { id: w.organizationId, n: `Renamed ${n}` });

async function live(server: RunningServer, receiver: Receiver, count: number): Promise<string> {
  const team = await writers(server, receiver, count);
  receiver.receipts.clear();
  const started = Date.now();
  let written = 0;
  await Promise.all(
    team.map(async (w) => {
      while (Date.now() - started < SECONDS * 1000) await rename(server, w, ++written);
    }),
  );
  const wrote = Date.now() - started;
  await waitFor(() => `${written} deliveries (got ${receiver.receipts.size})`, () => receiver.receipts.size >= written, { timeout: 120_000 });
  const lag = [...receiver.receipts.values()].map((r) => r.receivedAt - r.occurredAt).sort((a, b) => a - b);
  const last = Math.max(...[...receiver.receipts.values()].map((r) => r.receivedAt));
  return `| ${count} | ${written} | ${((written * 1000) / wrote).toFixed(0)} | ${((written * 1000) / (last - started)).toFixed(0)} | ${percentile(lag, 50)} | ${percentile(lag, 99)} | ${lag[lag.length - 1]} |`;
}

/** Events written while no worker runs (a server with WEBHOOK_WORKER=false), then drained by one that starts. */
async function backlog(env: Record<string, string>, receiver: Receiver): Promise<string> {
  const writing = await startServer({ ...env, WEBHOOK_WORKER: 'false' });
  let n = 0;
  try {
    const team = await writers(writing, receiver, 10);
    receiver.receipts.clear();
    await Promise.all(
      team.map(async (w) => {
        while (n < BACKLOG) await rename(writing, w, ++n);
      }),
    );
  } finally {
    await writing.stop();
  }
  const delivering = await startServer(env);
  try {
    await waitFor(() => `${n} deliveries (got ${receiver.receipts.size})`, () => receiver.receipts.size >= n, { timeout: 300_000, interval: 10 });
  } finally {
    await delivering.stop();
  }
  const times = [...receiver.receipts.values()].map((r) => r.receivedAt);
  const ms = Math.max(...times) - Math.min(...times);
  return `Backlog: ${n} events waiting for 10 endpoints, delivered by a server that started afterwards in ${(ms / 1000).toFixed(1)} s from the first receipt to the last: ${((n * 1000) / ms).toFixed(0)} events/s.`;
}

async function main(): Promise<void> {
  const database = await freshDatabase('orgs_bench_webhooks');
  const receiver = new Receiver();
  await receiver.start();
  const env = { DATABASE_URL: database.url, LOG_LEVEL: 'warn', NODE_ENV: 'development' };
  const server = await startServer(env);
  try {
    const rows = [];
    for (const count of WRITERS) rows.push(await live(server, receiver, count));
    await server.stop();
    const drained = await backlog(env, receiver);
    console.log(
      [
        `Webhook delivery, one server (WEBHOOK_CONCURRENCY and WEBHOOK_ENDPOINT_CONCURRENCY at their defaults), a receiver verifying with standardwebhooks, ${SECONDS} s per row:`,
        '',
        '| writers | events | written/s | delivered/s | change→receipt p50 ms | p99 ms | max ms |',
        '|---:|---:|---:|---:|---:|---:|---:|',
        ...rows,
        '',
        drained,
        receiver.rejected ? `The receiver REFUSED ${receiver.rejected} deliveries (signature).` : 'Every delivery verified.',
      ].join('\n'),
    );
  } finally {
    await server.stop();
    await receiver.stop();
    await database.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
