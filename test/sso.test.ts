import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { addMember, createOrganization, gql, newUser, serviceToken, sql, unique, type GqlResponse, type TestUser } from './support/client';
import { startOidcProvider, type OidcProvider } from './support/oidc';
import { certificate, idpMetadata } from './support/saml-metadata';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';

const CLIENT_SECRET = `oidc-client-secret-${unique('s')}`;
const SET = `mutation($input: SetSsoConnectionInput!) { setSsoConnection(input: $input) {
  id protocol enforced status statusReason issuer clientId idpEntityId idpSsoUrl idpSsoBinding certificateExpiresAt
  serviceProvider { entityId acsUrl oidcRedirectUri } } }`;
const VIEW = 'query($id: ID!) { organization(id: $id) { ssoConnection { id protocol enforced status issuer clientId idpEntityId organization { id name } } } }';
const READ = `query($id: ID!) { ssoConnection(organizationId: $id) { id organizationId protocol enforced status issuer clientId clientSecret
  authorizationEndpoint tokenEndpoint jwksUri idpEntityId idpSsoUrl idpCertificate certificateExpiresAt serviceProvider { entityId acsUrl oidcRedirectUri } } }`;
const DELETE = 'mutation($id: ID!) { deleteSsoConnection(organizationId: $id) }';

