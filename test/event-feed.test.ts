import { Client } from 'pg';
import { createOrganization, failure, gql, newUser, ok, serviceToken, sql, unique, type TestUser } from './support/client';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';

/**
 * The event feed (API.md, Events): for services with events:read, oldest first; a consumer that
 * follows pageInfo.endCursor sees every committed event exactly once, in each organization's
 * order, and never skips one that commits after it read past it.
 */
const FEED = `query($after: String, $first: Int, $types: [String!], $org: ID) {
  events(after: $after, first: $first, types: $types, organizationId: $org) {
    edges { cursor node { id type organizationId occurredAt data } }
    pageInfo { hasNextPage endCursor }
  } }`;
const reader = serviceToken(unique('feed-reader'), 'events:read');

interface FeedEvent {
  id: string;
  type: string;
  organizationId: string;
  occurredAt: string;
  data: Record<string, any>;
}

async function page(variables: Record<string, unknown>, options: { url?: string } = {}): Promise<{ events: FeedEvent[]; endCursor: string | null; hasNextPage: boolean }> {
  const data = await ok(FEED, variables, reader, options);
  return { events: data.events.edges.map((e: { node: FeedEvent }) => e.node), endCursor: data.events.pageInfo.endCursor, hasNextPage: data.events.pageInfo.hasNextPage };
}

/** Reads the feed from `after` to its current end, following endCursor. */
async function readAll(variables: Record<string, unknown>, after: string | null = null): Promise<{ events: FeedEvent[]; cursor: string | null }> {
  const events: FeedEvent[] = [];
  let cursor = after;
  for (;;) {
    const next = await page({ ...variables, after: cursor, first: 100 });
    events.push(...next.events);
    cursor = next.endCursor;
    if (!next.hasNextPage) return { events, cursor };
  }
}

const auditIds = async (organizationIds: string[]) =>
  (await sql<{ id: string; organization_id: string }>('SELECT id, organization_id FROM audit_events WHERE organization_id = ANY($1::uuid[]) ORDER BY seq', [organizationIds])).map((e) => e.id);

