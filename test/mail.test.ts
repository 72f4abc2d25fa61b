import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { SMTPServer } from 'smtp-server';
import { createOrganization, gql, newUser, ok, unique, userWithEmail } from './support/client';
import { ownDatabase } from './support/own-database';
import { ROOT, startServer, TEST_JWT_SECRET, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';

interface Received {
  to: string[];
  raw: string;
}

/** A real SMTP server in the test process, on a port of its own; it can go down and come back on the same port. */
class TestMailServer {
  readonly received: Received[] = [];
  private server: SMTPServer | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  to(address: string): Received[] {
    return this.received.filter((m) => m.to.includes(address));
  }

  async waitFor(address: string, count = 1, timeout = 15_000): Promise<Received[]> {
    return waitFor(`${count} mail(s) to ${address}`, () => this.to(address).length >= count && this.to(address), { timeout });
  }
}

/** The text of a message, with quoted-printable soft breaks and escapes undone. */
const decoded = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));

const INVITE = 'mutation($input: InviteMembersInput!) { inviteMembers(input: $input) { id email } }';

describe('invitation mail', () => {
  let smtp: TestMailServer;
  const servers: RunningServer[] = [];
  // A database of their own: their servers run the mail worker, which sends (and erases) whatever
  // the outbox holds, and would take the mail other test files read invitation tokens from.
  const own = ownDatabase('mail');
  const databaseUrl = own.url;
  let db: Client;
  const sql = async (text: string, params: unknown[]) => (await db.query(text, params)).rows;
  const app = async () => {
    const server = await startServer({
      DATABASE_URL: databaseUrl,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      MAIL_FROM: 'Orgs <orgs@example.test>',
      PUBLIC_URL: 'https://app.example.test',
      MAIL_WORKER: 'true',
      MAIL_POLL_INTERVAL_MS: '100',
      MAIL_RETRY_BASE_MS: '100',
    });
    servers.push(server);
    return server;
  };
  beforeAll(async () => {
    await own.create();
    smtp = new TestMailServer();
    await smtp.start();
    await app(); // applies the migrations
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await smtp.stop();
    await db?.end();
    await own.drop();
  });

  it('arrives with text and HTML parts, and its link\'s token accepts the invitation', async () => {
    const server = servers[0];
    const owner = newUser('Grace Hopper');
    const org = await createOrganization(owner, 'Compilers Inc', { url: server.url });
    const address = `${unique('mail')}@example.test`;
    const { data } = await gql(INVITE, { input: { organizationId: org.id, emails: [address], role: 'DEVELOPER' } }, owner, { url: server.url });
    const [mail] = await smtp.waitFor(address);
    const text = decoded(mail.raw);
    expect(text).toMatch(/Subject: Grace Hopper invited you to Compilers Inc/);
    expect(text).toMatch(/Content-Type: text\/plain/);
    expect(text).toMatch(/Content-Type: text\/html/);
    expect(text).toMatch(/as Developer/);
    expect(text).toMatch(/expires on/);
    // The development hint goes to the log only, never into a mail.
    expect(text).not.toMatch(/acceptInvitation|bin\/token/);
    const token = /https:\/\/app\.example\.test\/invitations\/accept\?token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
    expect(token).toBeDefined();
    const accepted = await ok('mutation($t: String!) { acceptInvitation(token: $t) { role organization { id } } }', { t: token }, userWithEmail(address), { url: server.url });
    expect(accepted.acceptInvitation).toEqual({ role: 'DEVELOPER', organization: { id: org.id } });
    // Sent: the sealed payload (and the link in it) is gone from the outbox.
    const [row] = await sql('SELECT payload, sent_at FROM mail_outbox WHERE topic = $1', [`invitation:${data!.inviteMembers[0].id}`]);
    expect(row.payload).toBeNull();
    expect(row.sent_at).toBeInstanceOf(Date);
  });

  it('with the mail server down, the invitation is created and its mail arrives once the server is back', async () => {
    const server = servers[0];
    await smtp.stop();
    const owner = newUser('Patient Inviter');
    const org = await createOrganization(owner, 'Outage', { url: server.url });
    const address = `${unique('later')}@example.test`;
    const res = await gql(INVITE, { input: { organizationId: org.id, emails: [address] } }, owner, { url: server.url });
    expect(res.errors).toBeUndefined();
    const topic = `invitation:${res.data!.inviteMembers[0].id}`;
    // Tried twice (a retry after the first failure) while the mail server is down.
    const row = await waitFor('two attempts to send the mail', async () => {
      const [row] = await sql('SELECT attempts, last_error, sent_at FROM mail_outbox WHERE topic = $1', [topic]);
      return row.attempts >= 2 && row;
    });
    expect(row.attempts).toBeGreaterThanOrEqual(2);
    expect(row.last_error).toEqual(expect.any(String));
    expect(row.sent_at).toBeNull();
    await smtp.start();
    const mails = await smtp.waitFor(address, 1, 20_000);
    expect(mails).toHaveLength(1);
  });

  it('two workers on one database deliver each mail exactly once', async () => {
    const [one, two] = [servers[0], await app()];
    const owner = newUser('Busy Inviter');
    const org = await createOrganization(owner, 'Crowd', { url: one.url });
    const addresses = Array.from({ length: 10 }, () => `${unique('once')}@example.test`);
    for (const [i, address] of addresses.entries()) {
      const res = await gql(INVITE, { input: { organizationId: org.id, emails: [address] } }, owner, { url: (i % 2 ? one : two).url });
      expect(res.errors).toBeUndefined();
    }
    for (const address of addresses) await smtp.waitFor(address);
    // A second copy could only come from a worker that claimed a mail before it was marked sent: once every
    // mail is marked sent and no worker is inside a transaction, any such copy has been delivered.
    await waitFor('every mail marked sent and both workers idle', async () => {
      const [{ unsent, busy }] = await sql(
        `SELECT (SELECT count(*)::int FROM mail_outbox WHERE sent_at IS NULL) AS unsent,
                (SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'organizations-subgraph' AND xact_start IS NOT NULL) AS busy`,
        [],
      );
      return unsent === 0 && busy === 0;
    });
    for (const address of addresses) expect(smtp.to(address)).toHaveLength(1);
    const logs = one.output() + two.output();
    expect(logs).toMatch(/"msg":"mail sent"/);
  });
});

