import { serverUrl } from './support/client';
import { startServer, type RunningServer } from './support/servers';

const PRODUCTION = {
  DATABASE_URL: process.env.TEST_DATABASE_URL,
  NODE_ENV: 'production',
  JWT_SECRET: 'a-production-secret-of-at-least-32-chars!',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions: { code: string } }[];
  extensions?: Record<string, unknown>;
}

/** A raw POST: the answer's top-level `extensions` (ftv1) included. */
async function post(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as Answer;
}

const TRACE = { 'apollo-federation-include-trace': 'ftv1' };
const MISSPELLED_FIELD = '{ viewr { id } }';
const MISSPELLED_INPUT = ['mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }', { input: { name: 'Acme', descriptio: 'x' } }] as const;
const MISSPELLED_TYPE = 'query($input: CreateOrganizationInpt!) { __typename }';

describe('schema details', () => {
  it('in development, errors still suggest what was meant', async () => {
    expect((await post(serverUrl(), MISSPELLED_FIELD)).errors?.[0].message).toMatch(/Did you mean "viewer"\?/);
    expect((await post(serverUrl(), ...MISSPELLED_INPUT)).errors?.[0].message).toMatch(/Did you mean "description"\?/);
    expect((await post(serverUrl(), '{ _service { sdl } }')).data?._service.sdl).toMatch(/type Organization/);
  });

  describe('in production', () => {
    let server: RunningServer | undefined;
    afterEach(async () => {
      await server?.stop('SIGKILL');
      server = undefined;
    });

    it('without ROUTER_SECRET: no SDL, no suggestions, no traces', async () => {
      server = await startServer(PRODUCTION);
      const sdl = await post(server.url, '{ _service { sdl } }');
      expect(sdl.data?._service ?? null).toBeNull();
      expect(sdl.errors).toHaveLength(1);
      expect(sdl.errors![0].extensions.code).toBe('FORBIDDEN');
      expect(sdl.errors![0].message).toMatch(/ROUTER_SECRET/);
      expect(sdl.errors![0].message).toMatch(/schema\.graphql/);
      expect(JSON.stringify(sdl)).not.toMatch(/type Organization/);

      const misspelled = [
        [MISSPELLED_FIELD, {}, 'viewer'],
        [...MISSPELLED_INPUT, 'description'],
        [MISSPELLED_TYPE, {}, 'CreateOrganizationInput'],
      ] as const;
      for (const [query, variables, meant] of misspelled) {
        const res = await post(server.url, query, variables);
        expect(res.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
        expect(res.errors?.[0].message).not.toMatch(/Did you mean/);
        expect(res.errors?.[0].message).not.toContain(`"${meant}"`);
      }

      const traced = await post(server.url, '{ __typename }', {}, TRACE);
      expect(traced.data).toEqual({ __typename: 'Query' });
      expect(traced.extensions?.ftv1).toBeUndefined();
    });

    it('with ROUTER_SECRET: the router gets the SDL and its traces, and still no suggestions', async () => {
      server = await startServer({ ...PRODUCTION, ROUTER_SECRET: 'router-secret-for-sdl' });
      const router = { 'router-authorization': 'router-secret-for-sdl' };
      const sdl = await post(server.url, '{ _service { sdl } }', {}, router);
      expect(sdl.errors).toBeUndefined();
      expect(sdl.data?._service.sdl).toMatch(/type Organization/);
      const traced = await post(server.url, '{ __typename }', {}, { ...router, ...TRACE });
      expect(traced.data).toEqual({ __typename: 'Query' });
      expect(typeof traced.extensions?.ftv1).toBe('string');
      expect((await post(server.url, MISSPELLED_FIELD, {}, router)).errors?.[0].message).not.toMatch(/Did you mean/);
    });
  });
});