describe('the event feed', () => {
  it('shows an organization\'s events oldest first, as the audit log has them, page by page', async () => {
    const owner = newUser('Feed Owner');
    const org = await createOrganization(owner, 'Feed');
    for (const name of ['Feed 2', 'Feed 3', 'Feed 4']) await ok('mutation($id: ID!, $n: String!) { updateOrganization(input: { id: $id, name: $n }) { id } }', { id: org.id, n: name }, owner);
    const expected = await auditIds([org.id]);
    await waitFor('the four events in the feed', async () => (await readAll({ org: org.id })).events.length === 4);
    // Two at a time: the cursor carries on where the last page ended.
    const first = await page({ org: org.id, first: 2 });
    expect(first.hasNextPage).toBe(true);
    const second = await page({ org: org.id, first: 2, after: first.endCursor });
    expect([...first.events, ...second.events].map((e) => e.id)).toEqual(expected);
    const last = await page({ org: org.id, first: 2, after: second.endCursor });
    expect(last).toEqual({ events: [], endCursor: second.endCursor, hasNextPage: false });
    const [audit] = await sql('SELECT * FROM audit_events WHERE id = $1', [expected[3]]);
    expect(second.events[1]).toEqual({
      id: audit.id,
      type: 'organization.updated',
      organizationId: org.id,
      occurredAt: audit.occurred_at.toISOString(),
      data: {
        id: audit.id,
        type: 'organization.updated',
        organizationId: org.id,
        occurredAt: audit.occurred_at.toISOString(),
        actor: { type: 'USER', id: owner.id, display: 'Feed Owner' },
        target: { type: 'Organization', id: org.id, display: 'Feed 4' },
        metadata: audit.metadata,
      },
    });
  });

  it('filters by type and by family', async () => {
    const owner = newUser('Filter Owner');
    const org = await createOrganization(owner, 'Filters');
    await ok('mutation($id: ID!) { inviteMembers(input: { organizationId: $id, emails: ["f1@example.test"] }) { id } }', { id: org.id }, owner);
    await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, name: "Filters 2" }) { id } }', { id: org.id }, owner);
    await waitFor('three events', async () => (await readAll({ org: org.id })).events.length === 3);
    expect((await readAll({ org: org.id, types: ['organization.*'] })).events.map((e) => e.type)).toEqual(['organization.created', 'organization.updated']);
    expect((await readAll({ org: org.id, types: ['invitation.created', 'member.*'] })).events.map((e) => e.type)).toEqual(['invitation.created']);
    expect((await failure(FEED, { types: ['DROP TABLE'] }, reader)).code).toBe('BAD_USER_INPUT');
    expect(await failure(FEED, { after: 'bm90IGEgY3Vyc29y' }, reader)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(await failure(FEED, { first: 101 }, reader)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('refuses a cursor it could never have issued, one past every transaction so far (as after a restore)', async () => {
    const [{ xmax }] = await sql<{ xmax: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax');
    const cursor = (xid: bigint) => Buffer.from(`${xid}:1`, 'utf8').toString('base64url');
    // Answered [] with the same cursor, the consumer would wait forever for events that never come.
    expect(await failure(FEED, { after: cursor(BigInt(xmax) + 1000n) }, reader)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    // Below it, a place the feed may have been: read on from there.
    expect((await page({ after: cursor(BigInt(xmax) - 1n), first: 1 })).endCursor).toEqual(expect.any(String));
  });

  it('is for services holding events:read only', async () => {
    const owner = newUser('Not a service');
    const org = await createOrganization(owner, 'Nope');
    const key = (await ok('mutation($id: ID!) { createApiKey(input: { organizationId: $id, name: "k", scopes: [AUDIT_READ] }) { secret } }', { id: org.id }, owner)).createApiKey.secret;
    for (const who of [owner.token, key, serviceToken('other', 'audit:write')]) {
      expect((await failure(FEED, { org: org.id }, who)).code).toBe('FORBIDDEN');
    }
    expect((await failure(FEED, {}, null)).code).toBe('UNAUTHENTICATED');
  });

  it('costs one SQL statement per page of 100', async () => {
    const owner = newUser('Counted');
    const org = await createOrganization(owner, 'Counted');
    await Promise.all(Array.from({ length: 5 }, (_, i) => ok('mutation($id: ID!, $n: String!) { createWorkspace(input: { organizationId: $id, name: $n }) { id } }', { id: org.id, n: `W${i}` }, owner)));
    for (const variables of [{ first: 100 }, { first: 100, org: org.id, types: ['workspace.*', 'organization.created'] }]) {
      const res = await gql(FEED, variables, reader);
      expect(res.errors).toBeUndefined();
      expect(res.headers.get('x-sql-statements')).toBe('1');
    }
  });

  it('never passes an event whose transaction commits late: the cursor waits for it', async () => {
    const owner = newUser('Late Owner');
    const [slow, fast] = [await createOrganization(owner, 'Slow'), await createOrganization(owner, 'Fast')];
    await waitFor('both organizations in the feed', async () => (await readAll({ org: fast.id })).events.length === 1);
    let { cursor } = await readAll({});
    // A writer that wrote its event and has not committed yet, as a slow transaction of the server would.
    const writer = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await writer.connect();
    const lateId = '01900000-0000-7000-8000-' + Date.now().toString(16).padStart(12, '0').slice(-12);
    try {
      await writer.query('BEGIN');
      await writer.query(
        `INSERT INTO events (id, organization_id, type, occurred_at, data, xid) VALUES ($1, $2, 'organization.updated', now(), '{}', pg_current_xact_id()::text::bigint)`,
        [lateId, slow.id],
      );
      // A change that starts after it and commits first.
      await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, name: "Fast 2" }) { id } }', { id: fast.id }, owner);
      const [fastEvent] = await sql<{ id: string }>(`SELECT id FROM events WHERE organization_id = $1 AND type = 'organization.updated'`, [fast.id]);
      expect(fastEvent).toBeDefined();
      // Committed, but behind a transaction still running: not shown yet, and the cursor stays before both.
      const meanwhile = await readAll({}, cursor);
      expect(meanwhile.events.map((e) => e.id)).not.toContain(fastEvent.id);
      cursor = meanwhile.cursor;
      await writer.query('COMMIT');
      const after = await waitFor('both events past the cursor', async () => {
        const read = await readAll({}, cursor);
        const ids = read.events.map((e) => e.id);
        return ids.includes(lateId) && ids.includes(fastEvent.id) && ids;
      });
      // The late one first: its transaction began writing first.
      expect(after.indexOf(lateId)).toBeLessThan(after.indexOf(fastEvent.id));
    } finally {
      await writer.query('ROLLBACK').catch(() => undefined);
      await writer.end();
    }
  });
});

