import { spawn } from 'node:child_process';
import { Client } from 'pg';
import { createOrganization, gql, newUser, ok } from './support/client';
import { decode, issue, ISSUE } from './support/organization-tokens';
import { ownDatabase } from './support/own-database';
import { startPartner, type Partner } from './support/partner';
import { ROOT, startServer, TEST_JWT_SECRET, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';

/**
 * Signing keys over their life: made on first use, rotated by the command and on the schedule
 * while servers run, the old key published until its last token has expired. Servers of their
 * own on a database of their own: rotations here must not change the keys other files sign with.
 */
const database = ownDatabase('signing_keys');
// Short lifetimes so that the test sees a whole rotation: a retired key stays published 30 + 10 (cache) + 60 (skew) s.
const ENV = { ORGANIZATION_TOKEN_TTL_SECONDS: '30', ORGANIZATION_TOKEN_KEY_PUBLISH_AHEAD_SECONDS: '2' };
const PUBLISHED_AFTER_RETIREMENT_SECONDS = 100;

let first: RunningServer;
let second: RunningServer | undefined;
let partner: Partner;
let db: Client;
const owner = newUser('Owner Keys');
let org: string;
let workspace: string;

const kids = async (server: RunningServer): Promise<string[]> =>
  ((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);

/** `npm run keys:rotate`, as an operator runs it, against the test's database. */
function rotate(args: string[] = [], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/keys-rotate.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'warn', JWT_SECRET: TEST_JWT_SECRET, DATABASE_URL: database.url, ...ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`keys:rotate exited with ${code}: ${output}`)))));
}

beforeAll(async () => {
  await database.create();
  first = await startServer({ DATABASE_URL: database.url, ...ENV });
  db = new Client({ connectionString: database.url });
  await db.connect();
  // A partner whose jose cache lasts 1 s, under the 2 s a new key is published before it signs.
  partner = await startPartner(first.url, { JWKS_CACHE_MS: '1000' });
  org = (await createOrganization(owner, 'Keys', { url: first.url })).id;
  workspace = (await ok('mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }', { input: { organizationId: org, name: 'Sandboxes' } }, owner, { url: first.url })).createWorkspace.id;
});

afterAll(async () => {
  await partner?.stop();
  await second?.stop();
  await first?.stop();
  await db?.end();
  await database.drop();
});

it('makes the first key on first use, rotates without a restart, and keeps the old key published until its tokens have expired', async () => {
  expect(await kids(first)).toEqual([]);
  // Many first requests at once make one key.
  const firstTokens = await Promise.all(Array.from({ length: 8 }, () => issue(owner, org, workspace, { url: first.url })));
  const before = firstTokens[0];
  const kid1 = decode(before.token).header.kid;
  expect(new Set(firstTokens.map((t) => decode(t.token).header.kid))).toEqual(new Set([kid1]));
  expect(await kids(first)).toEqual([kid1]);
  expect((await db.query('SELECT count(*)::int AS n FROM signing_keys')).rows[0].n).toBe(1);
  expect(await partner.createSandbox(workspace, before.token)).toMatchObject({ status: 201, body: { kid: kid1 } });

  // Run by an operator while the server runs: the server signs with the new key within its cache time (10 s).
  const said = await rotate(['--now']);
  const kid2 = /New signing key (\S+):/.exec(said)?.[1];
  expect(kid2).toBeTruthy();
  const after = await waitFor(`a token signed with ${kid2}`, async () => {
    const issued = await issue(owner, org, workspace, { url: first.url });
    return decode(issued.token).header.kid === kid2 && issued;
  });
  expect(await kids(first)).toEqual([kid1, kid2]);
  // The partner verifies both: the old token until it expires, the new one with the refreshed key set.
  expect(await partner.createSandbox(workspace, before.token)).toMatchObject({ status: 201, body: { kid: kid1 } });
  expect(await waitFor('the partner to accept the new key', async () => {
    const answer = await partner.createSandbox(workspace, after.token);
    return answer.status === 201 && answer;
  }, { timeout: 30_000 })).toMatchObject({ body: { kid: kid2 } });

  // Once every token of the old key has expired (its retirement, plus a lifetime, the cache and the skew), it is withdrawn.
  await db.query(`UPDATE signing_keys SET retired_at = now() - make_interval(secs => $1) WHERE kid = $2`, [PUBLISHED_AFTER_RETIREMENT_SECONDS + 1, kid1]);
  await waitFor('the retired key to leave the JWKS', async () => (await kids(first)).length === 1, { timeout: 30_000 });
  expect(await kids(first)).toEqual([kid2]);
  expect(await waitFor('the partner to refuse the withdrawn key', async () => {
    const answer = await partner.createSandbox(workspace, before.token);
    return answer.status === 401 && answer;
  }, { timeout: 30_000 })).toEqual({ status: 401, body: { error: 'ERR_JWKS_NO_MATCHING_KEY' } });
});

