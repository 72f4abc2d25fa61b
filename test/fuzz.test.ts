import fc from 'fast-check';
import { parse, visit } from 'graphql';
import { named, required, type Field, type InputValue, type TypeRef } from './support/introspection';
import { addMember, createOrganization, invitationToken, newUser, ok, serverUrl, serviceToken, sql, unique, type TestUser } from './support/client';

/**
 * Property-based fuzzing of every mutation's input, generated from the schema: each argument
 * gets values of its own type — mostly plausible ones (the real ids of an organization the
 * caller owns, so calls get past NOT_FOUND into the business rules) mixed with hostile ones:
 * odd Unicode, NUL bytes, 100 KB strings, wrong JSON types, huge numbers, empty and blank
 * strings — sent over HTTP as variables or inline, as an OWNER, an ADMIN, a GUEST, an API key
 * or a partner service. No answer may be a 500 or an INTERNAL_SERVER_ERROR or show SQL or a
 * stack, no call may fill a seat past the plan, and after every mutation's runs the database
 * invariants hold. A new mutation is fuzzed without editing this file.
 *
 * Deterministic by default; FUZZ_SEED, FUZZ_RUNS and FUZZ_ONLY (comma-separated mutation
 * names) explore further or replay a failure; FUZZ_VERBOSE=1 prints how each mutation's calls
 * ended (2: every request and answer).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 424242);
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const ONLY = process.env.FUZZ_ONLY?.split(',').map((s) => s.trim());

interface SchemaType {
  name: string;
  kind: string;
  fields: Field[] | null;
  inputFields: InputValue[] | null;
  enumValues: { name: string }[] | null;
}

const INTROSPECTION = `{ __schema {
  mutationType { fields { name args { name type { ...T } } type { ...T } } }
  types { name kind fields { name args { name } type { ...T } } inputFields { name type { ...T } } enumValues { name } }
} _service { sdl } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`;

const typeString = (t: TypeRef): string => (t.kind === 'NON_NULL' ? `${typeString(t.ofType!)}!` : t.kind === 'LIST' ? `[${typeString(t.ofType!)}]` : t.name!);

/** The documented codes (API.md, Errors) but INTERNAL_SERVER_ERROR. */
const CLEAN_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'FAILED_PRECONDITION', 'QUOTA_EXCEEDED']);
/** SQL, a PostgreSQL message or a stack frame. */
const LEAK = /violates|relation "|syntax error at|at .*\.(ts|js):\d+|\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bDELETE FROM\b|\bconstraint\b|node_modules|stacktrace/i;

/** A value resolved when the request is built: a real id of the current fixture, a 100 KB string… Printed by its label. */
class Lazy {
  constructor(
    readonly label: string,
    readonly make: (world: World) => unknown,
  ) {}
  [fc.toStringMethod]() {
    return this.label;
  }
}
const ref = (pool: string, index: number) => new Lazy(`<${pool}#${index}>`, (w) => pick(w.pools[pool] ?? [], index));
const pick = <T>(values: T[], index: number): T | undefined => (values.length ? values[index % values.length] : undefined);

function resolve(value: unknown, world: World): unknown {
  if (value instanceof Lazy) return value.make(world);
  if (Array.isArray(value)) return value.map((v) => resolve(v, world));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, world)]));
  return value;
}

// ---------------------------------------------------------------------------------------------
// Hostile values

const KB100 = 100 * 1024;
const big = (label: string, unit: string) => {
  let cached: string | undefined;
  return new Lazy(`<100 KB of ${label}>`, () => (cached ??= unit.repeat(Math.ceil(KB100 / unit.length)).slice(0, KB100)));
};
const BIG_STRINGS = [
  big('"x"', 'x'),
  big('emoji', '😀'),
  big('combining marks', 'e\u0301\u0302\u0303'),
  big('RTL override text', '\u202egnirts\u202c'),
  big('spaces', ' '),
  big('NUL', '\u0000'),
  big('lone surrogates', '\ud800'),
];

const ODD_STRINGS = [
  '',
  ' ',
  '\t\n\r ',
  '\u00a0\u3000',
  '\u200b',
  '\u200f\u202eRTL',
  'a\u200db',
  '👨‍👩‍👧‍👦',
  '🏳️‍🌈',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  'e\u0301\u0301\u0301\u0301',
  'Z̷̢͉a̸̡l̶g̵o',
  '\ufeffBOM',
  '\u2028\u2029',
  'a\u0000b',
  '\u0000',
  '\u0007\u001b[31m',
  'İSTANBUL',
  'ß',
  'ﬁ',
  'Ⅻ',
  'ＡＢＣ',
  '%',
  '_',
  '\\',
  "' OR '1'='1",
  "'); DROP TABLE organizations; --",
  '$1',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'null',
  'undefined',
  'NaN',
  '-1',
  'a'.repeat(101),
  'a'.repeat(1001),
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  // Names that select something from a plain object's prototype where a look-up is keyed by a client's string.
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '__defineGetter__',
];

