import { createHmac, randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { TEST_JWT_SECRET } from './servers';

export const serverUrl = () => process.env.TEST_SERVER_URL!;

const b64url = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

/** An HS256 JWT signed with node:crypto: independent of the library the server verifies with. */
export function signToken(claims: Record<string, unknown>, secret = TEST_JWT_SECRET, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64url(header)}.${b64url({ iat: now, exp: now + 3600, ...claims })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

export interface TestUser {
  id: string;
  email: string;
  name: string;
  token: string;
}

let counter = 0;
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}${(counter++).toString(36)}${randomBytes(2).toString('hex')}`;

/** A user nobody has seen yet; `name` defaults to "Test <n>". */
export function newUser(name?: string, extra: Record<string, unknown> = {}): TestUser {
  const id = unique('user');
  const email = `${id}@example.test`;
  const userName = name ?? `Test ${id.slice(-6)}`;
  return { id, email, name: userName, token: signToken({ sub: id, email, email_verified: true, name: userName, ...extra }) };
}

export function serviceToken(clientId: string, scope: string): string {
  return signToken({ sub: clientId, scope });
}

export interface GqlResponse<T = Record<string, any>> {
  status: number;
  data: T | null;
  errors: { message: string; path?: string[]; extensions: { code: string; field?: string; [k: string]: unknown } }[] | undefined;
  headers: Headers;
  /** SQL statements the server ran for this request (X-SQL-Statements). */
  statements: number;
}

export async function gql<T = Record<string, any>>(
  query: string,
  variables: Record<string, unknown> = {},
  auth?: TestUser | string | null,
  options: { url?: string; headers?: Record<string, string> } = {},
): Promise<GqlResponse<T>> {
  const token = typeof auth === 'string' ? auth : auth?.token;
  const res = await fetch(`${options.url ?? serverUrl()}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: GqlResponse['errors'] };
  return { status: res.status, data: body.data ?? null, errors: body.errors, headers: res.headers, statements: Number(res.headers.get('x-sql-statements')) };
}

/** The data of a request that must succeed. */
export async function ok<T = Record<string, any>>(query: string, variables: Record<string, unknown>, auth: TestUser | string, options: { url?: string } = {}): Promise<T> {
  const res = await gql<T>(query, variables, auth, options);
  if (res.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(res.errors)}`);
  return res.data as T;
}

/** What must never reach a client: a stack frame or SQL. */
const LEAK = /at .*\.(ts|js):\d+|\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\s+"?[a-z_]+"?\s+SET\b|\bDELETE FROM\b|violates|constraint/i;

/** The single error's code (and field) of a request that must fail. */
export async function failure(query: string, variables: Record<string, unknown>, auth?: TestUser | string | null) {
  const res = await gql(query, variables, auth);
  expect(res.errors).toHaveLength(1);
  expect(JSON.stringify(res.errors)).not.toMatch(LEAK);
  return { code: res.errors![0].extensions.code, field: res.errors![0].extensions.field, message: res.errors![0].message, data: res.data };
}

// A pool, not one client: tests call sql() concurrently (fixtures in Promise.all), which one pg
// client only queues, a use pg deprecates.
let pool: Pool | undefined;
/** Direct SQL against the test database, for fixtures and for checking what was stored. */
export async function sql<T = Record<string, any>>(text: string, params: unknown[] = []): Promise<T[]> {
  pool ??= new Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 4 });
  return (await pool.query(text, params)).rows as T[];
}

afterAll(async () => {
  await pool?.end();
  pool = undefined;
});

export const CREATE_ORG = `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id slug name kind viewerRole } }`;

/** A TEAM organization owned by `owner` (through the test server, or the server at `url`). */
export async function createOrganization(owner: TestUser, name = 'Team', options: { url?: string } = {}): Promise<{ id: string; slug: string }> {
  const data = await ok<{ createOrganization: { id: string; slug: string } }>(CREATE_ORG, { input: { name } }, owner, options);
  return data.createOrganization;
}

/** Makes sure the server has seen `user` (its personal organization exists). */
export async function touch(user: TestUser): Promise<void> {
  await ok('{ viewer { id } }', {}, user);
}

/**
 * Puts `user` into an organization with a role — a fixture, written straight into the
 * database: shorter than an invitation and its acceptance (test/invitations.test.ts covers
 * those); everything asserted afterwards goes over HTTP.
 */
export async function addMember(organizationId: string, user: TestUser, role: string, assignments: string[] = []): Promise<string> {
  await touch(user);
  const [row] = await sql<{ id: string }>(
    'INSERT INTO memberships (organization_id, user_id, role, assignments) VALUES ($1, $2, $3, $4) RETURNING id',
    [organizationId, user.id, role, assignments],
  );
  return row.id;
}

/** The development ENCRYPTION_KEY the main test server runs with (README). */
const DEV_ENCRYPTION_KEY = Buffer.from('ZGV2ZWxvcG1lbnQtb25seS1lbmNyeXB0aW9uLWtleSE=', 'base64');

/**
 * The token of an invitation's latest mail, read from the outbox the way the mail worker
 * would: AES-256-GCM, iv · ciphertext · tag, "mail" as associated data.
 */
export async function invitationToken(invitationId: string): Promise<string> {
  const [row] = await sql<{ payload: string }>(`SELECT payload FROM mail_outbox WHERE topic = $1 ORDER BY id DESC LIMIT 1`, [`invitation:${invitationId}`]);
  if (!row?.payload) throw new Error(`no unsent mail for invitation ${invitationId}`);
  const raw = Buffer.from(row.payload, 'base64');
  const { createDecipheriv } = await import('node:crypto');
  const decipher = createDecipheriv('aes-256-gcm', DEV_ENCRYPTION_KEY, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from('mail'));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  const mail = JSON.parse(Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8'));
  const token = /token=([A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
  if (!token) throw new Error('no token in the mail');
  return token;
}

/** A user whose verified email is `email`. */
export function userWithEmail(email: string, name = 'Invitee', verified = true): TestUser {
  const id = unique('user');
  return { id, email, name, token: signToken({ sub: id, email, email_verified: verified, name }) };
}
