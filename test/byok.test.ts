import { addMember, createOrganization, gql, newUser, serviceToken, sql, unique, type GqlResponse } from './support/client';
import { startServer, type RunningServer } from './support/servers';

const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('base64');
const K3 = Buffer.alloc(32, 3).toString('base64');
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SECRET_2 = 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY';
const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';

const SET = 'mutation($input: SetByokCredentialsInput!) { setByokCredentials(input: $input) { configured provider accessKeyIdLast4 region updatedAt } }';
const STATUS = 'query($id: ID!) { organization(id: $id) { byok { configured provider accessKeyIdLast4 region } } }';
const READ = 'query($id: ID!) { byokCredentials(organizationId: $id) { provider accessKeyId secretAccessKey region } }';

/** The keys of each server the tests talk to, on the one test database: a rotation is a restart with other keys. */
const KEYS = {
  K1: { ENCRYPTION_KEY: K1 },
  'K2, K1 previous': { ENCRYPTION_KEY: K2, ENCRYPTION_KEY_PREVIOUS: K1 },
  K2: { ENCRYPTION_KEY: K2 },
  K3: { ENCRYPTION_KEY: K3 },
};

describe('bring-your-own-key credentials', () => {
  const servers = new Map<keyof typeof KEYS, RunningServer>();
  let server: RunningServer | undefined;
  const responses: GqlResponse[] = [];
  const call = async (query: string, variables: Record<string, unknown>, auth: Parameters<typeof gql>[2], keep = true) => {
    const res = await gql(query, variables, auth, { url: server!.url });
    if (keep) responses.push(res);
    return res;
  };
  const use = (keys: keyof typeof KEYS) => (server = servers.get(keys));

  // All four at once, before the tests: started one after another inside a test, they took most of its 60 s on a busy
  // machine. Each start has its own deadline (test/support/servers.ts); this one covers them all on two cores.
  beforeAll(async () => {
    const started = await Promise.allSettled(
      Object.entries(KEYS).map(async ([keys, env]) => {
        servers.set(keys as keyof typeof KEYS, await startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL, LOG_LEVEL: 'trace', ...env }));
      }),
    );
    for (const result of started) if (result.status === 'rejected') throw result.reason;
  }, 180_000);
  afterAll(async () => {
    for (const s of servers.values()) await s.stop();
  });

  it('are set by an OWNER only, shown as last 4 and region, audited without the secret; the secret never leaks', async () => {
    use('K1');
    const owner = newUser();
    const org = await createOrganization(owner, 'Bring your own');
    const admin = newUser();
    await addMember(org.id, admin, 'ADMIN');
    const input = { organizationId: org.id, provider: 'AWS_BEDROCK', accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, region: 'eu-west-1' };

    expect((await call(SET, { input }, admin)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect((await call(SET, { input }, newUser())).errors?.[0].extensions.code).toBe('NOT_FOUND');
    for (const [field, bad] of [['accessKeyId', 'AKIA-nope'], ['secretAccessKey', `${SECRET}!`], ['region', 'mars']] as const) {
      const res = await call(SET, { input: { ...input, [field]: bad } }, owner);
      expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    }
    const set = await call(SET, { input }, owner);
    expect(set.data!.setByokCredentials).toMatchObject({ configured: true, provider: 'AWS_BEDROCK', accessKeyIdLast4: 'MPLE', region: 'eu-west-1' });
    expect((await call(STATUS, { id: org.id }, owner)).data!.organization.byok).toEqual({ configured: true, provider: 'AWS_BEDROCK', accessKeyIdLast4: 'MPLE', region: 'eu-west-1' });
    expect((await call(STATUS, { id: org.id }, admin)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    await call('query($id: ID!) { organization(id: $id) { auditEvents { nodes { action metadata target { id } } } } }', { id: org.id }, owner);

    // The partner service reads them decrypted: the one answer allowed to carry the secret.
    const read = await call(READ, { id: org.id }, serviceToken(unique('proxy'), 'byok:read'), false);
    expect(read.data!.byokCredentials).toEqual({ provider: 'AWS_BEDROCK', accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, region: 'eu-west-1' });

    const [row] = await sql('SELECT * FROM byok_credentials WHERE organization_id = $1', [org.id]);
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect(JSON.stringify(row)).not.toContain(ACCESS_KEY_ID);
    const events = await sql('SELECT * FROM audit_events WHERE organization_id = $1', [org.id]);
    expect(events.map((e) => e.action)).toContain('byok.credentials_set');
    expect(JSON.stringify(events)).not.toContain(SECRET);
    for (const res of responses) expect(JSON.stringify({ data: res.data, errors: res.errors })).not.toContain(SECRET);
    expect(server!.output().length).toBeGreaterThan(1000); // trace logging really ran
    expect(server!.output()).not.toContain(SECRET);
  });

  it('survive a rotation of ENCRYPTION_KEY through ENCRYPTION_KEY_PREVIOUS', async () => {
    use('K1');
    const owner = newUser();
    const org = await createOrganization(owner, 'Rotated');
    const input = { organizationId: org.id, provider: 'AWS_BEDROCK', accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, region: 'us-east-1' };
    expect((await call(SET, { input }, owner)).errors).toBeUndefined();
    const proxy = serviceToken(unique('proxy'), 'byok:read');

    use('K2, K1 previous');
    expect((await call(READ, { id: org.id }, proxy, false)).data!.byokCredentials.secretAccessKey).toBe(SECRET);
    expect((await call(SET, { input: { ...input, secretAccessKey: SECRET_2 } }, owner)).errors).toBeUndefined();
    const versions = (await sql('SELECT key_version FROM byok_credentials WHERE organization_id = $1', [org.id]))[0].key_version;

    use('K2');
    expect((await call(READ, { id: org.id }, proxy, false)).data!.byokCredentials.secretAccessKey).toBe(SECRET_2);
    expect((await sql('SELECT key_version FROM byok_credentials WHERE organization_id = $1', [org.id]))[0].key_version).toBe(versions);

    // A server without the key that sealed them says so cleanly.
    use('K3');
    const lost = await call(READ, { id: org.id }, proxy, false);
    expect(lost.errors?.[0].extensions.code).toBe('FAILED_PRECONDITION');
    expect(JSON.stringify(lost)).not.toContain(SECRET_2);
  });

  it('are cleared by an OWNER; then the status says so and the service reads null', async () => {
    use('K1');
    const owner = newUser();
    const org = await createOrganization(owner, 'Cleared');
    await call(SET, { input: { organizationId: org.id, provider: 'AWS_BEDROCK', accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, region: 'us-east-1' } }, owner);
    expect((await call('mutation($id: ID!) { clearByokCredentials(organizationId: $id) }', { id: org.id }, owner)).data).toEqual({ clearByokCredentials: true });
    expect((await call(STATUS, { id: org.id }, owner)).data!.organization.byok).toEqual({ configured: false, provider: null, accessKeyIdLast4: null, region: null });
    expect((await call(READ, { id: org.id }, serviceToken(unique('proxy'), 'byok:read'), false)).data).toEqual({ byokCredentials: null });
    expect(await sql(`SELECT action FROM audit_events WHERE organization_id = $1 AND action LIKE 'byok.%' ORDER BY id`, [org.id])).toEqual([
      { action: 'byok.credentials_set' },
      { action: 'byok.credentials_cleared' },
    ]);
  });
});
