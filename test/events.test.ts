import { createOrganization, gql, newUser, ok, sql, unique } from './support/client';

/**
 * Every change is an event (API.md, Events): each audit event is written to the outbox in the
 * change's own transaction, with the same id, its action as type and the audit event as data.
 */
const INVITE = 'mutation($id: ID!, $e: [String!]!) { inviteMembers(input: { organizationId: $id, emails: $e }) { id } }';

const auditOf = (organizationId: string) => sql<{ id: string; action: string }>('SELECT id, action FROM audit_events WHERE organization_id = $1 ORDER BY seq', [organizationId]);
const eventsOf = (organizationId: string) => sql<{ id: string; type: string }>('SELECT id, type FROM events WHERE organization_id = $1 ORDER BY xid, position', [organizationId]);

describe('the outbox of events', () => {
  it('holds each audit event once, in the organization\'s order, with no request details', async () => {
    const owner = newUser('Outbox Owner');
    const org = await createOrganization(owner, 'Outbox');
    await ok(INVITE, { id: org.id, e: [`${unique('a')}@example.test`, `${unique('b')}@example.test`] }, owner);
    await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, name: "Outbox 2" }) { id } }', { id: org.id }, owner);
    const audit = await auditOf(org.id);
    expect(audit.map((e) => e.action)).toEqual(['organization.created', 'invitation.created', 'invitation.created', 'organization.updated']);
    expect(await eventsOf(org.id)).toEqual(audit.map((e) => ({ id: e.id, type: e.action })));
    const [event] = await sql('SELECT data FROM events WHERE id = $1', [audit[3].id]);
    expect(event.data).toEqual({
      id: audit[3].id,
      type: 'organization.updated',
      organizationId: org.id,
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      actor: { type: 'USER', id: owner.id, display: 'Outbox Owner' },
      target: { type: 'Organization', id: org.id, display: 'Outbox 2' },
      metadata: expect.objectContaining({ changes: { name: { before: 'Outbox', after: 'Outbox 2' } } }),
    });
    expect(Object.keys(event.data)).not.toEqual(expect.arrayContaining(['ip']));
  });

  it('holds nothing of a change that rolled back, even one that wrote its event before failing', async () => {
    const owner = newUser('Racing Inviter');
    const org = await createOrganization(owner, 'Rollbacks');
    const shared = `${unique('shared')}@example.test`;
    // Each invites an address of its own, then the shared one: all but one fail on the shared
    // address, some after writing their own address's event in the same transaction.
    const results = await Promise.all(Array.from({ length: 8 }, () => gql(INVITE, { id: org.id, e: [`${unique('own')}@example.test`, shared] }, owner)));
    expect(results.filter((r) => !r.errors).length).toBeGreaterThanOrEqual(1);
    for (const r of results.filter((r) => r.errors)) expect(r.errors![0].extensions.code).toBe('CONFLICT');
    const audit = await auditOf(org.id);
    expect(audit.filter((e) => e.action === 'invitation.created')).toHaveLength(2);
    expect(await eventsOf(org.id)).toEqual(audit.map((e) => ({ id: e.id, type: e.action })));
  });
});
