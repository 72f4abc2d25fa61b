import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { startDnsServer } from './dns-server';
import { startServer } from './servers';

/**
 * A real PostgreSQL (embedded unless DATABASE_URL names one), a fresh database built by the
 * migrations, and the subgraph serving it over HTTP. Test files read the addresses from env.
 * Everything the run writes to the temp folder goes in one folder, removed by the teardown
 * (the server logs kept there when a test failed: see global-teardown.ts).
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orgs-test-'));
  // For test files' own temp folders too (test/faults.test.ts): gone with the run's, even after a crash.
  process.env.TEST_RUN_DIR = runDir;
  process.env.TEST_LOG_DIR = path.join(runDir, 'logs');
  fs.mkdirSync(process.env.TEST_LOG_DIR);
  const cleanups: (() => Promise<void>)[] = [async () => fs.rmSync(runDir, { recursive: true, force: true })];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  (globalThis as Record<string, unknown>).__orgsTestRun = { runDir, logDir: process.env.TEST_LOG_DIR, cleanUp };
  try {
    let serverUrl = process.env.DATABASE_URL;
    if (!serverUrl) {
      const embedded = await startEmbeddedPostgres({ dataDir: path.join(runDir, 'postgres'), port: 0 });
      cleanups.push(() => embedded.stop());
      serverUrl = embedded.url;
    }
    // Every run gets an empty database of its own, so it also proves the migrations build one.
    const database = `orgs_test_${process.pid}_${Date.now()}`;
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    if (process.env.DATABASE_URL) {
      cleanups.push(async () => {
        const cleanup = new Client({ connectionString: serverUrl });
        await cleanup.connect();
        await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await cleanup.end();
      });
    }
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    const databaseUrl = url.toString();

    // The DNS server the domains under test resolve through (test/support/dns-server.ts).
    process.env.TEST_DNS_ZONE = path.join(runDir, 'dns');
    const dns = await startDnsServer(process.env.TEST_DNS_ZONE);
    cleanups.push(() => dns.close());
    process.env.TEST_DNS_SERVER = dns.address;

    const server = await startServer({ DATABASE_URL: databaseUrl, DNS_SERVERS: dns.address });
    cleanups.push(async () => void (await server.stop()));
    process.env.TEST_SERVER_URL = server.url;
    process.env.TEST_DATABASE_URL = databaseUrl;
    process.env.TEST_POSTGRES_URL = serverUrl;
    console.log(`\n[setup] PostgreSQL, migrations and server ready in ${Date.now() - started} ms at ${server.url}`);
  } catch (error) {
    // Jest runs no teardown after a failed setup; the error carries the server's log.
    await cleanUp();
    throw error;
  }
}