const anyChar = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const hostileString: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 3, arbitrary: fc.string({ unit: anyChar, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(...BIG_STRINGS) },
);
/** Integers GraphQL's Int takes, at its edges. */
const EDGE_INTS = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 1_000_000, 1_000_001, 999_999_999];
/** Numbers no Int takes: past 32 bits, past 2^53, fractions, the float extremes. */
const HUGE_NUMBERS = [2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e308, -1e308, 1.5, 5e-324];
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HUGE_NUMBERS, ...EDGE_INTS),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant({}),
  fc.constant([]),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  hostileString,
);
const deep = (n: number) => new Lazy(`<JSON nested ${n} deep>`, () => JSON.parse('['.repeat(n) + ']'.repeat(n)));
const hostileJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(deep(64), deep(3000), JSON.parse('{"__proto__": {"polluted": true}}'), JSON.parse('{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}')),
  fc.constantFrom(...BIG_STRINGS).map((s) => new Lazy(`{ blob: ${s.label} }`, (w) => ({ blob: s.make(w) }))),
  fc.dictionary(hostileString.filter((s): s is string => typeof s === 'string' && s.length < 200), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }),
);
const day = 86_400_000;
/** Date-times in ISO form, at and past the edges of what PostgreSQL stores. */
const edgeDate = fc.oneof(
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999Z',
    '+275760-09-13T00:00:00.000Z',
    '-000001-01-01T00:00:00Z',
    '1970-01-01T00:00:00Z',
    '2024-02-29T23:59:60Z',
    '2030-01-01T00:00:00+14:00',
  ),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((d) => new Date(Date.now() + d * day).toISOString()),
);
const badDate = fc.constantFrom('2024-02-30T00:00:00Z', '2024-01-01', 'tomorrow', '', 8.64e15, 8.64e15 + 1, -8.64e15, 1e308, '1e308');

// ---------------------------------------------------------------------------------------------
// Plausible values, by type and by the argument's name

/** Which fixture pool an ID named `name` (in `scope`: a mutation or input type) draws from. */
function idPool(name: string, scope: string): string | undefined {
  const base = name.replace(/Ids?$/, '');
  if (base !== name && POOLS.includes(base)) return base;
  if (name === 'id') {
    const scoped: [RegExp, string][] = [
      [/ApiKey/, 'apiKey'],
      [/Invitation/, 'invitation'],
      [/JoinRequest/, 'joinRequest'],
      [/Workspace/, 'workspace'],
      [/Member/, 'membership'],
      [/Organization/, 'organization'],
    ];
    return scoped.find(([pattern]) => pattern.test(scope))?.[1];
  }
  return undefined;
}
const POOLS = ['organization', 'workspace', 'membership', 'invitation', 'joinRequest', 'apiKey', 'user', 'token', 'slug', 'email'];
/** An index into a pool: the first (the team, its first workspace…) often, any of them as often. */
const index = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.nat(11) });
const fromPool = (pool: string) => index.map((i) => ref(pool, i));
const anyRef = fc.tuple(fc.constantFrom(...POOLS), fc.nat(11)).map(([p, i]) => ref(p, i));

/**
 * Non-ASCII letters that Unicode case mapping turns into ASCII ones: the Kelvin sign (U+212A,
 * lower-cased "k"), the dotted capital I (U+0130, "i̇") and the long s (U+017F, upper-cased "S").
 * An address written with them is another address than the pool's.
 */
const FOLDING_ONTO_ASCII: Record<string, string> = { k: '\u212A', i: '\u0130', s: '\u017F' };
const foldOntoAscii = (email: string) => email.replace(/[kis]/g, (c) => FOLDING_ONTO_ASCII[c]);

function plausibleString(name: string, scope: string): fc.Arbitrary<unknown> {
  const pool = idPool(name, scope);
  if (pool) return fc.oneof({ weight: 6, arbitrary: fromPool(pool) }, anyRef, fc.uuid());
  if (/email/i.test(name)) {
    return fc.oneof(
      { weight: 3, arbitrary: fromPool('email') },
      fc.emailAddress(),
      index.map((i) => new Lazy(`<EMAIL#${i} upper-cased, padded>`, (w) => ` ${String(pick(w.pools.email, i)).toUpperCase()} `)),
      index.map((i) => new Lazy(`<EMAIL#${i} with letters that fold onto k, i, s>`, (w) => foldOntoAscii(String(pick(w.pools.email, i))))),
    );
  }
  if (name === 'token') return fc.oneof({ weight: 4, arbitrary: fromPool('token') }, fc.base64String({ minLength: 40, maxLength: 50 }));
  if (/slug/i.test(name)) return fc.oneof({ weight: 3, arbitrary: fromPool('slug') }, fc.stringMatching(/^[a-z0-9]{3,10}(-[a-z0-9]{1,6})?$/), fc.constantFrom('admin', 'ab', 'a--b', 'Fuzz-Slug'));
  if (name === 'idempotencyKey') return fc.oneof(fc.uuid(), fc.constantFrom('fuzz-key-1', 'fuzz-key-2'));
  if (name === 'accessKeyId') return fc.stringMatching(/^(AKIA|ASIA)[A-Z0-9]{16}$/);
  if (name === 'secretAccessKey') return fc.stringMatching(/^[A-Za-z0-9/+]{40}$/);
  if (name === 'region') return fc.constantFrom('us-east-1', 'eu-west-3', 'ap-southeast-2', 'us-gov-west-1');
  // Mostly the partner's own <client id>.<target>.<verb>; sometimes a core-shaped one it must not write.
  if (name === 'action') return fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[a-z]{1,8}\.[a-z_]{1,8}$/).map((a) => `${FUZZ_PARTNER}.${a}`) }, fc.stringMatching(/^[a-z]{1,8}\.[a-z_]{1,8}$/));
  if (name === 'type') return fc.constantFrom('Model', 'Workspace', 'Dataset');
  if (name === 'userId') return fc.oneof(fromPool('user'), fc.uuid(), fc.string({ minLength: 1, maxLength: 20 }));
  if (name.endsWith('Id') || name.endsWith('Ids') || name === 'id') return fc.oneof({ weight: 3, arbitrary: anyRef }, fc.uuid());
  return fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), fc.constantFrom('Acme', 'Ünïcødé Ltd', '🚀 Rocket', 'Fuzz team'));
}

