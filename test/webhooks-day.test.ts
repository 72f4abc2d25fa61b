import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { newUser, ok, serviceToken, unique, type TestUser } from './support/client';
import { startPostgresProcess, type PostgresProcess } from './support/postgres-process';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * The scripted day (Events out, "Done when"): members join, change roles and are
 * removed, the organization is deleted; the receiver (verifying with `standardwebhooks`) is
 * down for part of the day, and the server and PostgreSQL are each restarted once. At the end
 * it holds every event of the day exactly as the audit log has it, each once. A PostgreSQL of
 * its own, as in test/faults.test.ts.
 */
describe('a day of events through outages', () => {
  let dataDir: string;
  let postgres: PostgresProcess | undefined;
  let databaseUrl: string;
  let server: RunningServer | undefined;
  const receiver = new WebhookReceiver();
  const env = () => ({
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_TIMEOUT_MS: '2000',
    WEBHOOK_POLL_INTERVAL_MS: '100',
    WEBHOOK_RETRY_SCHEDULE: '200ms,500ms,1s,1s,2s,2s,2s,2s,2s,2s,2s,2s',
  });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'webhooks-day-pg-'));
    postgres = await startPostgresProcess(dataDir, 0);
    databaseUrl = postgres.url;
    await receiver.start();
    server = await startServer(env());
  }, 120_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await receiver.stop();
    await postgres?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('every event reaches the receiver once, as the audit log has it', async () => {
    const q = (query: string, variables: Record<string, unknown>, auth: TestUser | string) => ok(query, variables, auth, { url: server!.url });
    // A partner service that follows every organization, and the organization's own endpoint.
    const servicePath = `/${unique('service')}`;
    const subscription = (await q('mutation { createWebhookEndpoint(input: { url: "URL" }) { secret } }'.replace('URL', receiver.url(servicePath)), {}, serviceToken('day-svc', 'webhooks:manage'))).createWebhookEndpoint;
    receiver.trust(servicePath, subscription.secret);

    const owner = newUser('Day Owner');
    const org = (await q('mutation { createOrganization(input: { name: "A Day" }) { id slug } }', {}, owner)).createOrganization;
    const ownPath = `/${unique('own')}`;
    const own = (await q('mutation($id: ID!, $u: String!) { createWebhookEndpoint(input: { organizationId: $id, url: $u }) { secret } }', { id: org.id, u: receiver.url(ownPath) }, owner))
      .createWebhookEndpoint;
    receiver.trust(ownPath, own.secret);
    await q('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: true }) { id } }', { id: org.id }, owner);

    const people = [newUser('Morning'), newUser('Noon'), newUser('Evening')];
    const join = async (user: TestUser, role: string): Promise<string> => {
      const request = (await q('mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }', { id: org.id }, user)).requestToJoin.id;
      await q('mutation($id: ID!, $r: OrganizationRole) { approveJoinRequest(id: $id, role: $r) { id } }', { id: request, r: role }, owner);
      const { rows } = await sqlOnce('SELECT id FROM memberships WHERE organization_id = $1 AND user_id = $2', [org.id, user.id]);
      return rows[0].id;
    };
    const setRole = (membershipId: string, role: string) => q('mutation($m: ID!, $r: OrganizationRole!) { updateMembership(input: { membershipId: $m, role: $r }) { id } }', { m: membershipId, r: role }, owner);

    // Morning: two join, one is promoted.
    const morning = await join(people[0], 'VIEWER');
    const noon = await join(people[1], 'DEVELOPER');
    await setRole(morning, 'ADMIN');
    await receiver.waitFor(ownPath, 6);

    // The receiver goes down; the day goes on, through a server restart.
    await receiver.stop();
    await setRole(noon, 'VIEWER');
    await server!.stop();
    server = await startServer(env());
    const evening = await join(people[2], 'DEVELOPER');
    await q('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: noon }, owner);

    // PostgreSQL restarts under the running server.
    await postgres!.stop('fast');
    postgres = await startPostgresProcess(dataDir, Number(new URL(databaseUrl).port));
    await waitFor('the server to answer again', async () => (await fetch(`${server!.url}/health/ready`)).status === 200);
    await setRole(evening, 'ADMIN');

    // The receiver is back; the evening ends with the organization deleted.
    await receiver.start();
    await q('mutation($id: ID!, $s: String!) { deleteOrganization(id: $id, confirmSlug: $s) }', { id: org.id, s: org.slug }, owner);

    const { rows: audit } = await sqlOnce('SELECT id, action FROM audit_events WHERE organization_id = $1 ORDER BY seq', [org.id]);
    expect(audit.map((e) => e.action)).toEqual([
      'organization.created', 'webhook_endpoint.created', 'organization.updated',
      'join_request.created', 'join_request.approved', 'join_request.created', 'join_request.approved', 'member.role_changed',
      'member.role_changed', 'join_request.created', 'join_request.approved', 'member.removed', 'member.role_changed', 'organization.deleted',
    ]);
    const { rows: events } = await sqlOnce('SELECT id, data FROM events WHERE organization_id = $1', [org.id]);
    const dataOf = new Map(events.map((e) => [e.id, e.data]));
    const ofDay = (p: string) => receiver.at(p).filter((r) => r.payload.data.organizationId === org.id);
    // The organization's own endpoint from its creation on; the service's, the whole day.
    for (const [p, expected] of [[ownPath, audit.slice(1)], [servicePath, audit]] as const) {
      await waitFor(() => `${expected.length} events at ${p} (got ${new Set(ofDay(p).map((r) => r.id)).size})`, () => new Set(ofDay(p).map((r) => r.id)).size >= expected.length, { timeout: 20_000 });
      const got = ofDay(p);
      expect(got.map((r) => r.id).sort()).toEqual(expected.map((e) => e.id).sort());
      for (const r of got) expect(r.payload).toEqual({ type: dataOf.get(r.id).type, timestamp: dataOf.get(r.id).occurredAt, data: dataOf.get(r.id) });
    }
    expect(receiver.rejected).toEqual([]);
  }, 60_000);

  async function sqlOnce(text: string, params: unknown[]): Promise<{ rows: any[] }> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return await client.query(text, params);
    } finally {
      await client.end();
    }
  }
});
