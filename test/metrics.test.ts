import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { freePort } from '../src/db/embedded';
import { gql } from './support/client';
import { startServer, type RunningServer } from './support/servers';

const databaseUrl = () => process.env.TEST_DATABASE_URL!;
const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: 'a-production-secret-of-at-least-32-chars!',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

/** Operation names a client made up: valid GraphQL names, each one new. */
const randomNames = (count: number) => Array.from({ length: count }, () => `Probe_${randomBytes(6).toString('hex')}`);

async function sendOperations(url: string, names: string[]): Promise<void> {
  // 20 at a time: fast, without queuing past the server's concurrency.
  for (let i = 0; i < names.length; i += 20) {
    const results = await Promise.all(names.slice(i, i + 20).map((name) => gql(`query ${name} { __typename }`, {}, null, { url })));
    for (const res of results) expect(res.data).toEqual({ __typename: 'Query' });
  }
}

const metricsText = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  return res.text();
};

const operationLabels = (text: string) => new Set([...text.matchAll(/graphql_operation_duration_seconds_count\{operation="([^"]*)"/g)].map((m) => m[1]));

describe('/metrics', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
  });

  it('keeps the operation label set bounded, whatever names clients make up', async () => {
    server = await startServer({ DATABASE_URL: databaseUrl() });
    await sendOperations(server.url, randomNames(300));
    const after300 = await metricsText(server.url);
    const labels = operationLabels(after300);
    // At most 100 names of their own; the rest share `other`.
    expect(labels.size).toBeLessThanOrEqual(101);
    expect(labels.has('other')).toBe(true);

    // 300 more new names: nothing new appears, the text does not grow.
    const later = randomNames(300);
    await sendOperations(server.url, later);
    const after600 = await metricsText(server.url);
    for (const name of later) expect(after600).not.toContain(name);
    expect(operationLabels(after600)).toEqual(labels);
    expect(after600.length).toBeLessThan(after300.length * 1.05);

    // Anonymous operations keep their own label.
    await gql('{ __typename }', {}, null, { url: server.url });
    expect(await metricsText(server.url)).toMatch(/graphql_operation_duration_seconds_count\{operation="anonymous",type="query",outcome="ok"\}/);
  });

  it('gives no label to a name whose operation failed, and only the listed names with METRICS_OPERATION_NAMES', async () => {
    server = await startServer({ DATABASE_URL: databaseUrl() });
    const failing = randomNames(5);
    for (const name of failing) expect((await gql(`query ${name} { viewer { id } }`, {}, null, { url: server.url })).errors).toBeDefined();
    const text = await metricsText(server.url);
    for (const name of failing) expect(text).not.toContain(name);
    await server.stop('SIGKILL');

    // With the list, squatting is impossible: 110 valid made-up names take nothing from Dashboard.
    server = await startServer({ DATABASE_URL: databaseUrl(), METRICS_OPERATION_NAMES: 'Dashboard, MembersPage' });
    const squatters = randomNames(110);
    await sendOperations(server.url, squatters);
    await sendOperations(server.url, ['Dashboard']);
    const listed = await metricsText(server.url);
    expect(operationLabels(listed)).toEqual(new Set(['other', 'Dashboard']));
  });

  it('labels an over-long operation name `other`', async () => {
    server = await startServer({ DATABASE_URL: databaseUrl() });
    const long = `Long_${'x'.repeat(200)}`;
    await sendOperations(server.url, [long]);
    const text = await metricsText(server.url);
    expect(text).not.toContain(long);
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="other",type="query",outcome="ok"\} 1/);
  });

  it('with METRICS_TOKEN, serves only a request bearing it', async () => {
    server = await startServer({ DATABASE_URL: databaseUrl(), ...PRODUCTION, METRICS_TOKEN: 'metrics-token-0123456789' });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456788' } })).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer short' } })).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Basic bWV0cmljcw==' } })).status).toBe(401);
    await gql('query Counted { __typename }', {}, null, { url: server.url });
    const text = await metricsText(server.url, { authorization: 'Bearer metrics-token-0123456789' });
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="Counted",type="query",outcome="ok"\} 1/);
  });

  it('with METRICS_PORT, serves them on their own listener on 127.0.0.1, not on the main port', async () => {
    const metricsPort = await freePort();
    server = await startServer({ DATABASE_URL: databaseUrl(), METRICS_PORT: String(metricsPort) });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    await gql('query Counted { __typename }', {}, null, { url: server.url });
    const text = await metricsText(`http://127.0.0.1:${metricsPort}`);
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="Counted",type="query",outcome="ok"\} 1/);
    // Bound to the loopback interface only: another address of this machine does not answer.
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    if (external) await expect(fetch(`http://${external.address}:${metricsPort}/metrics`)).rejects.toThrow();
    // The listener closes with the process's graceful shutdown.
    expect(await server.stop('SIGTERM')).toBe(0);
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });

  it('in production without METRICS_TOKEN or METRICS_PORT, is not served, and the log says how to enable it', async () => {
    server = await startServer({ DATABASE_URL: databaseUrl(), ...PRODUCTION });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    expect(server.output().match(/METRICS_TOKEN/g)).toHaveLength(1);
    expect(server.output()).toMatch(/\/metrics is off.*METRICS_TOKEN.*METRICS_PORT/);
  });
});
