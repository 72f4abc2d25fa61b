import { Client } from 'pg';

/** One statement on the test PostgreSQL's default database: what CREATE and DROP DATABASE need. */
export async function onTestServer(statement: string): Promise<void> {
  const client = new Client({ connectionString: process.env.TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * A database of its own on the test PostgreSQL, for a file whose servers must not share the
 * suite's (their workers send and erase, or its rows are held locked): `create()` makes it empty
 * (the first server's migrations build it), `drop()` removes it at the end.
 */
export function ownDatabase(purpose: string) {
  const name = `orgs_${purpose}_${process.pid}_${Date.now()}`;
  return {
    name,
    url: Object.assign(new URL(process.env.TEST_POSTGRES_URL!), { pathname: `/${name}` }).toString(),
    create: () => onTestServer(`CREATE DATABASE ${name}`),
    drop: () => onTestServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
