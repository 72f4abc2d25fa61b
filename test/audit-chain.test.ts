import { spawnSync } from 'node:child_process';
import { createOrganization, gql, newUser, ok, serverUrl, serviceToken, sql, unique, type TestUser } from './support/client';
import { ROOT } from './support/servers';
import { waitFor } from './support/wait';

const INTEGRITY = 'query($id: ID!) { organization(id: $id) { auditIntegrity { verified eventsChecked firstBrokenEventId } } }';
const RENAME = 'mutation($id: ID!, $n: String!) { updateOrganization(input: { id: $id, name: $n }) { id } }';

async function orgWithEvents(n: number): Promise<{ owner: TestUser; id: string; events: { id: string }[] }> {
  const owner = newUser();
  const org = await createOrganization(owner, 'Chained');
  for (let i = 0; i < n - 1; i++) await ok(RENAME, { id: org.id, n: `Name ${i}` }, owner);
  const events = await sql<{ id: string }>('SELECT id FROM audit_events WHERE organization_id = $1 ORDER BY seq', [org.id]);
  return { owner, id: org.id, events };
}

/** As the database superuser, edit behind the application's back (the trigger refuses the application). */
async function tamper(statement: string, params: unknown[]): Promise<void> {
  await sql('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
  try {
    await sql(statement, params);
  } finally {
    await sql('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
  }
}

describe('the audit log is append-only', () => {
  it.each([
    ['UPDATE', `UPDATE audit_events SET action = 'x.y' WHERE organization_id = $1`],
    ['DELETE', `DELETE FROM audit_events WHERE organization_id = $1`],
  ])('the database refuses %s', async (_op, statement) => {
    const { id } = await orgWithEvents(2);
    await expect(sql(statement, [id])).rejects.toThrow(/append-only/);
    expect(await sql('SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1', [id])).toEqual([{ n: 2 }]);
  });

  it('the database refuses TRUNCATE', async () => {
    await expect(sql('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
  });
});

describe('tamper evidence', () => {
  it('a clean chain verifies', async () => {
    const { owner, id } = await orgWithEvents(5);
    expect((await ok(INTEGRITY, { id }, owner)).organization.auditIntegrity).toEqual({ verified: true, eventsChecked: 5, firstBrokenEventId: null });
  });

  it('an edited event is found', async () => {
    const { owner, id, events } = await orgWithEvents(5);
    await tamper(`UPDATE audit_events SET metadata = '{"changes":{}}' WHERE id = $1`, [events[2].id]);
    expect((await ok(INTEGRITY, { id }, owner)).organization.auditIntegrity).toEqual({ verified: false, eventsChecked: 3, firstBrokenEventId: events[2].id });
  });

  it('a removed event is found at its successor; a removed last event is found too', async () => {
    const { owner, id, events } = await orgWithEvents(5);
    await tamper('DELETE FROM audit_events WHERE id = $1', [events[1].id]);
    expect((await ok(INTEGRITY, { id }, owner)).organization.auditIntegrity).toMatchObject({ verified: false, firstBrokenEventId: events[2].id });
    const other = await orgWithEvents(3);
    await tamper('DELETE FROM audit_events WHERE id = $1', [other.events[2].id]);
    expect((await ok(INTEGRITY, { id: other.id }, other.owner)).organization.auditIntegrity).toMatchObject({ verified: false, firstBrokenEventId: other.events[1].id });
  });

  it('stays correct under concurrent writes to one organization', async () => {
    const { owner, id } = await orgWithEvents(1);
    const clientId = unique('audit');
    const service = serviceToken(clientId, 'audit:write');
    const writes = Array.from({ length: 20 }, (_, i) =>
      gql('mutation($input: RecordAuditEventInput!) { recordAuditEvent(input: $input) { id } }', { input: { organizationId: id, action: `${clientId}.load.tested`, metadata: { i }, idempotencyKey: unique('k') } }, service),
    );
    const renames = Array.from({ length: 10 }, (_, i) => gql(RENAME, { id, n: `Concurrent ${i}` }, owner));
    for (const r of await Promise.all([...writes, ...renames])) expect(r.errors).toBeUndefined();
    expect((await ok(INTEGRITY, { id }, owner)).organization.auditIntegrity).toEqual({ verified: true, eventsChecked: 31, firstBrokenEventId: null });
    const seqs = (await sql('SELECT seq FROM audit_events WHERE organization_id = $1 ORDER BY seq', [id])).map((r) => Number(r.seq));
    expect(seqs).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
  });

  it('is for AUDIT_READ holders only', async () => {
    const { id } = await orgWithEvents(1);
    expect((await gql(INTEGRITY, { id }, newUser())).errors?.[0].extensions.code).toBe('NOT_FOUND');
  });
});

describe('retention', () => {
  it('a purge removes the oldest events and the chain still verifies from the first kept one', async () => {
    const { owner, id, events } = await orgWithEvents(3);
    // The cutoff: the first millisecond after these three events (stamped by the database), and
    // passed by the database's clock before the next ones, so that they fall after it.
    const [{ newest }] = await sql<{ newest: Date }>('SELECT max(occurred_at) AS newest FROM audit_events WHERE organization_id = $1', [id]);
    const cutoff = new Date(newest.getTime() + 1).toISOString();
    await waitFor('the database clock to pass the cutoff', async () => (await sql('SELECT clock_timestamp() > $1 AS past', [cutoff]))[0].past);
    for (let i = 0; i < 2; i++) await ok(RENAME, { id, n: `Kept ${i}` }, owner);
    const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/audit-purge.ts', '--before', cutoff, '--organization', id], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, DATABASE_URL: process.env.TEST_DATABASE_URL, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });
    expect(result.stdout).toMatch(/Removed 3 audit events/);
    const kept = await sql('SELECT id FROM audit_events WHERE organization_id = $1 ORDER BY seq', [id]);
    expect(kept).toHaveLength(2);
    expect(kept.map((e) => e.id)).not.toContain(events[0].id);
    expect((await ok(INTEGRITY, { id }, owner)).organization.auditIntegrity).toEqual({ verified: true, eventsChecked: 2, firstBrokenEventId: null });
    await ok(RENAME, { id, n: 'After the purge' }, owner);
    expect((await ok(INTEGRITY, { id }, owner)).organization.auditIntegrity).toMatchObject({ verified: true, eventsChecked: 3 });
  });
});

describe('reading while events arrive', () => {
  it('keyset pages stay stable: no event repeated or skipped when new ones are written between pages', async () => {
    const { owner, id } = await orgWithEvents(6);
    const PAGE = 'query($id: ID!, $after: String) { organization(id: $id) { auditEvents(first: 2, after: $after) { nodes { id } pageInfo { endCursor hasNextPage } } } }';
    const before = (await sql('SELECT id FROM audit_events WHERE organization_id = $1 ORDER BY id DESC', [id])).map((r) => r.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = (await ok(PAGE, { id, after }, owner)).organization.auditEvents;
      seen.push(...page.nodes.map((n: any) => n.id));
      await ok(RENAME, { id, n: unique('Meanwhile') }, owner);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(before);
  });
});

describe('export', () => {
  const exportUrl = (params: Record<string, string>) => `${serverUrl()}/audit/export?${new URLSearchParams(params)}`;
  const get = (params: Record<string, string>, user?: TestUser) => fetch(exportUrl(params), { headers: user ? { authorization: `Bearer ${user.token}` } : {} });

  it('streams every event as NDJSON or CSV, newest first, with the API\'s filters', async () => {
    const { owner, id } = await orgWithEvents(4);
    // Many more, written straight into the table (appends are allowed), across several export pages.
    await sql(
      `INSERT INTO audit_events (organization_id, seq, occurred_at, action, actor_type, actor_id, metadata, prev_hash, hash)
       SELECT $1, 100 + g, now(), 'bulk.loaded', 'SYSTEM', 'test', jsonb_build_object('n', g), '', md5(g::text) FROM generate_series(1, 2500) g`,
      [id],
    );
    const ndjson = await get({ organizationId: id, format: 'ndjson' }, owner);
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await ndjson.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2504);
    expect(lines.map((l) => l.id)).toEqual([...lines.map((l) => l.id)].sort().reverse());
    expect(lines.at(-1)).toMatchObject({ action: 'organization.created', actorType: 'USER', actorId: owner.id });

    const csv = await get({ organizationId: id, format: 'csv', actions: 'organization.updated,organization.created' }, owner);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const rows = (await csv.text()).trim().split('\r\n');
    expect(rows[0]).toBe('id,occurredAt,action,actorType,actorId,actorDisplay,targetType,targetId,targetDisplay,metadata,ip,userAgent,requestId,seq,hash,origin');
    expect(rows).toHaveLength(5);
    expect(rows[1]).toMatch(/,organization\.updated,USER,/);
    expect(rows[1]).toMatch(/"\{""changes"":/);
  });

  it('answers with the same authorization as auditEvents', async () => {
    const { owner, id } = await orgWithEvents(1);
    expect((await get({ organizationId: id })).status).toBe(401);
    expect((await get({ organizationId: id }, newUser())).status).toBe(404);
    expect((await get({ organizationId: id, format: 'xml' }, owner)).status).toBe(400);
    expect((await get({ organizationId: id, since: 'yesterday' }, owner)).status).toBe(400);
    const admin = newUser();
    await sql(`INSERT INTO users (id, email) VALUES ($1, $2)`, [admin.id, admin.email]);
    await sql(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'ADMIN')`, [id, admin.id]);
    const forbidden = await get({ organizationId: id }, admin);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
  });
});
