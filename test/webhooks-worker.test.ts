import 'reflect-metadata';
import { Client } from 'pg';
import pino from 'pino';
import { APP_ROLE } from '../src/db/data-source';
import { Database } from '../src/db/database';
import { createOrganization, ok, newUser, unique, type TestUser } from './support/client';
import { ownDatabase } from './support/own-database';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * The webhook worker under what receivers and the database may do to it: a hanging endpoint
 * with a long backlog, answers the database cannot store, outcomes that are never recorded.
 * A database of its own and one server, so that its worker is the only one delivering:
 * WEBHOOK_CONCURRENCY=2 and WEBHOOK_ENDPOINT_CONCURRENCY=1, a receiver that hangs holds its
 * slot for WEBHOOK_TIMEOUT_MS (20 s).
 */
const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`;
const RENAME = 'mutation($id: ID!, $n: String!) { updateOrganization(input: { id: $id, name: $n }) { id } }';
const TIMEOUT_MS = 20_000;

describe('the webhook worker', () => {
  const receiver = new WebhookReceiver();
  let server: RunningServer;
  const own = ownDatabase('webhook_worker');
  const databaseUrl = own.url;
  let db: Client;
  const sql = async (text: string, params: unknown[] = []) => (await db.query(text, params)).rows;
  const q = (query: string, variables: Record<string, unknown>, auth: TestUser | string) => ok(query, variables, auth, { url: server.url });

  /** An organization with an endpoint at `path` on the receiver, for organization.updated. */
  async function subscribed(path: string) {
    const owner = newUser('Worker Owner');
    const org = await createOrganization(owner, 'Worked', { url: server.url });
    const created = (await q(CREATE, { input: { organizationId: org.id, url: receiver.url(path), eventTypes: ['organization.updated'] } }, owner)).createWebhookEndpoint;
    receiver.trust(path, created.secret);
    return { owner, org, endpoint: created.endpoint as { id: string } };
  }
  const deliveryOf = async (endpointId: string) => (await sql('SELECT * FROM webhook_deliveries WHERE endpoint_id = $1', [endpointId]))[0];

  beforeAll(async () => {
    await own.create();
    await receiver.start();
    server = await startServer({
      DATABASE_URL: databaseUrl,
      WEBHOOK_POLL_INTERVAL_MS: '100',
      WEBHOOK_RETRY_SCHEDULE: '200ms',
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_CONCURRENCY: '2',
      WEBHOOK_ENDPOINT_CONCURRENCY: '1',
    });
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await server?.stop();
    await receiver.stop();
    await db?.end();
    await own.drop();
  });
  afterEach(() => {
    expect(receiver.rejected).toEqual([]);
  });

  it('a hanging endpoint with a backlog longer than a claim\'s window never holds back another organization\'s webhooks', async () => {
    const slowPath = `/${unique('hanging')}`;
    receiver.answer(slowPath, 'hang');
    const slow = await subscribed(slowPath);
    await q(RENAME, { id: slow.org.id, n: 'Hanging 0' }, slow.owner);
    await receiver.waitFor(slowPath, 1);
    // Behind the one hanging, more due deliveries to it than 4 × WEBHOOK_CONCURRENCY, all older than the next one.
    for (let i = 1; i <= 12; i++) await q(RENAME, { id: slow.org.id, n: `Hanging ${i}` }, slow.owner);
    const fastPath = `/${unique('prompt')}`;
    const fast = await subscribed(fastPath);
    await q(RENAME, { id: fast.org.id, n: 'Prompt 2' }, fast.owner);
    await receiver.waitFor(fastPath, 1, 'the other organization\'s webhook while the first endpoint hangs', 3_000);
    // WEBHOOK_ENDPOINT_CONCURRENCY=1: still one at a time to the hanging endpoint.
    expect(receiver.at(slowPath)).toHaveLength(1);
    receiver.answer(slowPath, { status: 200 });
    receiver.release();
    await receiver.waitFor(slowPath, 13);
  });

  it('records an answer holding a NUL character or a split surrogate pair, rather than sending it again forever', async () => {
    const path = `/${unique('nul')}`;
    // PostgreSQL's text cannot hold NUL: storing this excerpt as it came failed, and the delivery stayed PENDING.
    receiver.answer(path, { status: 200, body: 'ok\u0000 done' });
    const { owner, org, endpoint } = await subscribed(path);
    await q(RENAME, { id: org.id, n: 'Nul 2' }, owner);
    const delivered = await waitFor('the delivery to be recorded', async () => {
      const row = await deliveryOf(endpoint.id);
      return row?.status !== 'PENDING' && row;
    });
    expect(delivered).toMatchObject({ status: 'SUCCEEDED', attempts: 1, response_status: 200, response_excerpt: 'ok done' });
    expect(receiver.at(path)).toHaveLength(1);
    // The excerpt's 200th character is half of a pair: it goes rather than being stored altered.
    const split = `/${unique('split')}`;
    receiver.answer(split, { status: 500, body: `${'x'.repeat(199)}\u{1F600}` });
    const second = await subscribed(split);
    await q(RENAME, { id: second.org.id, n: 'Split 2' }, second.owner);
    const failed = await waitFor('the failed attempt to be recorded', async () => {
      const row = await deliveryOf(second.endpoint.id);
      return row?.response_status === 500 && row;
    });
    expect(failed.response_excerpt).toBe('x'.repeat(199));
  });

  it('counts an attempt when it is claimed, so that one whose outcome is never recorded still runs out of attempts', async () => {
    const path = `/${unique('unrecorded')}`;
    const { owner, org, endpoint } = await subscribed(path);
    // The database refuses every outcome of this endpoint's deliveries (as it did an answer holding NUL).
    await sql(`CREATE OR REPLACE FUNCTION refuse_outcome() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outcome refused by the test'; END $$`);
    await sql(`CREATE TRIGGER refuse_outcome BEFORE UPDATE OF last_attempt_at ON webhook_deliveries FOR EACH ROW WHEN (NEW.endpoint_id = '${endpoint.id}') EXECUTE FUNCTION refuse_outcome()`);
    try {
      await q(RENAME, { id: org.id, n: 'Unrecorded 2' }, owner);
      const final = await waitFor(
        () => `the delivery to run out of attempts (sent ${receiver.at(path).length} times)`,
        async () => {
          const row = await deliveryOf(endpoint.id);
          if (row && row.status !== 'PENDING') return row;
          // Its lease ends now, rather than WEBHOOK_TIMEOUT_MS + 30 s after it was claimed.
          await sql('UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = $1 AND next_attempt_at > now()', [endpoint.id]);
          return undefined;
        },
        { timeout: 10_000, interval: 200 },
      );
      // WEBHOOK_RETRY_SCHEDULE=200ms: the first attempt and one retry.
      expect(final).toMatchObject({ status: 'FAILED', attempts: 2, last_error: expect.stringMatching(/^no outcome was recorded/) });
      expect(receiver.at(path)).toHaveLength(2);
    } finally {
      await sql('DROP TRIGGER refuse_outcome ON webhook_deliveries');
    }
  });

  it('SQL run as a request runs cannot send another organization\'s event to its endpoint, nor anything to another\'s', async () => {
    const victimPath = `/${unique('victim')}`;
    const attackerPath = `/${unique('attacker')}`;
    const victim = await subscribed(victimPath);
    const attacker = await subscribed(attackerPath);
    await q(RENAME, { id: victim.org.id, n: 'Victim 2' }, victim.owner);
    const [victimEvent] = await receiver.waitFor(victimPath, 1);
    const [ownEvent] = await sql(`SELECT id, type FROM events WHERE organization_id = $1 AND type = 'webhook_endpoint.created'`, [attacker.org.id]);
    // The server's own connection code, as the app role with the attacker as tenant: what an injected statement could do.
    const app = await Database.open({ url: databaseUrl, poolSize: 1, poolTimeoutMs: 10_000, logger: pino({ level: 'silent' }), asRole: APP_ROLE, applicationName: 'webhooks-worker-test' });
    try {
      const asAttacker = app.as({ kind: 'user', userId: attacker.owner.id, verifiedEmail: attacker.owner.email });
      // The fan-out, told the victim's event belongs to the attacker's organization.
      await expect(asAttacker.query('SELECT webhooks_fan_out($1, $2, $3)', [victimEvent.id, attacker.org.id, 'organization.updated'])).rejects.toMatchObject({ code: expect.stringMatching(/^(42501|42883)$/) });
      // Delivery rows of the attacker's organization (all the tenant wall lets it write): the victim's
      // event to its own endpoint; a payload of its making to the victim's endpoint, to be signed
      // with the victim's secret; its own event under another type.
      const forged = await asAttacker.query<{ id: string }>(
        `INSERT INTO webhook_deliveries (endpoint_id, organization_id, event_id, event_type, payload) VALUES
           ($1, $2, $3, 'organization.updated', NULL), ($4, $2, gen_random_uuid(), 'member.removed', $5), ($1, $2, $6, 'member.removed', NULL)
         RETURNING id`,
        [attacker.endpoint.id, attacker.org.id, victimEvent.id, victim.endpoint.id, JSON.stringify({ organizationId: victim.org.id, forged: true }), ownEvent.id],
      );
      const outcomes = await waitFor('the forged deliveries to be done with', async () => {
        const rows = new Map((await sql('SELECT id, status FROM webhook_deliveries WHERE id = ANY($1::uuid[])', [forged.map((f) => f.id)])).map((r) => [r.id, r.status]));
        return [...rows.values()].every((status) => status !== 'PENDING') && forged.map((f) => rows.get(f.id));
      });
      expect(outcomes).toEqual(['FAILED', 'FAILED', 'SUCCEEDED']);
      expect(receiver.at(victimPath).map((r) => r.id)).toEqual([victimEvent.id]);
      // Its own event, as its type is in the events table.
      expect(receiver.at(attackerPath).map((r) => [r.id, r.payload.type])).toEqual([[ownEvent.id, ownEvent.type]]);
    } finally {
      await app.close();
    }
  });
});
