import { Client } from 'pg';
import { createOrganization, gql, newUser, ok, unique } from './support/client';
import { ownDatabase } from './support/own-database';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * SSRF (API.md, Events): with WEBHOOK_ALLOW_PRIVATE_NETWORKS=false, an endpoint on a loopback,
 * private, link-local or metadata address is refused when created, and a delivery is refused on
 * the address it would connect to, however the endpoint got there. A database of its own: one
 * server that allows private networks (so that such an endpoint exists) without a worker, one
 * that does not and delivers.
 */
const CREATE = 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }';

describe('webhook endpoints on private networks', () => {
  const receiver = new WebhookReceiver();
  const servers: RunningServer[] = [];
  const own = ownDatabase('ssrf');
  const databaseUrl = own.url;
  let db: Client;
  let open: RunningServer;
  let strict: RunningServer;

  beforeAll(async () => {
    await own.create();
    await receiver.start();
    open = await startServer({ DATABASE_URL: databaseUrl, WEBHOOK_WORKER: 'false', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    servers.push(open);
    strict = await startServer({ DATABASE_URL: databaseUrl, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', WEBHOOK_POLL_INTERVAL_MS: '100', WEBHOOK_RETRY_SCHEDULE: '10s' });
    servers.push(strict);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await receiver.stop();
    await db?.end();
    await own.drop();
  });

  it('refuses them at creation', async () => {
    const owner = newUser('Careful Owner');
    const org = await createOrganization(owner, 'Careful', { url: strict.url });
    for (const address of [receiver.url('/x'), `http://localhost:${receiver.port}/x`, 'http://[::1]/x', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.8/x', 'http://192.168.1.1/x', 'http://[::ffff:127.0.0.1]/x', 'http://[::127.0.0.1]/x', 'http://[64:ff9b:1::a9fe:a9fe]/x', 'http://[2002:7f00:1::1]/x', 'http://0.0.0.0/x', 'ftp://example.com/x', 'http://user:pw@example.com/x']) {
      const res = await gql(CREATE, { input: { organizationId: org.id, url: address } }, owner, { url: strict.url });
      expect({ address, code: res.errors?.[0].extensions.code, field: res.errors?.[0].extensions.field }).toEqual({ address, code: 'BAD_USER_INPUT', field: 'url' });
    }
    expect((await db.query('SELECT count(*)::int AS n FROM webhook_endpoints')).rows[0].n).toBe(0);
  });

  it('refuses to deliver to them, on the address the connection would use', async () => {
    const owner = newUser('Rebound Owner');
    const org = await createOrganization(owner, 'Rebound', { url: open.url });
    const path = `/${unique('private')}`;
    // Created where private networks are allowed (as a name that resolved elsewhere at creation would be).
    for (const target of [receiver.url(path), `http://localhost:${receiver.port}${path}`]) {
      const created = (await ok(CREATE, { input: { organizationId: org.id, url: target, eventTypes: ['organization.updated'] } }, owner, { url: open.url })).createWebhookEndpoint;
      receiver.trust(path, created.secret);
    }
    await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, name: "Rebound 2" }) { id } }', { id: org.id }, owner, { url: open.url });
    const attempts = await waitFor('both deliveries refused', async () => {
      const { rows } = await db.query(`SELECT last_error FROM webhook_deliveries WHERE organization_id = $1 AND event_type = 'organization.updated' AND last_attempt_at IS NOT NULL`, [org.id]);
      return rows.length === 2 && rows;
    });
    for (const { last_error: error } of attempts) expect(error).toMatch(/^refused: .*(loopback|private)/);
    expect(receiver.at(path)).toEqual([]);
  });
});