it('rotates on schedule: a replica publishes the next key ahead, and every replica signs with it from its activation', async () => {
  const current = decode((await issue(owner, org, undefined, { url: first.url })).token).header.kid;
  // The signing key is past ORGANIZATION_TOKEN_KEY_ROTATION_DAYS (30 by default).
  await db.query(`UPDATE signing_keys SET activated_at = now() - interval '31 days' WHERE kid = $1`, [current]);
  // A replica starting now finds it due (the first one too, at its next check) and rotates.
  second = await startServer({ DATABASE_URL: database.url, ...ENV });
  const next = await waitFor('the next key to be published', async () => (await kids(second!)).find((kid) => kid !== current));
  const [row] = (await db.query('SELECT activated_at > created_at AS ahead, retired_at FROM signing_keys WHERE kid = $1', [next])).rows;
  expect(row).toEqual({ ahead: true, retired_at: null });
  // The first server, which did not rotate, signs with it too once it is active: no restart.
  await waitFor(`the first server to sign with ${next}`, async () => decode((await issue(owner, org, undefined, { url: first.url })).token).header.kid === next, { timeout: 30_000 });
  expect(await kids(first)).toEqual([current, next]);
  // Exactly one rotation, however many replicas checked (each checks every second here: a third of the 2 s ahead).
  expect(`${first.output()}${second.output()}`.match(/rotated on schedule/g)).toHaveLength(1);
  expect((await db.query('SELECT count(*)::int AS n FROM signing_keys')).rows[0].n).toBe(3);
});

it('keys:rotate without --now publishes the next key ahead of its activation, and does not stack a second rotation on one on its way', async () => {
  const current = decode((await issue(owner, org, undefined, { url: first.url })).token).header.kid;
  // A lead of a minute: long enough for the second command to find the first one's key still upcoming.
  const lead = { ORGANIZATION_TOKEN_KEY_PUBLISH_AHEAD_SECONDS: '60' };
  const said = await rotate([], lead);
  const next = /New signing key (\S+): published now, signs from/.exec(said)?.[1];
  expect(next).toBeTruthy();
  expect(await rotate([], lead)).toContain(`A rotation is already on its way: key ${next}`);
  const [row] = (await db.query(`SELECT extract(epoch FROM activated_at - created_at)::int AS lead, retired_at FROM signing_keys WHERE kid = $1`, [next])).rows;
  expect(row).toEqual({ lead: 60, retired_at: null });
  // Published within the servers' cache time; tokens keep the current key until the new one activates.
  await waitFor('the upcoming key to be published', async () => (await kids(first)).includes(next!));
  expect(decode((await issue(owner, org, undefined, { url: first.url })).token).header.kid).toBe(current);
  expect((await db.query('SELECT count(*)::int AS n FROM signing_keys')).rows[0].n).toBe(4);
});

it('a key sealed under an ENCRYPTION_KEY the server no longer has is FAILED_PRECONDITION, until keys:rotate -- --now under the new one', async () => {
  const newKey = { ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };
  const third = await startServer({ DATABASE_URL: database.url, ...ENV, ...newKey });
  try {
    const refused = await gql(ISSUE, { org }, owner, { url: third.url });
    expect(refused.errors).toEqual([expect.objectContaining({ message: expect.stringContaining('npm run keys:rotate -- --now'), extensions: { code: 'FAILED_PRECONDITION' } })]);
    await rotate(['--now'], newKey);
    await waitFor('tokens from the server with the new ENCRYPTION_KEY', async () => !(await gql(ISSUE, { org }, owner, { url: third.url })).errors);
  } finally {
    await third.stop();
  }
});
