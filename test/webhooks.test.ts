import { Client } from 'pg';
import { createOrganization, gql, newUser, ok, serviceToken, unique, type TestUser } from './support/client';
import { ownDatabase } from './support/own-database';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * Webhooks as Standard Webhooks specifies (API.md, Events), from the real server to a real
 * receiver on localhost that verifies every delivery with the specification's own library.
 * A database of its own: its servers run the webhook worker with a short retry schedule.
 */
const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id url eventTypes enabled organization { id } } } }`;
const UPDATE = 'mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { id enabled disabledReason eventTypes } }';
const ROTATE = 'mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id previousSecretExpiresAt } } }';
const DELETE = 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }';
const TEST = 'mutation($id: ID!) { sendTestWebhook(id: $id) { id eventId eventType status } }';
const RETRY = 'mutation($id: ID!) { retryWebhookDelivery(id: $id) { id status } }';
const DELIVERIES = `query($id: ID!, $status: WebhookDeliveryStatus) { organization(id: $id) { webhookEndpoints(first: 10) { nodes { id enabled disabledReason
  deliveries(first: 50, status: $status) { totalCount nodes { id eventId eventType status attempts lastAttemptAt nextAttemptAt responseStatus responseExcerpt lastError } } } } } }`;
const RENAME = 'mutation($id: ID!, $n: String!) { updateOrganization(input: { id: $id, name: $n }) { id } }';
const INVITE = 'mutation($id: ID!, $e: [String!]!) { inviteMembers(input: { organizationId: $id, emails: $e }) { id } }';

describe('webhooks', () => {
  const receiver = new WebhookReceiver();
  const servers: RunningServer[] = [];
  const own = ownDatabase('webhooks');
  const databaseUrl = own.url;
  let db: Client;
  const sql = async (text: string, params: unknown[] = []) => (await db.query(text, params)).rows;
  let url: string;
  const q = (query: string, variables: Record<string, unknown>, auth: TestUser | string) => ok(query, variables, auth, { url });
  const g = (query: string, variables: Record<string, unknown>, auth: TestUser | string | null) => gql(query, variables, auth, { url });
  const app = async (env: Record<string, string> = {}) => {
    const server = await startServer({
      DATABASE_URL: databaseUrl,
      WEBHOOK_POLL_INTERVAL_MS: '100',
      WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms',
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_ENDPOINT_CONCURRENCY: '2',
      ...env,
    });
    servers.push(server);
    return server;
  };

  /** A TEAM organization with an endpoint at `path` on the receiver (trusted with its secret). */
  async function subscribed(path: string, eventTypes: string[] = []) {
    const owner = newUser('Hook Owner');
    const org = await createOrganization(owner, 'Hooked', { url });
    const created = (await q(CREATE, { input: { organizationId: org.id, url: receiver.url(path), eventTypes } }, owner)).createWebhookEndpoint;
    receiver.trust(path, created.secret);
    return { owner, org, endpoint: created.endpoint, secret: created.secret as string };
  }

  const deliveriesOf = async (orgId: string, owner: TestUser, status?: string) =>
    (await q(DELIVERIES, { id: orgId, status }, owner)).organization.webhookEndpoints.nodes[0].deliveries.nodes as Record<string, any>[];

  beforeAll(async () => {
    await own.create();
    await receiver.start();
    url = (await app()).url; // applies the migrations
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await receiver.stop();
    await db?.end();
    await own.drop();
  });
  afterEach(() => {
    expect(receiver.rejected).toEqual([]);
  });

  it('sends each event of the organization, signed, with the event id as webhook-id and the event as data', async () => {
    const path = `/${unique('org')}`;
    const { owner, org, endpoint } = await subscribed(path);
    expect(endpoint).toMatchObject({ url: receiver.url(path), eventTypes: [], enabled: true, organization: { id: org.id } });
    await q(RENAME, { id: org.id, n: 'Hooked 2' }, owner);
    await q(INVITE, { id: org.id, e: [`${unique('w')}@example.test`] }, owner);
    // Its own creation too (an event of the organization, written after the endpoint existed).
    // Deliveries run side by side (WEBHOOK_ENDPOINT_CONCURRENCY): they may arrive in any order.
    const audit = await sql('SELECT id, action, occurred_at FROM audit_events WHERE organization_id = $1 AND seq > 1 ORDER BY seq', [org.id]);
    const got = (await receiver.waitFor(path, 3)).slice().sort((a, b) => audit.findIndex((e: any) => e.id === a.id) - audit.findIndex((e: any) => e.id === b.id));
    expect(got.map((r) => r.payload.type)).toEqual(['webhook_endpoint.created', 'organization.updated', 'invitation.created']);
    expect(got.map((r) => r.id)).toEqual(audit.map((e: any) => e.id));
    const [event] = await sql('SELECT data FROM events WHERE id = $1', [got[1].id]);
    expect(JSON.parse(got[1].body)).toEqual({ type: 'organization.updated', timestamp: audit[1].occurred_at.toISOString(), data: event.data });
    expect(Math.abs(Number(got[1].timestamp) - Date.now() / 1000)).toBeLessThan(60);
    expect(got[1].signatures).toHaveLength(1);
    expect(got[1].signatures[0]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // Visible as deliveries, newest first.
    await waitFor('three succeeded deliveries', async () => (await deliveriesOf(org.id, owner, 'SUCCEEDED')).length === 3);
    const [last] = await deliveriesOf(org.id, owner);
    expect(last).toMatchObject({ eventId: got[2].id, eventType: 'invitation.created', status: 'SUCCEEDED', attempts: 1, nextAttemptAt: null, responseStatus: 200, responseExcerpt: 'ok', lastError: null });
  });

  it('lists endpoints with their deliveries\' counts for the same statements whatever their number', async () => {
    const { owner, org } = await subscribed(`/${unique('counted')}`);
    const LIST = 'query($id: ID!) { organization(id: $id) { webhookEndpoints(first: 10) { totalCount nodes { id deliveries(first: 5) { totalCount } } } } }';
    const statements = async () => {
      const res = await gql(LIST, { id: org.id }, owner, { url });
      expect(res.errors).toBeUndefined();
      return { endpoints: res.data!.organization.webhookEndpoints.totalCount, statements: res.statements };
    };
    const one = await statements();
    for (const n of [1, 2]) {
      const path = `/${unique(`more${n}`)}`;
      receiver.trust(path, (await q(CREATE, { input: { organizationId: org.id, url: receiver.url(path) } }, owner)).createWebhookEndpoint.secret);
    }
    const three = await statements();
    expect([one.endpoints, three.endpoints]).toEqual([1, 3]);
    expect(three.statements).toBe(one.statements);
  });

  it('a person\'s endpoint names its organization: without one it is BAD_USER_INPUT', async () => {
    const res = await gql(CREATE, { input: { url: receiver.url('/no-organization') } }, newUser(), { url });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'organizationId' });
  });

  it('an endpoint stops when its maker may no longer read the audit log: assignment taken away, or removed (audited)', async () => {
    const { owner, org } = await subscribed(`/${unique('maker-owner')}`);
    const auditor = newUser('Auditing admin');
    const membership = await addMemberHere(org.id, auditor, 'ADMIN', ['AUDITOR']);
    const make = async (path: string) => {
      const created = (await q(CREATE, { input: { organizationId: org.id, url: receiver.url(path) } }, auditor)).createWebhookEndpoint;
      receiver.trust(path, created.secret);
      return created.endpoint.id as string;
    };
    const first = await make(`/${unique('maker-a')}`);
    await q('mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { id } }', { input: { membershipId: membership, assignments: [] } }, owner);
    expect(await sql('SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1', [first])).toEqual([
      { enabled: false, disabled_reason: expect.stringContaining('creator_holds_less') },
    ]);
    await q('mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { id } }', { input: { membershipId: membership, assignments: ['AUDITOR'] } }, owner);
    const second = await make(`/${unique('maker-b')}`);
    await q('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: membership }, owner);
    expect((await sql('SELECT enabled FROM webhook_endpoints WHERE id = $1', [second]))[0].enabled).toBe(false);
    const audited = await sql(
      `SELECT metadata->>'reason' AS reason FROM audit_events WHERE organization_id = $1 AND action = 'webhook_endpoint.updated' AND target_id = ANY($2) ORDER BY seq`,
      [org.id, [first, second]],
    );
    expect(audited.map((e: any) => e.reason)).toEqual(['creator_holds_less', 'creator_left']);
    // The OWNER's own endpoint streams on.
    expect((await sql(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE organization_id = $1 AND enabled`, [org.id]))[0].n).toBe(1);
  });

  it('a test webhook, and filters by type and by family', async () => {
    const path = `/${unique('filtered')}`;
    const { owner, org, endpoint } = await subscribed(path, ['invitation.*', 'organization.updated']);
    expect(endpoint.eventTypes).toEqual(['organization.updated', 'invitation.*']);
    const delivery = (await q(TEST, { id: endpoint.id }, owner)).sendTestWebhook;
    expect(delivery).toMatchObject({ eventType: 'webhook.test', status: 'PENDING' });
    await q(INVITE, { id: org.id, e: [`${unique('f')}@example.test`] }, owner);
    await q('mutation($id: ID!) { createWorkspace(input: { organizationId: $id, name: "Not sent" }) { id } }', { id: org.id }, owner);
    await q(RENAME, { id: org.id, n: 'Filtered 2' }, owner);
    const got = await receiver.waitFor(path, 3);
    expect(got.map((r) => r.payload.type).sort()).toEqual(['invitation.created', 'organization.updated', 'webhook.test']);
    expect(got.find((r) => r.payload.type === 'webhook.test')!.id).toBe(delivery.eventId);
    expect((await failure2(UPDATE, { input: { id: endpoint.id, eventTypes: ['not a type'] } }, owner)).code).toBe('BAD_USER_INPUT');
  });

  it('retries failures on the schedule with the same webhook-id, honours Retry-After, and can be retried by hand', async () => {
    const path = `/${unique('flaky')}`;
    receiver.answer(path, { status: 500, body: 'x'.repeat(5000) }, { status: 503, headers: { 'retry-after': '1' } }, { status: 200 });
    const { owner, org } = await subscribed(path, ['organization.updated']);
    await q(RENAME, { id: org.id, n: 'Flaky 2' }, owner);
    const got = await receiver.waitFor(path, 3);
    expect(new Set(got.map((r) => r.id)).size).toBe(1);
    // The wait after the 503 was at least its Retry-After (1 s), longer than the schedule's 200 ms.
    expect(Number(got[2].timestamp) - Number(got[1].timestamp)).toBeGreaterThanOrEqual(1);
    await waitFor('the delivery to succeed', async () => (await deliveriesOf(org.id, owner, 'SUCCEEDED')).length === 1);
    // Spent schedule: 4 attempts (the first and 3 retries), then FAILED; a retry by hand delivers it.
    const dead = `/${unique('dead')}`;
    receiver.answer(dead, { status: 500, body: 'x'.repeat(5000) });
    const second = await subscribed(dead, ['organization.updated']);
    await q(RENAME, { id: second.org.id, n: 'Dead 2' }, second.owner);
    await waitFor('the delivery to fail for good', async () => (await deliveriesOf(second.org.id, second.owner, 'FAILED')).length === 1);
    const [failed] = await deliveriesOf(second.org.id, second.owner, 'FAILED');
    expect(failed).toMatchObject({ attempts: 4, responseStatus: 500, lastError: 'HTTP 500', nextAttemptAt: null });
    expect(failed.responseExcerpt).toHaveLength(200);
    expect(receiver.at(dead)).toHaveLength(4);
    receiver.answer(dead, { status: 204 });
    expect((await q(RETRY, { id: failed.id }, second.owner)).retryWebhookDelivery.status).toBe('PENDING');
    await waitFor('the retried delivery to succeed', async () => (await deliveriesOf(second.org.id, second.owner, 'SUCCEEDED')).length === 1);
  });

  it('410 Gone disables the endpoint, and so do days of failures; enabled again, it gets what waited', async () => {
    const path = `/${unique('gone')}`;
    receiver.answer(path, { status: 410 }, { status: 200 });
    const { owner, org, endpoint } = await subscribed(path, ['organization.updated']);
    await q(RENAME, { id: org.id, n: 'Gone 2' }, owner);
    await waitFor('the endpoint to be disabled', async () => !(await deliveriesOf(org.id, owner)).length || (await sql('SELECT enabled FROM webhook_endpoints WHERE id = $1', [endpoint.id]))[0].enabled === false);
    const [node] = (await q(DELIVERIES, { id: org.id }, owner)).organization.webhookEndpoints.nodes;
    expect(node).toMatchObject({ enabled: false, disabledReason: 'The endpoint answered 410 Gone' });
    expect(node.deliveries.nodes[0]).toMatchObject({ status: 'FAILED', responseStatus: 410 });
    expect((await failure2(TEST, { id: endpoint.id }, owner)).code).toBe('FAILED_PRECONDITION');
    expect((await q(UPDATE, { input: { id: endpoint.id, enabled: true } }, owner)).updateWebhookEndpoint).toMatchObject({ enabled: true, disabledReason: null });
    await q(RENAME, { id: org.id, n: 'Gone 3' }, owner);
    await receiver.waitFor(path, 2);

    // Failing since more than 5 days (120 h): the next failure disables it, and says why.
    const down = `/${unique('down')}`;
    receiver.answer(down, { status: 500 });
    const other = await subscribed(down, ['organization.updated']);
    await sql(`UPDATE webhook_endpoints SET failing_since = now() - interval '121 hours' WHERE id = $1`, [other.endpoint.id]);
    await q(RENAME, { id: other.org.id, n: 'Down 2' }, other.owner);
    const disabled = await waitFor('the failing endpoint to be disabled', async () => {
      const [row] = await sql('SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1', [other.endpoint.id]);
      return !row.enabled && row;
    });
    expect(disabled.disabled_reason).toMatch(/^Every delivery failed for 120 hours \(since \d{4}-\d\d-\d\dT/);
    // Its delivery waits, neither failed nor lost.
    expect((await deliveriesOf(other.org.id, other.owner))[0].status).toBe('PENDING');
  });

  it('during a secret rotation, every webhook carries both signatures, each verifying, for 24 hours', async () => {
    const path = `/${unique('rotated')}`;
    const { owner, org, endpoint, secret } = await subscribed(path, ['organization.updated']);
    const rotated = (await q(ROTATE, { id: endpoint.id }, owner)).rotateWebhookSecret;
    expect(rotated.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(rotated.secret).not.toBe(secret);
    expect(new Date(rotated.endpoint.previousSecretExpiresAt).getTime() - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    // The receiver verifies each webhook under the old secret and under the new one.
    receiver.trust(path, secret, rotated.secret);
    await q(RENAME, { id: org.id, n: 'Rotated 2' }, owner);
    const [got] = await receiver.waitFor(path, 1);
    expect(got.signatures).toHaveLength(2);
    // Past the overlap, the old secret no longer signs.
    await sql(`UPDATE webhook_endpoints SET previous_secret_expires_at = now() WHERE id = $1`, [endpoint.id]);
    receiver.trust(path, rotated.secret);
    await q(RENAME, { id: org.id, n: 'Rotated 3' }, owner);
    const later = await receiver.waitFor(path, 2);
    expect(later[1].signatures).toHaveLength(1);
    const events = await sql(`SELECT action FROM audit_events WHERE organization_id = $1 ORDER BY seq`, [org.id]);
    expect(events.map((e: any) => e.action)).toContain('webhook_endpoint.secret_rotated');
  });

  it('is for those who may read the audit log too (WEBHOOKS_MANAGE and AUDIT_READ), never an API key; the secret is sealed at rest', async () => {
    const path = `/${unique('perm')}`;
    const { owner, org, endpoint, secret } = await subscribed(path);
    const delivery = (await q(TEST, { id: endpoint.id }, owner)).sendTestWebhook.id;
    const adminUser = newUser('Hook Admin');
    const auditor = newUser('Hook Auditor');
    const developer = newUser('Hook Dev');
    await addMemberHere(org.id, adminUser, 'ADMIN');
    await addMemberHere(org.id, auditor, 'ADMIN', ['AUDITOR']);
    await addMemberHere(org.id, developer, 'DEVELOPER');
    // An endpoint receives the organization's events, which are its audit log: an ADMIN without
    // AUDIT_READ may neither make one, nor point the OWNER's elsewhere, nor read them.
    const operations: [string, Record<string, unknown>][] = [
      [CREATE, { input: { organizationId: org.id, url: receiver.url('/by-admin') } }],
      [UPDATE, { input: { id: endpoint.id, url: receiver.url('/by-admin') } }],
      [ROTATE, { id: endpoint.id }],
      [DELETE, { id: endpoint.id }],
      [TEST, { id: endpoint.id }],
      [RETRY, { id: delivery }],
      ['query($id: ID!) { organization(id: $id) { webhookEndpoints { nodes { id url deliveries { nodes { id } } } } } }', { id: org.id }],
    ];
    for (const [query, variables] of operations) {
      expect({ query, ...(await failure2(query, variables, adminUser)) }).toEqual({ query, code: 'FORBIDDEN', message: 'This needs the AUDIT_READ permission' });
    }
    expect(await sql('SELECT url, previous_secret FROM webhook_endpoints WHERE organization_id = $1', [org.id])).toEqual([{ url: receiver.url(path), previous_secret: null }]);
    // An ADMIN with the AUDITOR assignment may.
    expect((await q(UPDATE, { input: { id: endpoint.id, description: 'by the auditor' } }, auditor)).updateWebhookEndpoint.id).toBe(endpoint.id);
    expect((await q(DELIVERIES, { id: org.id }, auditor)).organization.webhookEndpoints.nodes[0].deliveries.nodes.map((d: any) => d.id)).toContain(delivery);
    expect(await failure2(UPDATE, { input: { id: endpoint.id, description: 'nope' } }, developer)).toEqual({ code: 'FORBIDDEN', message: 'This needs the WEBHOOKS_MANAGE permission' });
    const key = (await q('mutation($id: ID!) { createApiKey(input: { organizationId: $id, name: "k", scopes: [WEBHOOKS_MANAGE, AUDIT_READ] }) { secret } }', { id: org.id }, owner)).createApiKey.secret;
    expect((await failure2(CREATE, { input: { organizationId: org.id, url: receiver.url('/k') } }, key)).code).toBe('FORBIDDEN');
    expect((await failure2(DELETE, { id: endpoint.id }, newUser('Stranger'))).code).toBe('NOT_FOUND');
    const [row] = await sql('SELECT secret FROM webhook_endpoints WHERE id = $1', [endpoint.id]);
    expect(row.secret).not.toContain(secret.slice(6));
    expect(await q(DELETE, { id: endpoint.id }, owner)).toEqual({ deleteWebhookEndpoint: true });
    expect(await sql('SELECT id FROM webhook_endpoints WHERE id = $1', [endpoint.id])).toEqual([]);
  });

  it('a service endpoint (webhooks:manage) gets every organization\'s events, organization.deleted included, as does the organization\'s own', async () => {
    const clientId = unique('sandboxes');
    const service = serviceToken(clientId, 'webhooks:manage');
    const path = `/${unique('service')}`;
    const created = (await q(CREATE, { input: { url: receiver.url(path), eventTypes: ['organization.*', 'member.*'] } }, service)).createWebhookEndpoint;
    expect(created.endpoint.organization).toBeNull();
    receiver.trust(path, created.secret);
    // Only its owner sees or changes it.
    expect((await q('{ webhookEndpoints { nodes { id } } }', {}, service)).webhookEndpoints.nodes.map((n: any) => n.id)).toEqual([created.endpoint.id]);
    expect((await failure2(DELETE, { id: created.endpoint.id }, serviceToken('someone-else', 'webhooks:manage'))).code).toBe('NOT_FOUND');
    expect((await failure2(DELETE, { id: created.endpoint.id }, serviceToken(clientId, 'events:read'))).code).toBe('FORBIDDEN');

    const ownPath = `/${unique('doomed')}`;
    const { owner, org, endpoint } = await subscribed(ownPath, ['organization.deleted']);
    const member = newUser('Leaving');
    const membership = await addMemberHere(org.id, member, 'VIEWER');
    await q('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: membership }, owner);
    const slug = (await sql('SELECT slug FROM organizations WHERE id = $1', [org.id]))[0].slug;
    await q('mutation($id: ID!, $s: String!) { deleteOrganization(id: $id, confirmSlug: $s) }', { id: org.id, s: slug }, owner);
    const [own] = await receiver.waitFor(ownPath, 1);
    expect(own.payload).toMatchObject({ type: 'organization.deleted', data: { organizationId: org.id, target: { type: 'Organization', id: org.id } } });
    await waitFor('the service to get the member removal and the deletion', () => {
      const types = receiver.at(path).filter((r) => r.payload.data.organizationId === org.id).map((r) => r.payload.type);
      return types.includes('member.removed') && types.includes('organization.deleted') && types;
    });
    // The organization's endpoint went with it, once its last webhook was delivered.
    const [retired] = await sql('SELECT deleted_at FROM webhook_endpoints WHERE id = $1', [endpoint.id]);
    expect(retired?.deleted_at ?? 'purged').toBeTruthy();
    expect((await failure2(TEST, { id: endpoint.id }, owner)).code).toBe('NOT_FOUND');
    await q(DELETE, { id: created.endpoint.id }, service);
  });

  it('one slow endpoint never delays another; a receiver that does not answer times out; redirects are not followed', async () => {
    const slowPath = `/${unique('slow')}`;
    receiver.answer(slowPath, 'hang');
    const slow = await subscribed(slowPath, ['organization.updated']);
    for (let i = 0; i < 6; i++) await q(RENAME, { id: slow.org.id, n: `Slow ${i}` }, slow.owner);
    await receiver.waitFor(slowPath, 2);
    const fastPath = `/${unique('fast')}`;
    const fast = await subscribed(fastPath, ['organization.updated']);
    await q(RENAME, { id: fast.org.id, n: 'Fast 2' }, fast.owner);
    await receiver.waitFor(fastPath, 1, 'the fast endpoint\'s webhook while the slow one hangs', 1500);
    // WEBHOOK_ENDPOINT_CONCURRENCY=2: no more than two at once went to the slow endpoint.
    expect(receiver.at(slowPath)).toHaveLength(2);
    const timedOut = await waitFor('a timed-out attempt', async () => (await deliveriesOf(slow.org.id, slow.owner)).find((d) => d.lastError));
    expect(timedOut.lastError).toBe('no answer within 2000 ms');
    receiver.answer(slowPath, { status: 200 });
    receiver.release();
    await waitFor('all six delivered', async () => (await deliveriesOf(slow.org.id, slow.owner, 'SUCCEEDED')).length === 6);

    const redirected = `/${unique('moved')}`;
    receiver.answer(redirected, { status: 302, headers: { location: receiver.url('/elsewhere') } });
    const moved = await subscribed(redirected, ['organization.updated']);
    await q(RENAME, { id: moved.org.id, n: 'Moved 2' }, moved.owner);
    const attempt = await waitFor('a failed attempt', async () => (await deliveriesOf(moved.org.id, moved.owner)).find((d) => d.lastAttemptAt));
    expect(attempt).toMatchObject({ responseStatus: 302, lastError: 'redirect (302) not followed' });
    expect(receiver.at('/elsewhere')).toEqual([]);
    await q(DELETE, { id: moved.endpoint.id }, moved.owner);
  });

  it('two replicas deliver each webhook exactly once; delivery is measured; old deliveries, events and rotated-out secrets are purged', async () => {
    // Finished long ago: the next worker to start purges them.
    const old = await subscribed(`/${unique('old')}`, ['organization.updated']);
    await q(RENAME, { id: old.org.id, n: 'Old 2' }, old.owner);
    await receiver.waitFor(`/${old.endpoint.url.split('/').pop()}`, 1);
    await waitFor('the old delivery to succeed', async () => (await deliveriesOf(old.org.id, old.owner, 'SUCCEEDED')).length === 1);
    await sql(`UPDATE webhook_deliveries SET finished_at = now() - interval '31 days' WHERE endpoint_id = $1`, [old.endpoint.id]);
    await sql(`UPDATE events SET occurred_at = now() - interval '31 days' WHERE organization_id = $1`, [old.org.id]);
    // More old events than one purge statement deletes.
    await sql(`INSERT INTO events (id, organization_id, type, occurred_at, data, xid) SELECT gen_random_uuid(), $1, 'organization.updated', now() - interval '31 days', '{}', 1 FROM generate_series(1, 2500)`, [old.org.id]);
    // A secret rotated out whose overlap has ended.
    await q(ROTATE, { id: old.endpoint.id }, old.owner);
    const [expired] = await sql(`UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1 RETURNING previous_secret`, [old.endpoint.id]);
    expect(expired.previous_secret).toEqual(expect.any(String));

    const second = await app();
    await waitFor('the purge', async () => (await sql('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [old.endpoint.id]))[0].n === 0);
    await waitFor('the old events purged', async () => (await sql(`SELECT count(*)::int AS n FROM events WHERE organization_id = $1 AND occurred_at < now() - interval '30 days'`, [old.org.id]))[0].n === 0);
    await waitFor('the expired secret dropped', async () => (await sql('SELECT previous_secret FROM webhook_endpoints WHERE id = $1', [old.endpoint.id]))[0].previous_secret === null);

    const path = `/${unique('replicas')}`;
    const { owner, org } = await subscribed(path, ['workspace.created']);
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => gql('mutation($id: ID!, $n: String!) { createWorkspace(input: { organizationId: $id, name: $n }) { id } }', { id: org.id, n: `R${i}` }, owner, { url: i % 2 ? url : second.url })));
    expect(created.flatMap((r) => r.errors ?? [])).toEqual([]);
    await receiver.waitFor(path, 20);
    await waitFor('every delivery marked succeeded', async () => (await deliveriesOf(org.id, owner, 'SUCCEEDED')).length === 20);
    expect(new Set(receiver.at(path).map((r) => r.id)).size).toBe(20);
    expect(receiver.at(path)).toHaveLength(20);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/webhook_delivery_attempts_total\{outcome="success"\} [1-9]/);
    expect(metrics).toMatch(/webhook_delivery_lag_seconds_count [1-9]/);
  });

  // Fixtures written on this database (support/client's helpers write to the main one).
  async function addMemberHere(organizationId: string, user: TestUser, role: string, assignments: string[] = []): Promise<string> {
    await q('{ viewer { id } }', {}, user);
    const [row] = await sql('INSERT INTO memberships (organization_id, user_id, role, assignments) VALUES ($1, $2, $3, $4) RETURNING id', [organizationId, user.id, role, assignments]);
    return row.id;
  }
  async function failure2(query: string, variables: Record<string, unknown>, auth: TestUser | string) {
    const res = await g(query, variables, auth);
    expect(res.errors).toHaveLength(1);
    return { code: res.errors![0].extensions.code, message: res.errors![0].message };
  }
});