describe('invitation mail without SMTP_URL, in development', () => {
  const own = ownDatabase('maillog');
  let server: RunningServer;
  beforeAll(async () => {
    await own.create();
    server = await startServer({ DATABASE_URL: own.url, NODE_ENV: 'development', MAIL_WORKER: 'true', MAIL_POLL_INTERVAL_MS: '100' });
  });
  afterAll(async () => {
    await server?.stop();
    await own.drop();
  });

  it('is logged with a ready-to-paste acceptInvitation, which accepts it sent with a bin/token token of the invitee', async () => {
    const owner = newUser('Log Reader');
    const org = await createOrganization(owner, 'Logged Mail', { url: server.url });
    const address = `${unique('logged')}@example.test`;
    await ok(INVITE, { input: { organizationId: org.id, emails: [address], role: 'DEVELOPER' } }, owner, { url: server.url });
    const logged = await waitFor('the invitation mail in the log', () =>
      server
        .output()
        .split('\n')
        .filter((line) => line.includes('"acceptInvitation"'))
        .map((line) => JSON.parse(line) as Record<string, string>)
        .find((entry) => entry.to === address),
    );
    expect(logged.acceptAs).toBe(`Authorization: Bearer $(bin/token ${address})`);
    expect(logged.acceptInvitation).toMatch(/^mutation AcceptInvitation \{ acceptInvitation\(token: "[A-Za-z0-9_-]+"\) \{/);
    // bin/token prints the token and nothing else, ready for $(…).
    const { stdout } = await promisify(execFile)(path.join(ROOT, 'bin', 'token'), [address], { env: { PATH: process.env.PATH, JWT_SECRET: TEST_JWT_SECRET } });
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stdout.trim()}` },
      body: JSON.stringify({ query: logged.acceptInvitation }),
    });
    const body = (await res.json()) as { data?: { acceptInvitation: { role: string; organization: { id: string } } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data!.acceptInvitation).toMatchObject({ role: 'DEVELOPER', organization: { id: org.id } });
    // And the local explorer opened on the same mutation.
    expect(decodeURIComponent(new URL(logged.graphiql, server.url).searchParams.get('query')!)).toBe(logged.acceptInvitation);
  });
});