describe('the event feed under concurrent writers on two replicas', () => {
  let replicas: RunningServer[] = [];
  beforeAll(async () => {
    replicas = await Promise.all([0, 1].map(() => startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL })));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it('a consumer polling throughout sees every committed event exactly once, in each organization\'s order', async () => {
    // The consumer starts at the feed's current end and polls until told to stop.
    let cursor = (await readAll({})).cursor;
    const owners: TestUser[] = Array.from({ length: 4 }, (_, i) => newUser(`Writer ${i}`));
    const orgs = await Promise.all(owners.map((o, i) => createOrganization(o, `Concurrent ${i}`, { url: replicas[i % 2].url })));
    const orgIds = new Set(orgs.map((o) => o.id));
    const seen: FeedEvent[] = [];
    let writing = true;
    let polls = 0;
    const consumer = (async () => {
      while (writing || polls < 3) {
        const next = await page({ after: cursor, first: 100 }, { url: replicas[polls % 2].url });
        seen.push(...next.events.filter((e) => orgIds.has(e.organizationId)));
        cursor = next.endCursor;
        if (!next.hasNextPage) polls += writing ? 0 : 1;
      }
    })();
    // 12 writers at once, alternating replicas: renames, workspaces, and invitations racing on one
    // address (all but one roll back, some after writing an event).
    const shared = orgs.map(() => `${unique('race')}@example.test`);
    await Promise.all(
      Array.from({ length: 12 }, async (_, w) => {
        for (let i = 0; i < 12; i++) {
          const k = (w + i) % orgs.length;
          const url = replicas[(w + i) % 2].url;
          const res =
            i % 3 === 0
              ? await gql('mutation($id: ID!, $n: String!) { updateOrganization(input: { id: $id, name: $n }) { id } }', { id: orgs[k].id, n: `Renamed ${w}-${i}` }, owners[k], { url })
              : i % 3 === 1
                ? await gql('mutation($id: ID!, $n: String!) { createWorkspace(input: { organizationId: $id, name: $n }) { id } }', { id: orgs[k].id, n: `W ${w}-${i}` }, owners[k], { url })
                : await gql('mutation($id: ID!, $e: [String!]!) { inviteMembers(input: { organizationId: $id, emails: $e }) { id } }', { id: orgs[k].id, e: [`${unique('own')}@example.test`, shared[k]] }, owners[k], { url });
          if (res.errors) expect(res.errors[0].extensions.code).toBe('CONFLICT');
        }
      }),
    );
    const committed = await sql<{ id: string; organization_id: string }>('SELECT id, organization_id FROM audit_events WHERE organization_id = ANY($1::uuid[]) ORDER BY seq', [[...orgIds]]);
    await waitFor(() => `the consumer to see ${committed.length} events (seen ${seen.length})`, () => seen.length >= committed.length, { timeout: 15_000 });
    writing = false;
    await consumer;
    console.log(`event feed: ${committed.length} events of ${orgIds.size} organizations, written by 12 writers on 2 replicas, read by a consumer polling throughout`);
    expect(committed.length).toBeGreaterThan(100);
    // Exactly once: nothing missed, nothing repeated, nothing of a rollback.
    expect(seen.map((e) => e.id).sort()).toEqual(committed.map((e) => e.id).sort());
    // In each organization's order (the audit log's seq).
    for (const org of orgIds) {
      expect(seen.filter((e) => e.organizationId === org).map((e) => e.id)).toEqual(committed.filter((e) => e.organization_id === org).map((e) => e.id));
    }
  });
});
