import { createSign, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CREATE_ORG, failure, gql, newUser, ok, serviceToken, signToken, sql, unique, type GqlResponse } from './support/client';
import { startServer, type RunningServer } from './support/servers';
import { waitFor } from './support/wait';

const VIEWER = '{ viewer { id } }';

/**
 * Asks with `token` every 100 ms until it is refused, and returns that answer: about time, so it
 * polls the clock. Every acceptance was sent before `until`, and the refusal came at or after it.
 */
async function refusedAfter(until: number, token: string, call: (token: string) => Promise<GqlResponse>): Promise<GqlResponse> {
  const refused = await waitFor(
    `a refusal of the token after ${new Date(until).toISOString()}`,
    async () => {
      const sent = Date.now();
      const res = await call(token);
      if (!res.errors) expect(sent).toBeLessThan(until);
      return res.errors && res;
    },
    { timeout: until - Date.now() + 3000, interval: 100 },
  );
  expect(Date.now()).toBeGreaterThanOrEqual(until);
  return refused;
}

describe('authentication', () => {
  it('lets a valid user token in', async () => {
    const user = newUser();
    expect(await ok(VIEWER, {}, user)).toEqual({ viewer: { id: user.id } });
  });

  it.each([
    ['no token', undefined],
    ['a garbage token', 'not-a-jwt'],
    ['an expired token', signToken({ sub: 'u-exp', email: 'e@x.test', exp: Math.floor(Date.now() / 1000) - 60 })],
    ['a token signed with another secret', signToken({ sub: 'u-sig', email: 's@x.test' }, 'another-secret-another-secret-another-secret')],
    ['an unsigned token (alg none)', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"u","email":"a@b.c"}').toString('base64url')}.`],
    ['a token without a subject', signToken({ email: 'nosub@x.test' })],
    ['a token with neither email nor scope', signToken({ sub: 'u-bare' })],
  ])('answers UNAUTHENTICATED to %s', async (_label, token) => {
    const { code, data } = await failure(VIEWER, {}, token ?? null);
    expect(code).toBe('UNAUTHENTICATED');
    expect(data).toBeNull();
  });

  it('explains an expired token', async () => {
    const token = signToken({ sub: 'u-exp2', email: 'e2@x.test', exp: Math.floor(Date.now() / 1000) - 60 });
    expect((await failure(VIEWER, {}, token)).message).toMatch(/expired/);
  });

  it('refuses a token once it expires, though it was accepted moments before (verified tokens are remembered)', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = signToken({ sub: unique('u-soon'), email: 'soon@x.test', exp });
    expect((await gql(VIEWER, {}, token)).errors).toBeUndefined();
    expect((await gql(VIEWER, {}, token)).errors).toBeUndefined();
    await refusedAfter(exp * 1000, token, (t) => gql(VIEWER, {}, t));
    const { code, message } = await failure(VIEWER, {}, token);
    expect([code, message]).toEqual(['UNAUTHENTICATED', expect.stringMatching(/expired/)]);
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    const res = await gql(VIEWER, {}, null, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(res.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('still answers what needs no principal when the token is bad', async () => {
    const res = await gql('{ __typename }', {}, 'garbage');
    expect(res.data).toEqual({ __typename: 'Query' });
  });

  it('tells a partner service that people operations are not for it (FORBIDDEN)', async () => {
    const token = serviceToken(unique('billing'), 'billing:write');
    expect((await failure(VIEWER, {}, token)).code).toBe('FORBIDDEN');
    expect((await failure('mutation { createOrganization(input: { name: "Svc" }) { id } }', {}, token)).code).toBe('FORBIDDEN');
  });
});

describe('token lifetime', () => {
  const now = () => Math.floor(Date.now() / 1000);

  it('refuses a token without exp (UNAUTHENTICATED, saying so) while JWT_MAX_AGE_SECONDS is unset', async () => {
    const sub = unique('u-noexp');
    const { code, message } = await failure(VIEWER, {}, signToken({ sub, email: `${sub}@x.test`, exp: undefined }));
    expect([code, message]).toEqual(['UNAUTHENTICATED', expect.stringMatching(/exp/)]);
  });

  it('refuses an iat or nbf more than a minute in the future, and accepts one within the clock skew', async () => {
    const sub = unique('u-future');
    const claims = { sub, email: `${sub}@x.test` };
    for (const future of [{ iat: 4102444800 }, { iat: now() + 120 }, { nbf: now() + 120 }]) {
      const { code, message } = await failure(VIEWER, {}, signToken({ ...claims, ...future }));
      expect([code, message]).toEqual(['UNAUTHENTICATED', expect.stringMatching(/future/)]);
    }
    expect(await ok(VIEWER, {}, signToken({ ...claims, iat: now() + 30, nbf: now() + 30 }))).toEqual({ viewer: { id: sub } });
  });

  it('an iat in 2100 cannot freeze the stored claims: the next real token still updates email and name', async () => {
    const user = newUser('Before');
    await ok(VIEWER, {}, user);
    const frozen = signToken({ sub: user.id, email: 'frozen@x.test', email_verified: true, name: 'Frozen', iat: 4102444800, exp: 4102448400 });
    expect((await failure(VIEWER, {}, frozen)).code).toBe('UNAUTHENTICATED');
    const renamed = signToken({ sub: user.id, email: `renamed.${user.email}`, email_verified: true, name: 'After', iat: now() + 1 });
    expect(await ok('{ viewer { memberships { nodes { email displayName } } } }', {}, renamed)).toEqual({
      viewer: { memberships: { nodes: [{ email: `renamed.${user.email}`, displayName: 'After' }] } },
    });
  });

  it('claims stored from a future iat before such tokens were refused do not stay frozen', async () => {
    const user = newUser('Stored long ago');
    await ok(VIEWER, {}, user);
    await sql(`UPDATE users SET claims_issued_at = '2100-01-01' WHERE id = $1`, [user.id]);
    const renamed = signToken({ sub: user.id, email: `later.${user.email}`, email_verified: true, name: 'Later' });
    expect(await ok('{ viewer { memberships { nodes { email displayName } } } }', {}, renamed)).toEqual({
      viewer: { memberships: { nodes: [{ email: `later.${user.email}`, displayName: 'Later' }] } },
    });
  });

  describe('with JWT_MAX_AGE_SECONDS', () => {
    let server: RunningServer | undefined;
    afterAll(async () => {
      await server?.stop('SIGKILL');
    });

    it('accepts a token without exp only while its iat is younger than that, also when remembered', async () => {
      server = await startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL, JWT_MAX_AGE_SECONDS: '3' });
      const call = (token: string) => gql(VIEWER, {}, token, { url: server!.url });
      const sub = unique('u-maxage');
      const claims = { sub, email: `${sub}@x.test`, exp: undefined };
      expect((await call(signToken({ ...claims, iat: undefined }))).errors?.[0]).toMatchObject({ message: expect.stringMatching(/iat/), extensions: { code: 'UNAUTHENTICATED' } });
      expect((await call(signToken({ ...claims, iat: now() - 10 }))).errors?.[0]).toMatchObject({ message: expect.stringMatching(/expired/), extensions: { code: 'UNAUTHENTICATED' } });
      // A token with exp is still accepted; one without, young enough, too — until it ages out, cached or not.
      expect((await call(signToken({ sub, email: claims.email }))).data).toEqual({ viewer: { id: sub } });
      const iat = now() - 1;
      const young = signToken({ ...claims, iat });
      expect((await call(young)).data).toEqual({ viewer: { id: sub } });
      // Asked again every 100 ms: accepted while it was sent before iat + 3 s, refused once answered after it.
      const refused = await refusedAfter((iat + 3) * 1000, young, call);
      expect(refused.errors?.[0]).toMatchObject({ message: expect.stringMatching(/expired/), extensions: { code: 'UNAUTHENTICATED' } });
    });
  });
});

describe('people and partner services', () => {
  const PROVISION = 'mutation($input: ProvisionUserInput!) { provisionUser(input: $input) { id } }';

  it('a token that carries an email claim, even empty or null, is a person\'s: it cannot act as a partner service', async () => {
    for (const email of ['', null, '   ']) {
      const token = signToken({ sub: unique('u-mixed'), email, scope: 'users:provision' });
      const userId = unique('provisioned');
      const res = await gql(PROVISION, { input: { userId, email: `${userId}@x.test` } }, token);
      expect(res.data).toBeNull();
      expect(['FORBIDDEN', 'UNAUTHENTICATED']).toContain(res.errors?.[0].extensions.code);
      expect(await sql('SELECT 1 FROM users WHERE id = $1', [userId])).toEqual([]);
    }
  });

  it('a token without an email claim, with a scope, is a partner service and cannot act as a person', async () => {
    const token = serviceToken(unique('provisioner'), 'users:provision');
    const userId = unique('provisioned');
    expect((await ok(PROVISION, { input: { userId, email: `${userId}@x.test` } }, token)).provisionUser.id).toBeTruthy();
    expect(['FORBIDDEN', 'UNAUTHENTICATED']).toContain((await failure(CREATE_ORG, { input: { name: 'Svc' } }, token)).code);
    expect(['FORBIDDEN', 'UNAUTHENTICATED']).toContain((await failure(VIEWER, {}, token)).code);
  });
});

describe('claims kept from tokens', () => {
  const MEMBER_NAMES = '{ viewer { memberships { nodes { email displayName } } } }';

  it('takes the newest email and name into Membership.email and displayName', async () => {
    const user = newUser('Grace Hopper');
    expect(await ok(MEMBER_NAMES, {}, user)).toEqual({
      viewer: { memberships: { nodes: [{ email: user.email, displayName: 'Grace Hopper' }] } },
    });
    const now = Math.floor(Date.now() / 1000);
    const renamed = signToken({ sub: user.id, email: 'Grace.New@Example.test', email_verified: true, name: 'Rear Admiral Hopper', iat: now + 5 });
    expect(await ok(MEMBER_NAMES, {}, renamed)).toEqual({
      viewer: { memberships: { nodes: [{ email: 'grace.new@example.test', displayName: 'Rear Admiral Hopper' }] } },
    });
    // A token issued before the rename does not bring the old name back.
    const stale = signToken({ sub: user.id, email: user.email, email_verified: true, name: 'Grace Hopper', iat: now - 100 });
    expect(await ok(MEMBER_NAMES, {}, stale)).toEqual({
      viewer: { memberships: { nodes: [{ email: 'grace.new@example.test', displayName: 'Rear Admiral Hopper' }] } },
    });
  });
});

describe('issuer, audience and JWKS', () => {
  let server: RunningServer | undefined;
  let jwks: http.Server | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    jwks?.close();
    server = undefined;
    jwks = undefined;
  });

  it('checks JWT_ISSUER and JWT_AUDIENCE when set', async () => {
    server = await startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL, JWT_ISSUER: 'https://id.example.test', JWT_AUDIENCE: 'orgs' });
    const claims = { sub: unique('iss'), email: `${unique('iss')}@x.test` };
    const call = (token: string) => gql(VIEWER, {}, token, { url: server!.url });
    expect((await call(signToken(claims))).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await call(signToken({ ...claims, iss: 'https://evil.test', aud: 'orgs' }))).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await call(signToken({ ...claims, iss: 'https://id.example.test', aud: 'other' }))).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await call(signToken({ ...claims, iss: 'https://id.example.test', aud: 'orgs' }))).data).toEqual({ viewer: { id: claims.sub } });
  });

  it('verifies RS256 tokens against JWKS_URL', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = http.createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => jwks!.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    server = await startServer({ DATABASE_URL: process.env.TEST_DATABASE_URL, JWKS_URL: jwksUrl, JWT_SECRET: undefined });

    const rs256 = (claims: object, kid = 'k1') => {
      const now = Math.floor(Date.now() / 1000);
      const body = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid })).toString('base64url')}.${Buffer.from(JSON.stringify({ iat: now, exp: now + 600, ...claims })).toString('base64url')}`;
      return `${body}.${createSign('RSA-SHA256').update(body).sign(privateKey).toString('base64url')}`;
    };
    const sub = unique('jwks');
    const good = await gql(VIEWER, {}, rs256({ sub, email: `${sub}@x.test` }), { url: server.url });
    expect(good.data).toEqual({ viewer: { id: sub } });
    const unknownKey = await gql(VIEWER, {}, rs256({ sub, email: `${sub}@x.test` }, 'k2'), { url: server.url });
    expect(unknownKey.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    // An HS256 token is not accepted once the server verifies against a JWKS.
    const hs = await gql(VIEWER, {}, signToken({ sub, email: `${sub}@x.test` }), { url: server.url });
    expect(hs.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});
