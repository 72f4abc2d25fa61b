import type { TestUser } from './client';
import type { RunningServer } from './servers';

/** Requests as a client sees them when the database fails (test/faults.test.ts, test/pool-exhaustion.test.ts). */

export const CREATE = 'mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id slug name } }';
export const READ_ORG = 'query($id: ID!) { organization(id: $id) { id name members { totalCount } } }';
export const READ_VIEWER = '{ viewer { id personalOrganization { id } memberships { totalCount } } }';
export const RENAME = 'mutation($id: ID!, $name: String!) { updateOrganization(input: { id: $id, name: $name }) { id name } }';

/** What must never reach a client: a stack frame, SQL, or the driver's own words. */
export const LEAK = /at .*\.(ts|js):\d+|\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\s+"?[a-z_]+"?\s+SET\b|\bDELETE FROM\b|violates|constraint|ECONN|57P0|terminat|Context creation|timeout exceeded|postgres/i;
export const UNAVAILABLE = { code: 'INTERNAL_SERVER_ERROR', reason: 'DATABASE_UNAVAILABLE' };
export const BUSY = { code: 'INTERNAL_SERVER_ERROR', reason: 'DATABASE_BUSY' };

export interface Outcome {
  kind: string;
  started: number;
  ended: number;
  /** HTTP status; null when no answer came at all. */
  status: number | null;
  retryAfter: string | null;
  body: string;
  data: Record<string, any> | null;
  errors: { message: string; extensions: Record<string, unknown> }[] | undefined;
}

export async function call(server: RunningServer, kind: string, query: string, variables: Record<string, unknown>, user: TestUser | null): Promise<Outcome> {
  const started = Date.now();
  try {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(user ? { authorization: `Bearer ${user.token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = await res.text();
    const parsed = JSON.parse(body) as { data?: Record<string, any>; errors?: Outcome['errors'] };
    return { kind, started, ended: Date.now(), status: res.status, retryAfter: res.headers.get('retry-after'), body, data: parsed.data ?? null, errors: parsed.errors };
  } catch (error) {
    return { kind, started, ended: Date.now(), status: null, retryAfter: null, body: String(error), data: null, errors: undefined };
  }
}

export const succeeded = (o: Outcome) => o.status === 200 && !o.errors && o.data !== null;

/**
 * A request the database could not serve, failing as a client should see it: an answer
 * (the process did not die), the documented code with the reason, HTTP 503 with Retry-After
 * when nothing of the operation succeeded, and neither stack nor SQL nor driver message.
 */
export function expectCleanFailure(o: Outcome, expected: { code: string; reason: string }): void {
  expect({ kind: o.kind, status: o.status, body: o.body }).toEqual({ kind: o.kind, status: 503, body: expect.not.stringMatching(LEAK) });
  expect(o.retryAfter).toBe('1');
  expect(o.errors).toHaveLength(1);
  expect(o.errors![0].extensions).toEqual(expected);
  expect(o.errors![0].message).toBe(expected.reason === 'DATABASE_BUSY' ? 'The database is busy, try again' : 'The database is unavailable, try again');
}

export async function ready(server: RunningServer): Promise<{ started: number; ended: number; status: number | null }> {
  const started = Date.now();
  const status = await fetch(`${server.url}/health/ready`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.status, () => null);
  return { started, ended: Date.now(), status };
}
