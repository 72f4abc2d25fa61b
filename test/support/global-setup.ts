import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { startServer } from './servers';

/**
 * A real PostgreSQL (embedded unless DATABASE_URL names one), a fresh database built by the
 * migrations, and the subgraph serving it over HTTP. Test files read the addresses from env.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  let serverUrl = process.env.DATABASE_URL;
  let stopPostgres: (() => Promise<void>) | undefined;
  if (!serverUrl) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orgs-test-pg-'));
    const embedded = await startEmbeddedPostgres({ dataDir, port: 0 });
    serverUrl = embedded.url;
    stopPostgres = async () => {
      await embedded.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    };
  }
  // Every run gets an empty database of its own, so it also proves the migrations build one.
  const database = `orgs_test_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();

  const server = await startServer({ DATABASE_URL: databaseUrl });
  process.env.TEST_SERVER_URL = server.url;
  process.env.TEST_DATABASE_URL = databaseUrl;
  process.env.TEST_POSTGRES_URL = serverUrl;

  (globalThis as Record<string, unknown>).__orgsTestTeardown = async () => {
    await server.stop();
    if (stopPostgres) {
      await stopPostgres();
    } else {
      const cleanup = new Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await cleanup.end();
    }
  };
  console.log(`\n[setup] PostgreSQL, migrations and server ready in ${Date.now() - started} ms at ${server.url}`);
}