function plausibleInt(name: string): fc.Arbitrary<unknown> {
  if (name === 'seats') return fc.integer({ min: 0, max: 30 });
  if (name === 'credits') return fc.integer({ min: 1, max: 1000 });
  if (name === 'first') return fc.integer({ min: 0, max: 100 });
  return fc.integer({ min: -5, max: 100 });
}

interface Generators {
  types: Map<string, SchemaType>;
}

/**
 * Values for `type`: plausible ones; edgy ones that are still of the type (odd strings, Int
 * extremes, far dates, odd JSON), which reach the resolvers; and ill-typed ones (2^53 for an
 * Int, an object for a String, an unknown enum value), which GraphQL must refuse. `wild`
 * raises the share of the latter two.
 */
function valueArb(g: Generators, type: TypeRef, name: string, scope: string, wild: boolean, depth = 0): fc.Arbitrary<unknown> {
  if (type.kind === 'NON_NULL') {
    const inner = valueArb(g, type.ofType!, name, scope, wild, depth);
    return wild ? fc.oneof({ weight: 20, arbitrary: inner }, { weight: 1, arbitrary: fc.constant(null) }) : inner;
  }
  if (type.kind === 'LIST') {
    const item = valueArb(g, type.ofType!, name, scope, wild, depth);
    return fc.oneof(
      { weight: 8, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.constant([]) },
      // A single value where a list goes: GraphQL coerces it into a list of one.
      { weight: 1, arbitrary: item },
      { weight: wild ? 2 : 1, arbitrary: fc.array(item, { minLength: 11, maxLength: 40 }) },
      { weight: 1, arbitrary: item.chain((one) => fc.constant([one, one])) },
    );
  }
  const base = g.types.get(type.name!)!;
  let plausible: fc.Arbitrary<unknown>;
  let edgy: fc.Arbitrary<unknown> | undefined;
  let illTyped: fc.Arbitrary<unknown> = wrongType;
  if (base.kind === 'ENUM') {
    plausible = fc.constantFrom(...base.enumValues!.map((v) => v.name));
    illTyped = fc.oneof(fc.constantFrom('NOPE', '', 'owner', `${base.enumValues![0].name} `, '__proto__'), wrongType);
  } else if (base.kind === 'INPUT_OBJECT') {
    if (depth > 4) return fc.constant({});
    const fields = base.inputFields ?? [];
    const record = fc.record(
      Object.fromEntries(
        fields.map((f) => {
          const value = valueArb(g, f.type, f.name, base.name, wild, depth + 1);
          // Optional fields are often left out; in the wild, required ones now and then too.
          const omitted = required(f.type) ? (wild ? 15 : 0) : 2;
          return [f.name, omitted ? fc.option(value, { nil: undefined, freq: omitted }) : value];
        }),
      ),
    );
    plausible = record;
    illTyped = fc.oneof(
      wrongType,
      fc.tuple(record, fc.constantFrom({ unexpected: 1 }, JSON.parse('{"__proto__": "x"}'), { ['organizationId ']: 'x' })).map(([r, extra]) => ({ ...r, ...extra })),
    );
  } else {
    switch (base.name) {
      case 'Int':
      case 'SafeInt':
        plausible = plausibleInt(name);
        edgy = fc.oneof(fc.constantFrom(...EDGE_INTS), fc.integer());
        illTyped = fc.oneof(fc.constantFrom(...HUGE_NUMBERS), wrongType);
        break;
      case 'Float':
        plausible = fc.double({ min: -1000, max: 1000, noNaN: true });
        edgy = fc.constantFrom(...HUGE_NUMBERS, ...EDGE_INTS, -0);
        break;
      case 'Boolean':
        plausible = fc.boolean();
        illTyped = fc.oneof(fc.constantFrom('true', 0, 1, 'yes'), wrongType);
        break;
      case 'DateTime':
        plausible = fc.integer({ min: 1, max: 365 }).map((d) => new Date(Date.now() + d * day).toISOString());
        edgy = edgeDate;
        illTyped = fc.oneof(badDate, wrongType);
        break;
      case 'JSON':
        plausible = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 });
        edgy = hostileJson;
        break;
      default:
        // String, ID, EmailAddress and any other scalar: strings, by the name of the argument.
        plausible = plausibleString(name, scope);
        edgy = base.name === 'ID' ? fc.oneof({ weight: 4, arbitrary: hostileString }, fc.integer(), fc.constantFrom(...EDGE_INTS)) : hostileString;
    }
  }
  return fc.oneof(
    { weight: wild ? 3 : 10, arbitrary: plausible },
    ...(edgy ? [{ weight: wild ? 3 : 3, arbitrary: edgy }] : []),
    ...(wild ? [{ weight: 1, arbitrary: illTyped }] : []),
  );
}