describe('SSO connections', () => {
  let server: RunningServer;
  /** A server as production would run it: no discovery document from a private address. */
  let guarded: RunningServer;
  let idp: OidcProvider;
  const responses: GqlResponse[] = [];
  const call = async (query: string, variables: Record<string, unknown>, auth: TestUser | string, on = server) => {
    const res = await gql(query, variables, auth, { url: on.url });
    responses.push(res);
    return res;
  };

  beforeAll(async () => {
    [server, guarded, idp] = await Promise.all([
      startServer({
        DATABASE_URL: process.env.TEST_DATABASE_URL,
        LOG_LEVEL: 'trace',
        SSO_DISCOVERY_TIMEOUT_MS: '1000',
        SSO_SP_ENTITY_ID: 'https://accounts.example.test/saml/{organizationId}',
        SSO_ACS_URL: 'https://accounts.example.test/saml/{organizationId}/acs',
        SSO_OIDC_REDIRECT_URI: 'https://accounts.example.test/oidc/callback',
      }),
      startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' }),
      startOidcProvider(),
    ]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([server?.stop(), guarded?.stop(), idp?.stop()]);
  });

  it('OIDC: an OWNER saves a connection checked against the real provider\'s discovery document; the secret never leaves but for sso:read', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Single sign-on', { url: server.url });
    const admin = newUser();
    await addMember(org.id, admin, 'ADMIN');
    const input = { organizationId: org.id, protocol: 'OIDC', issuer: idp.issuer, clientId: 'accounts', clientSecret: CLIENT_SECRET };

    expect((await call(SET, { input }, admin)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect((await call(SET, { input }, newUser())).errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect((await call(SET, { input: { ...input, clientSecret: null } }, owner)).errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'clientSecret' });

    const set = await call(SET, { input }, owner);
    expect(set.errors).toBeUndefined();
    expect(set.data!.setSsoConnection).toMatchObject({
      protocol: 'OIDC',
      enforced: false,
      status: 'ACTIVE',
      statusReason: null,
      issuer: idp.issuer,
      clientId: 'accounts',
      idpEntityId: null,
      serviceProvider: {
        entityId: `https://accounts.example.test/saml/${org.id}`,
        acsUrl: `https://accounts.example.test/saml/${org.id}/acs`,
        oidcRedirectUri: 'https://accounts.example.test/oidc/callback',
      },
    });
    expect((await call(VIEW, { id: org.id }, owner)).data!.organization.ssoConnection).toMatchObject({ protocol: 'OIDC', issuer: idp.issuer, clientId: 'accounts', organization: { id: org.id, name: 'Single sign-on' } });
    expect((await call(VIEW, { id: org.id }, admin)).errors?.[0].extensions.code).toBe('FORBIDDEN');

    // The accounts service reads it decrypted (the one answer allowed to carry the secret), with the provider's endpoints.
    const read = await gql(READ, { id: org.id }, serviceToken(unique('accounts'), 'sso:read'), { url: server.url });
    expect(read.data!.ssoConnection).toMatchObject({
      organizationId: org.id,
      protocol: 'OIDC',
      issuer: idp.issuer,
      clientId: 'accounts',
      clientSecret: CLIENT_SECRET,
      authorizationEndpoint: `${idp.issuer}/auth`,
      tokenEndpoint: `${idp.issuer}/token`,
      jwksUri: `${idp.issuer}/jwks`,
    });
    expect((await call(READ, { id: org.id }, serviceToken(unique('other'), 'byok:read'))).errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect((await call(READ, { id: org.id }, owner)).errors?.[0].extensions.code).toBe('FORBIDDEN');

    // Replaced without the secret: the stored one stays.
    expect((await call(SET, { input: { ...input, clientId: 'accounts-2', clientSecret: undefined } }, owner)).data!.setSsoConnection.clientId).toBe('accounts-2');
    expect((await gql(READ, { id: org.id }, serviceToken(unique('accounts'), 'sso:read'), { url: server.url })).data!.ssoConnection.clientSecret).toBe(CLIENT_SECRET);

    const [row] = await sql('SELECT * FROM sso_connections WHERE organization_id = $1', [org.id]);
    expect(JSON.stringify(row)).not.toContain(CLIENT_SECRET);
    const audit = await sql('SELECT * FROM audit_events WHERE organization_id = $1 ORDER BY seq', [org.id]);
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['sso.connection_created', 'sso.connection_updated']));
    expect(JSON.stringify(audit)).not.toContain(CLIENT_SECRET);
    const events = await sql('SELECT * FROM events WHERE organization_id = $1', [org.id]);
    expect(events.length).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain(CLIENT_SECRET);
    for (const res of responses) expect(JSON.stringify({ data: res.data, errors: res.errors })).not.toContain(CLIENT_SECRET);
    expect(server.output().length).toBeGreaterThan(1000); // trace logging really ran
    expect(server.output()).not.toContain(CLIENT_SECRET);
  });

  it('OIDC: a discovery document that does not match, lacks endpoints, does not answer or is not there is refused with the reason', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Bad issuers', { url: server.url });
    const refusal = async (issuer: string, on = server) => {
      const res = await call(SET, { input: { organizationId: org.id, protocol: 'OIDC', issuer, clientId: 'accounts', clientSecret: CLIENT_SECRET } }, owner, on);
      expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'issuer' });
      return res.errors![0].message;
    };
    // The provider names itself http://127.0.0.1:<port>: localhost is another issuer, however it resolves.
    const port = new URL(idp.issuer).port;
    expect(await refusal(`http://localhost:${port}`)).toMatch(`names the issuer "${idp.issuer}", not "http://localhost:${port}": they must match exactly`);
    expect(await refusal(`${idp.issuer}/`)).toMatch('must match exactly');
    expect(await refusal('not a url')).toMatch('absolute');
    expect(await refusal('ftp://idp.example.test')).toMatch('https://');

    // Someone else's documents: one without a jwks_uri, one that never answers, one that redirects.
    const hanging: http.ServerResponse[] = [];
    const other = http.createServer((req, res) => {
      const base = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      if (req.url === '/partial/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ issuer: `${base}/partial`, authorization_endpoint: `${base}/auth`, token_endpoint: `${base}/token` }));
      }
      if (req.url === '/slow/.well-known/openid-configuration') return hanging.push(res);
      if (req.url === '/moved/.well-known/openid-configuration') return res.writeHead(302, { location: idp.issuer }).end();
      res.writeHead(404).end('no');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      expect(await refusal(`${base}/partial`)).toMatch('has no jwks_uri');
      expect(await refusal(`${base}/slow`)).toMatch('no answer within 1000 ms');
      expect(await refusal(`${base}/moved`)).toMatch('HTTP 302 (redirects are not followed)');
      expect(await refusal(`${base}/missing`)).toMatch('HTTP 404');
      // Where nothing listens.
      other.closeAllConnections();
    } finally {
      for (const res of hanging) res.destroy();
      await new Promise((resolve) => other.close(resolve));
    }
    expect(await refusal(base)).toMatch('could not be fetched');

    // The webhooks' SSRF rules: without WEBHOOK_ALLOW_PRIVATE_NETWORKS, loopback and cloud metadata are never asked.
    expect(await refusal(idp.issuer, guarded)).toMatch('refused: 127.0.0.1 is a loopback, private, link-local or reserved address');
    expect(await refusal('http://169.254.169.254', guarded)).toMatch('refused');
    expect(await refusal(`http://localhost:${port}`, guarded)).toMatch('refused');
    expect(await sql('SELECT 1 FROM sso_connections WHERE organization_id = $1', [org.id])).toEqual([]);
  });

  it('SAML: IdP metadata is read (entity id, SSO URL, signing certificate and its expiry); expired or malformed metadata is refused with the reason', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'SAML', { url: server.url });
    const set = (metadataXml: string) => call(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml } }, owner);
    const refusal = async (metadataXml: string) => {
      const res = await set(metadataXml);
      expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'metadataXml' });
      return res.errors![0].message;
    };
    const notAfter = new Date(Date.now() + 200 * 86_400_000);
    notAfter.setUTCMilliseconds(0);
    const cert = await certificate(undefined, notAfter);
    const expired = await certificate(new Date(Date.now() - 10 * 86_400_000), new Date(Date.now() - 86_400_000));
    const entityId = `http://www.okta.com/${unique('exk')}`;

    const saved = await set(idpMetadata({ entityId, ssoUrl: 'https://acme.okta.com/app/sso/saml', certificate: cert, binding: 'HTTP-POST' }));
    expect(saved.errors).toBeUndefined();
    expect(saved.data!.setSsoConnection).toMatchObject({
      protocol: 'SAML',
      status: 'ACTIVE',
      idpEntityId: entityId,
      idpSsoUrl: 'https://acme.okta.com/app/sso/saml',
      idpSsoBinding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
      certificateExpiresAt: notAfter.toISOString(),
      issuer: null,
      clientId: null,
      serviceProvider: { entityId: `https://accounts.example.test/saml/${org.id}`, acsUrl: `https://accounts.example.test/saml/${org.id}/acs` },
    });
    const read = await gql(READ, { id: org.id }, serviceToken(unique('accounts'), 'sso:read'), { url: server.url });
    expect(read.data!.ssoConnection).toMatchObject({ protocol: 'SAML', idpEntityId: entityId, clientSecret: null });
    expect(read.data!.ssoConnection.idpCertificate.replace(/\s/g, '')).toBe(cert.replace(/\s/g, ''));

    expect(await refusal(idpMetadata({ entityId, ssoUrl: 'https://acme.okta.com/sso', certificate: expired }))).toMatch(/signing certificate expired on \d{4}-/);
    expect(await refusal(idpMetadata({ entityId, ssoUrl: 'https://acme.okta.com/sso' }))).toMatch('no signing certificate');
    expect(await refusal(idpMetadata({ entityId, ssoUrl: 'https://acme.okta.com/sso', certificate: '-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----' }))).toMatch(
      'not a valid X.509 certificate',
    );
    expect(await refusal('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"')).toMatch('not well-formed XML');
    expect(await refusal('')).toMatch('empty');
    expect(await refusal(idpMetadata({ entityId, ssoUrl: 'javascript:alert(1)', certificate: cert }))).toMatch('not an http(s) URL');
    // An external entity is never fetched nor expanded: a DOCTYPE is refused outright.
    expect(
      await refusal(`<?xml version="1.0"?><!DOCTYPE md [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${idpMetadata({ entityId: '&xxe;', ssoUrl: 'https://a.test/sso', certificate: cert }).replace(/^<\?xml[^>]*>/, '')}`),
    ).toMatch('DOCTYPE');
    // What failed changed nothing.
    expect((await call(VIEW, { id: org.id }, owner)).data!.organization.ssoConnection).toMatchObject({ protocol: 'SAML', idpEntityId: entityId });
  });

  it('SAML: a signing certificate that expires after saving turns the connection INVALID, saying why', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Expiring', { url: server.url });
    const soon = await certificate(new Date(Date.now() - 86_400_000), new Date(Date.now() + 4000));
    const metadataXml = idpMetadata({ entityId: 'urn:idp:expiring', ssoUrl: 'https://idp.example.test/sso', certificate: soon });
    expect((await call(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml } }, owner)).data!.setSsoConnection.status).toBe('ACTIVE');
    const STATUS = 'query($id: ID!) { organization(id: $id) { ssoConnection { status statusReason } } }';
    const invalid = await waitFor('the connection to turn INVALID', async () => {
      const connection = (await call(STATUS, { id: org.id }, owner)).data!.organization.ssoConnection;
      return connection.status === 'INVALID' && connection;
    });
    expect(invalid.statusReason).toMatch(/signing certificate expired on .*upload its new metadata/);
    expect((await gql(READ, { id: org.id }, serviceToken(unique('accounts'), 'sso:read'), { url: server.url })).data!.ssoConnection.status).toBe('INVALID');
    // The same metadata again is refused now, with the reason.
    expect((await call(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml } }, owner)).errors?.[0].message).toMatch('expired');
  });

  it('deleteSsoConnection removes it, audited; the next read is null', async () => {
    const owner = newUser();
    const org = await createOrganization(owner, 'Delete SSO', { url: server.url });
    const admin = newUser();
    await addMember(org.id, admin, 'ADMIN');
    const cert = await certificate();
    expect((await call(SET, { input: { organizationId: org.id, protocol: 'SAML', metadataXml: idpMetadata({ entityId: 'urn:idp', ssoUrl: 'https://idp.test/sso', certificate: cert }) } }, owner)).errors).toBeUndefined();
    expect((await call(DELETE, { id: org.id }, admin)).errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect((await call(DELETE, { id: org.id }, owner)).data).toEqual({ deleteSsoConnection: true });
    expect((await call(DELETE, { id: org.id }, owner)).data).toEqual({ deleteSsoConnection: false });
    expect((await call(VIEW, { id: org.id }, owner)).data!.organization.ssoConnection).toBeNull();
    expect((await gql(READ, { id: org.id }, serviceToken(unique('accounts'), 'sso:read'), { url: server.url })).data!.ssoConnection).toBeNull();
    const audit = await sql('SELECT action FROM audit_events WHERE organization_id = $1 AND action LIKE $2 ORDER BY seq', [org.id, 'sso.%']);
    expect(audit.map((e) => e.action)).toEqual(['sso.connection_created', 'sso.connection_deleted']);
  });
});
