import { createOrganization, gql, newUser, ok, serverUrl } from './support/client';

describe('runtime endpoints', () => {
  it('reports liveness and readiness', async () => {
    const live = await fetch(`${serverUrl()}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${serverUrl()}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
  });

  it('serves Prometheus metrics, including GraphQL operations', async () => {
    await gql('query Probe { __typename }');
    const res = await fetch(`${serverUrl()}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/process_cpu_seconds_total/);
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="Probe",type="query",outcome="ok"\}/);
  });

  it('counts every route in http_requests_total, any unknown path as `other`', async () => {
    await fetch(`${serverUrl()}/health/live`);
    await fetch(`${serverUrl()}/no-such-path-0123`);
    await fetch(`${serverUrl()}/.well-known/jwks.json`);
    await gql('{ __typename }');
    const text = await (await fetch(`${serverUrl()}/metrics`)).text();
    expect(text).toMatch(/^http_requests_total\{route="\/health\/live",status="200"\} [1-9]/m);
    expect(text).toMatch(/^http_requests_total\{route="\/graphql",status="200"\} [1-9]/m);
    expect(text).toMatch(/^http_requests_total\{route="other",status="404"\} [1-9]/m);
    expect(text).toMatch(/^http_requests_total\{route="\/\.well-known\/jwks\.json",status="200"\} [1-9]/m);
    expect(text).not.toMatch(/no-such-path/);
  });

  it('shows Apollo Sandbox on GET /graphql in development', async () => {
    const res = await fetch(`${serverUrl()}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/sandbox/i);
  });

  it('answers GET queries', async () => {
    const res = await fetch(`${serverUrl()}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses a body over 1 MB with 413 and a GraphQL-shaped error', async () => {
    const res = await fetch(`${serverUrl()}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(1_100_000) } }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('answers malformed JSON with 400 and no stack trace', async () => {
    const res = await fetch(`${serverUrl()}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toMatch(/at .*\.js:\d+/);
    expect(JSON.parse(text).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('answers a malformed document with BAD_USER_INPUT', async () => {
    const res = await gql('{ viewer { id ');
    expect(res.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('records who sent a request: its request id (echoed back), user agent and address behind a local proxy', async () => {
    const owner = newUser('Request Owner');
    const headers = { 'x-request-id': 'req-from-the-router-1', 'user-agent': 'health-test/1.0', 'x-forwarded-for': '203.0.113.7' };
    const res = await gql(`mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }`, { input: { name: 'Traced' } }, owner, { headers });
    expect(res.headers.get('x-request-id')).toBe('req-from-the-router-1');
    const { organization } = await ok(`query($id: ID!) { organization(id: $id) { auditEvents(first: 1) { nodes { action requestId userAgent ip } } } }`, { id: res.data!.createOrganization.id }, owner);
    expect(organization.auditEvents.nodes).toEqual([{ action: 'organization.created', requestId: 'req-from-the-router-1', userAgent: 'health-test/1.0', ip: '203.0.113.7' }]);
    // Without a proxy in front, the address is the peer's own.
    const direct = await createOrganization(owner, 'Untraced');
    const { organization: untraced } = await ok(`query($id: ID!) { organization(id: $id) { auditEvents(first: 1) { nodes { ip } } } }`, { id: direct.id }, owner);
    expect(untraced.auditEvents.nodes[0].ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
  });
});

describe('X-Request-Id on every answer, refusals before GraphQL runs included', () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const cases: [string, () => Promise<Response>, number][] = [
    // Apollo's CSRF prevention: a GET without a preflight-forcing header.
    ['a GET refused by CSRF prevention', () => fetch(`${serverUrl()}/graphql?query=${encodeURIComponent('{ __typename }')}`), 400],
    ['a body over 1 MB', () => fetch(`${serverUrl()}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ __typename } #${'x'.repeat(1_100_000)}` }) }), 413],
    ['a body that is not JSON', () => fetch(`${serverUrl()}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' }), 400],
    ['an audit export without a token', () => fetch(`${serverUrl()}/audit/export?organizationId=x`), 401],
    ['an unknown path', () => fetch(`${serverUrl()}/nothing-here`), 404],
  ];

  it.each(cases)('%s carries a fresh X-Request-Id', async (_name, send, status) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get('x-request-id')).toMatch(uuid);
  });

  it('echoes the id the client sent on a refusal too', async () => {
    const res = await fetch(`${serverUrl()}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'x-request-id': 'from-the-router-csrf' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toBe('from-the-router-csrf');
  });
});