// ---------------------------------------------------------------------------------------------
// Requests

/** `value` as a GraphQL literal: enum values bare where the type says so. */
function literal(g: Generators, value: unknown, type: TypeRef | undefined): string {
  const base = type && g.types.get(named(type).name!);
  if (!base || base.kind === 'SCALAR') return untypedLiteral(value);
  if (Array.isArray(value)) {
    let item: TypeRef | undefined = type;
    while (item && item.kind !== 'LIST') item = item.ofType ?? undefined;
    return `[${value.map((v) => literal(g, v, item?.ofType ?? type)).join(', ')}]`;
  }
  if (value && typeof value === 'object') {
    const fields = base.inputFields ?? [];
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${k}: ${literal(g, v, fields.find((f) => f.name === k)?.type)}`).join(', ')}}`;
  }
  if (typeof value === 'string' && base.kind === 'ENUM' && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value) && !['true', 'false', 'null'].includes(value)) return value;
  return untypedLiteral(value);
}

/** Without a type to follow (a JSON argument, an unknown field): light enough for 3,000 levels of nesting. */
function untypedLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(untypedLiteral).join(',')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}: ${untypedLiteral(v)}`).join(',')}}`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * The scalar fields of the result, and those of the objects with an id under it: what a client
 * reads back after the change (stored odd values included). Permission-gated extras such as
 * auditIntegrity are left out: their FORBIDDEN would only hide the mutation's own outcome.
 */
function selection(g: Generators, type: TypeRef, depth = 0): string {
  const base = g.types.get(named(type).name!)!;
  if (base.kind !== 'OBJECT') return '';
  const parts = ['__typename'];
  for (const f of base.fields ?? []) {
    if (f.args.length) continue;
    const inner = g.types.get(named(f.type).name!)!;
    if (inner.kind === 'SCALAR' || inner.kind === 'ENUM') parts.push(f.name);
    else if (inner.kind === 'OBJECT' && depth < 1 && inner.fields?.some((x) => x.name === 'id')) parts.push(`${f.name} ${selection(g, f.type, depth + 1)}`);
  }
  return `{ ${parts.join(' ')} }`;
}

interface Sent {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } | undefined;
  text: string;
}

async function send(query: string, variables: unknown, token: string | undefined): Promise<Sent> {
  const res = await fetch(`${serverUrl()}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: Sent['body'];
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

/** What is wrong with an answer, if anything. */
function problemsOf(res: Sent): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`HTTP ${res.status}`);
  if (!res.body || typeof res.body !== 'object' || (!('data' in res.body) && !('errors' in res.body))) problems.push(`not a GraphQL response (HTTP ${res.status})`);
  for (const error of res.body?.errors ?? []) {
    const code = error.extensions?.code;
    if (!code || !CLEAN_CODES.has(code)) problems.push(`code ${code ?? '(none)'}: ${error.message.slice(0, 300)}`);
    if (LEAK.test(error.message) || LEAK.test(JSON.stringify(error.extensions ?? {}))) problems.push(`leaks internals: ${error.message.slice(0, 300)}`);
  }
  if (res.status === 400 && (res.body?.errors ?? []).some((e) => e.extensions?.code !== 'BAD_USER_INPUT')) problems.push('HTTP 400 that is not BAD_USER_INPUT');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The fixture: a team organization with one of everything, owned by the caller

interface World {
  owner: TestUser;
  admin: TestUser;
  guest: TestUser;
  team: { id: string; slug: string };
  apiKey: { id: string; secret: string; hash: string };
  pools: Record<string, string[]>;
}

const users = new Map<string, TestUser>();
const suiteUser = (name: string) => {
  const user = newUser(name);
  users.set(user.id, user);
  return user;
};

let serviceScopes: string[] = [];
let service = '';
/** The fuzzing partner's client id: the first segment of the audit actions it may record. */
const FUZZ_PARTNER = unique('fuzz-partner');
let worlds = 0;

async function buildWorld(): Promise<World> {
  worlds++;
  const owner = suiteUser('Fuzz Owner');
  const [admin, developer, viewer, guest, requester, stranger] = ['Fuzz Admin', 'Fuzz Dev', 'Fuzz Viewer', 'Fuzz Guest', 'Fuzz Requester', 'Fuzz Stranger'].map(suiteUser);
  const team = await createOrganization(owner, 'Fuzz Team');
  const workspaces: string[] = [];
  for (const name of ['Alpha', 'Beta']) {
    workspaces.push((await ok('mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { id } }', { i: { organizationId: team.id, name } }, owner)).createWorkspace.id);
  }
  const [{ id: ownerMembership }] = await sql<{ id: string }>('SELECT id FROM memberships WHERE organization_id = $1 AND user_id = $2', [team.id, owner.id]);
  const memberships = [ownerMembership];
  memberships.push(await addMember(team.id, admin, 'ADMIN'));
  memberships.push(await addMember(team.id, developer, 'DEVELOPER', ['AUDITOR']));
  memberships.push(await addMember(team.id, viewer, 'VIEWER'));
  memberships.push(await addMember(team.id, guest, 'GUEST'));
  await sql('INSERT INTO workspace_access (organization_id, workspace_id, membership_id, role_override) VALUES ($1, $2, $3, $4)', [team.id, workspaces[0], memberships[4], 'DEVELOPER']);
  // Every other world is full: the next member takes a seat that is not there.
  if (worlds % 2 === 0) {
    await ok('mutation($i: UpdateSubscriptionInput!) { updateSubscription(input: $i) { seats } }', { i: { organizationId: team.id, plan: 'TEAM', seats: 4, idempotencyKey: unique('seats') } }, service);
  }
  const inviteeEmails = [`${unique('invitee')}@example.test`, `${unique('invitee')}@example.test`];
  const invited = (
    await ok('mutation($i: InviteMembersInput!) { inviteMembers(input: $i) { id } }', { i: { organizationId: team.id, emails: inviteeEmails, workspaceIds: [workspaces[0]] } }, owner)
  ).inviteMembers.map((i: { id: string }) => i.id);
  await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: true }) { id } }', { id: team.id }, owner);
  const request = (await ok('mutation($id: ID!) { requestToJoin(organizationId: $id, message: "let me in") { id } }', { id: team.id }, requester)).requestToJoin.id;

  // Another team that invites the owner and lets them ask to join: invitations they may accept.
  const other = await createOrganization(stranger, 'Fuzz Elsewhere');
  await ok('mutation($id: ID!) { updateOrganization(input: { id: $id, discoverable: true }) { id } }', { id: other.id }, stranger);
  const forOwner = (await ok('mutation($id: ID!, $e: String!) { inviteMembers(input: { organizationId: $id, emails: [$e], role: DEVELOPER }) { id } }', { id: other.id, e: owner.email }, stranger))
    .inviteMembers[0].id;
  const ownRequest = (await ok('mutation($id: ID!) { requestToJoin(organizationId: $id) { id } }', { id: other.id }, owner)).requestToJoin.id;

  const apiKey = await newApiKey(owner, team.id);
  const bound = (
    await ok('mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }', { i: { organizationId: team.id, workspaceId: workspaces[0], name: 'Bound', scopes: ['WORKSPACE_READ'] } }, owner)
  ).createApiKey.apiKey.id;
  const [{ id: personal, slug: personalSlug }] = await sql<{ id: string; slug: string }>('SELECT id, slug FROM organizations WHERE personal_owner_id = $1', [owner.id]);

  return {
    owner,
    admin,
    guest,
    team,
    apiKey,
    pools: {
      organization: [team.id, personal, other.id],
      workspace: workspaces,
      membership: memberships,
      invitation: [...invited, forOwner],
      joinRequest: [request, ownRequest],
      apiKey: [apiKey.id, bound],
      user: [owner.id, admin.id, guest.id, requester.id, unique('fuzz-provisioned')],
      token: [await invitationToken(forOwner), await invitationToken(invited[0])],
      slug: [team.slug, personalSlug, other.slug],
      email: [owner.email, ...inviteeEmails],
    },
  };
}

let world: World | undefined;

const FULL_KEY_SCOPES = ['ORGANIZATION_UPDATE', 'MEMBERS_READ', 'MEMBERS_INVITE', 'MEMBERS_MANAGE', 'WORKSPACES_CREATE', 'WORKSPACES_MANAGE', 'API_KEYS_MANAGE', 'BILLING_READ', 'AUDIT_READ'];

async function newApiKey(owner: TestUser, organizationId: string): Promise<World['apiKey']> {
  const created = (
    await ok('mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } secret } }', { i: { organizationId, name: 'Fuzz key', scopes: FULL_KEY_SCOPES } }, owner)
  ).createApiKey;
  const [{ secret_hash: hash }] = await sql<{ secret_hash: string }>('SELECT secret_hash FROM api_keys WHERE id = $1', [created.apiKey.id]);
  return { id: created.apiKey.id, secret: created.secret, hash };
}

/**
 * The fixture, rebuilt when a run took it away (the team deleted or handed over); a key that
 * was revoked or rotated is replaced.
 */
async function currentWorld(): Promise<World> {
  if (world) {
    const [state] = await sql<{ role: string | null; key: boolean | null }>(
      `SELECT (SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2) AS role,
              (SELECT revoked_at IS NULL AND secret_hash = $4 FROM api_keys WHERE id = $3) AS key`,
      [world.team.id, world.owner.id, world.apiKey.id, world.apiKey.hash],
    );
    if (state.role === 'OWNER' && state.key === true) return world;
    if (state.role === 'OWNER') {
      world.apiKey = await newApiKey(world.owner, world.team.id);
      world.pools.apiKey[0] = world.apiKey.id;
      return world;
    }
  }
  world = await buildWorld();
  return world;
}

/** Before each mutation's runs: a fresh fixture if earlier runs used up its workspaces, members, invitations or join requests. */
async function freshWorld(): Promise<void> {
  if (!world) return;
  const { pools } = world;
  const [state] = await sql<{ worn: boolean }>(
    `SELECT (SELECT count(*) FROM workspaces WHERE id = ANY($1::uuid[])) < cardinality($1::uuid[])
         OR (SELECT count(*) FROM memberships WHERE id = ANY($2::uuid[])) < cardinality($2::uuid[])
         OR NOT EXISTS (SELECT 1 FROM invitations WHERE id = ANY($3::uuid[]) AND status = 'PENDING')
         OR NOT EXISTS (SELECT 1 FROM join_requests WHERE id = ANY($4::uuid[]) AND status = 'PENDING') AS worn`,
    [pools.workspace, pools.membership, pools.invitation, pools.joinRequest],
  );
  if (state.worn) world = undefined;
}

type Auth = 'owner' | 'admin' | 'guest' | 'apiKey' | 'service';
const tokenOf = (auth: Auth, w: World) =>
  ({ owner: w.owner.token, admin: w.admin.token, guest: w.guest.token, apiKey: w.apiKey.secret, service })[auth];

// ---------------------------------------------------------------------------------------------
// Invariants

const PLAN_MEMBER_LIMIT: Record<string, number | 'seats'> = { STARTER: 1, PRO: 'seats', TEAM: 'seats', BUSINESS: 'seats', ENTERPRISE: 'seats' };

/** Active (non-GUEST) members and the member limit of every organization a suite user belongs to. */
async function seatsOfSuite(): Promise<Map<string, { active: number; limit: number }>> {
  const rows = await sql<{ organization_id: string; plan: string; seats: number; active: number }>(
    `SELECT s.organization_id, s.plan, s.seats,
            (SELECT count(*)::int FROM memberships m WHERE m.organization_id = s.organization_id AND m.role <> 'GUEST') AS active
     FROM subscriptions s
     WHERE s.organization_id IN (SELECT organization_id FROM memberships WHERE user_id = ANY($1))`,
    [[...users.keys()]],
  );
  return new Map(rows.map((r) => [r.organization_id, { active: r.active, limit: PLAN_MEMBER_LIMIT[r.plan] === 'seats' ? r.seats : (PLAN_MEMBER_LIMIT[r.plan] as number) }]));
}

/** A call that added an active member past the limit. Fewer seats than members is allowed (lowered later): only growth past it is not. */
function seatViolations(before: Map<string, { active: number; limit: number }>, after: Map<string, { active: number; limit: number }>): string[] {
  const violations: string[] = [];
  for (const [organization, now] of after) {
    const was = before.get(organization)?.active ?? 0;
    if (now.active > now.limit && now.active > was) violations.push(`organization ${organization}: ${now.active} active members for ${now.limit} seats (was ${was})`);
  }
  return violations;
}

const ORPHANS: [string, string, string][] = [
  ['memberships', 'organization_id', 'organizations'],
  ['memberships', 'user_id', 'users'],
  ['workspaces', 'organization_id', 'organizations'],
  ['workspace_access', 'organization_id', 'organizations'],
  ['workspace_access', 'workspace_id', 'workspaces'],
  ['workspace_access', 'membership_id', 'memberships'],
  ['api_keys', 'organization_id', 'organizations'],
  ['api_keys', 'workspace_id', 'workspaces'],
  ['invitations', 'organization_id', 'organizations'],
  ['join_requests', 'organization_id', 'organizations'],
  ['join_requests', 'user_id', 'users'],
  ['subscriptions', 'organization_id', 'organizations'],
  ['usage_periods', 'organization_id', 'organizations'],
  ['byok_credentials', 'organization_id', 'organizations'],
  ['users', 'active_organization_id', 'organizations'],
];

/** The database invariants: global where they must hold globally, on the suite's own data where other test files may be mid-way. */
async function invariantViolations(): Promise<string[]> {
  const violations: string[] = [];
  const check = async (label: string, text: string, params: unknown[] = []) => {
    const rows = await sql(text, params);
    if (rows.length) violations.push(`${label}: ${JSON.stringify(rows.slice(0, 5))}`);
  };
  await check('organization without an OWNER', `SELECT o.id, o.kind FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = o.id AND m.role = 'OWNER')`);
  await check(
    'personal organization that is not exactly its owner',
    `SELECT o.id FROM organizations o WHERE o.kind = 'PERSONAL' AND (
       (SELECT count(*) FROM memberships m WHERE m.organization_id = o.id) <> 1
       OR NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = o.id AND m.user_id = o.personal_owner_id AND m.role = 'OWNER'))`,
  );
  // Other files' users may be between their first request's two steps; the suite's are settled.
  await check(
    'user without exactly one personal organization',
    `SELECT u.id, count(o.id)::int AS personal FROM users u LEFT JOIN organizations o ON o.personal_owner_id = u.id
     WHERE u.created_at < now() - interval '30 seconds' OR u.id = ANY($1) GROUP BY u.id HAVING count(o.id) <> 1`,
    [[...users.keys()]],
  );
  await check('organization without a subscription', `SELECT o.id FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.organization_id = o.id)`);
  for (const [table, column, target] of ORPHANS) {
    await check(`${table}.${column} pointing nowhere`, `SELECT t.${column} FROM ${table} t WHERE t.${column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${target} r WHERE r.id = t.${column})`);
  }
  await check(
    'workspace access across organizations',
    `SELECT a.id FROM workspace_access a JOIN workspaces w ON w.id = a.workspace_id JOIN memberships m ON m.id = a.membership_id
     WHERE w.organization_id <> a.organization_id OR m.organization_id <> a.organization_id`,
  );
  await check('API key bound to another organization\'s workspace', `SELECT k.id FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE w.organization_id <> k.organization_id`);
  await check(
    'invitation naming another organization\'s workspace',
    `SELECT i.id FROM invitations i JOIN workspaces w ON w.id = ANY(i.workspace_ids) WHERE w.organization_id <> i.organization_id`,
  );
  await check('GUEST holding assignments', `SELECT id FROM memberships WHERE role = 'GUEST' AND cardinality(assignments) > 0`);
  // Whatever path changed the role or the access, a member holds only what setWorkspaceAccess would give it.
  await check(
    'GUEST holding a workspace role above DEVELOPER (suite organizations)',
    `SELECT a.id FROM workspace_access a JOIN memberships m ON m.id = a.membership_id WHERE m.role = 'GUEST' AND a.role_override = 'ADMIN'
       AND a.organization_id IN (SELECT organization_id FROM memberships WHERE user_id = ANY($1))`,
    [[...users.keys()]],
  );
  await check(
    'audit chain with a gap or a head out of step (suite organizations)',
    `SELECT h.organization_id, h.seq, max(e.seq) AS last, count(e.*) AS events FROM audit_chain_heads h JOIN audit_events e ON e.organization_id = h.organization_id
     WHERE h.organization_id IN (SELECT organization_id FROM memberships WHERE user_id = ANY($1))
     GROUP BY h.organization_id, h.seq, h.anchor_seq HAVING h.seq <> max(e.seq) OR count(e.*) <> max(e.seq) - h.anchor_seq`,
    [[...users.keys()]],
  );
  return violations;
}

// ---------------------------------------------------------------------------------------------

describe('fuzzing every mutation\'s input', () => {
  let g: Generators;
  let mutations: Field[];
  let partnerOnly: Set<string>;

  beforeAll(async () => {
    const anyone = suiteUser('Fuzz Introspector');
    const data = await ok(INTROSPECTION, {}, anyone);
    g = { types: new Map(data.__schema.types.map((t: SchemaType) => [t.name, t])) };
    mutations = data.__schema.mutationType.fields.filter((f: Field) => !ONLY || ONLY.includes(f.name));
    // The federation SDL says which mutations are for partner services, and with what scopes.
    partnerOnly = new Set();
    const scopes = new Set<string>();
    visit(parse(data._service.sdl), {
      FieldDefinition(node) {
        const directive = node.directives?.find((d) => d.name.value === 'requiresScopes');
        if (!directive) return;
        partnerOnly.add(node.name.value);
        visit(directive, { StringValue: (s) => void scopes.add(s.value) });
      },
    });
    serviceScopes = [...scopes];
    service = serviceToken(FUZZ_PARTNER, serviceScopes.join(' '));
  });

  it(`never answers 500, INTERNAL_SERVER_ERROR or SQL, and keeps the invariants (seed ${SEED}, ${RUNS} runs per mutation)`, async () => {
    if (!ONLY) expect(mutations.length).toBeGreaterThanOrEqual(29);
    expect(serviceScopes.length).toBeGreaterThanOrEqual(4);
    const failures: string[] = [];
    let calls = 0;
    const started = Date.now();
    /** Per mutation, how its calls ended: a code, or "data". */
    const outcomes: Record<string, Record<string, number>> = {};
    let seats: Map<string, { active: number; limit: number }> | undefined;
    let seatsOf: World | undefined;
    for (const mutation of mutations) {
      const args = (wild: boolean) =>
        fc.record(
          Object.fromEntries(
            mutation.args.map((a) => {
              const value = valueArb(g, a.type, a.name, mutation.name, wild);
              return [a.name, required(a.type) ? value : fc.option(value, { nil: undefined, freq: 2 })];
            }),
          ),
        );
      const partner = partnerOnly.has(mutation.name);
      const auth = fc.oneof(
        { weight: partner ? 1 : 12, arbitrary: fc.constant<Auth>('owner') },
        { weight: 1, arbitrary: fc.constant<Auth>('admin') },
        { weight: 1, arbitrary: fc.constant<Auth>('guest') },
        { weight: partner ? 1 : 3, arbitrary: fc.constant<Auth>('apiKey') },
        { weight: partner ? 12 : 1, arbitrary: fc.constant<Auth>('service') },
      );
      const request = fc.record({
        args: fc.oneof({ weight: 3, arbitrary: args(false) }, { weight: 2, arbitrary: args(true) }),
        inline: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        auth,
      });
      const select = selection(g, mutation.type);
      await freshWorld();
      try {
        await fc.assert(
          fc.asyncProperty(request, async ({ args: generated, inline, auth: who }) => {
            const w = await currentWorld();
            const values = resolve(generated, w) as Record<string, unknown>;
            const given = mutation.args.filter((a) => values[a.name] !== undefined);
            const call = inline
              ? `${mutation.name}${given.length ? `(${given.map((a) => `${a.name}: ${literal(g, values[a.name], a.type)}`).join(', ')})` : ''}`
              : `${mutation.name}${given.length ? `(${given.map((a) => `${a.name}: $${a.name}`).join(', ')})` : ''}`;
            const header = inline || !given.length ? 'mutation' : `mutation(${given.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ')})`;
            const query = `${header} { ${call} ${select} }`;
            // Only the suite's own calls change its organizations: the last call's after is this one's before.
            const before = seats && seatsOf === w ? seats : await seatsOfSuite();
            const res = await send(query, inline ? {} : values, tokenOf(who, w));
            calls++;
            const outcome = res.body?.errors?.find((e: any) => !e.path || e.path.length === 1)?.extensions?.code ?? (res.body?.data ? 'data' : `HTTP ${res.status}`);
            (outcomes[mutation.name] ??= {})[outcome] = (outcomes[mutation.name]?.[outcome] ?? 0) + 1;
            if (process.env.FUZZ_VERBOSE === '2') console.log(who, inline, query.slice(0, 300), JSON.stringify(values).slice(0, 300), res.text.slice(0, 300));
            seats = await seatsOfSuite();
            seatsOf = w;
            const problems = [...problemsOf(res), ...seatViolations(before, seats)];
            if (problems.length) {
              throw new Error(`${mutation.name} as ${who}${inline ? ' (inline)' : ''}: ${problems.join('; ')}\n  query: ${query.slice(0, 500)}\n  answer: ${res.text.slice(0, 500)}`);
            }
          }),
          // Calls change the database, so a shrunk replay is not the same experiment: report the first failure as found.
          { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
        );
      } catch (error) {
        failures.push(`${mutation.name}: ${(error as Error).message}`);
      }
      for (const violation of await invariantViolations()) failures.push(`after fuzzing ${mutation.name}: ${violation}`);
      if (failures.length > 20) break;
    }

    // The audit chains of every organization a suite user owns verify from end to end (25 to a request).
    const owned = await sql<{ organization_id: string; user_id: string }>(
      `SELECT DISTINCT ON (organization_id) organization_id, user_id FROM memberships WHERE role = 'OWNER' AND user_id = ANY($1) ORDER BY organization_id, user_id`,
      [[...users.keys()]],
    );
    const byOwner = new Map<string, string[]>();
    for (const { organization_id: id, user_id: userId } of owned) byOwner.set(userId, [...(byOwner.get(userId) ?? []), id]);
    for (const [userId, ids] of byOwner) {
      for (let i = 0; i < ids.length; i += 25) {
        const chunk = ids.slice(i, i + 25);
        const query = `{ ${chunk.map((id, n) => `o${n}: organization(id: "${id}") { id auditIntegrity { verified eventsChecked firstBrokenEventId } }`).join(' ')} }`;
        const res = await send(query, {}, users.get(userId)!.token);
        chunk.forEach((id, n) => {
          if (!(res.body?.data as any)?.[`o${n}`]?.auditIntegrity?.verified) failures.push(`audit chain of ${id}: ${res.text.slice(0, 300)}`);
        });
      }
    }
    if (process.env.FUZZ_VERBOSE) console.log(Object.entries(outcomes).map(([name, counts]) => `${name}: ${JSON.stringify(counts)}`).join('\n'));
    console.log(`[fuzz] ${mutations.length} mutations, ${calls} calls, ${worlds} fixtures, ${owned.length} audit chains verified in ${Date.now() - started} ms (seed ${SEED})`);
    expect(failures).toEqual([]);
  }, 240_000);
});
