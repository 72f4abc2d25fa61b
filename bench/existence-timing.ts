/**
 * Existence timing: does another tenant's real id answer differently from a made-up id of the
 * same shape, in time or in SQL statements?
 *
 *   npx ts-node --transpile-only bench/existence-timing.ts [--samples 300] [--warmup 50] [--only organizationBySlug,workspace] [--memberships 1000]
 *
 * Starts PostgreSQL (embedded, or on DATABASE_URL's server) with a fresh database and the
 * subgraph on it as the tests do, builds a victim organization with one of everything and two
 * attackers elsewhere (a user owning another organization, that organization's API key with
 * every scope), then for each operation that takes an id sends the attacker's request with the
 * victim's real id and with a fresh made-up one (a random UUIDv7, a random slug), interleaved,
 * after a warm-up. Prints per operation: medians and p90 in ms, the Mann-Whitney z of real
 * against made-up (|z| > 3: a difference that holds), the SQL statements of each path
 * (X-SQL-Statements) and whether both gave the same answer (error, or data but for the id).
 * --memberships N makes the attacking user a member of N more organizations (written straight
 * into the database): the tenant wall reads the asker's organizations, so this shows how the
 * database's own part of the difference grows with a count the attacker controls.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { startServer, TEST_JWT_SECRET } from '../test/support/servers';
import { freshDatabase } from './database';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const SAMPLES = Number(arg('samples', '300'));
const WARMUP = Number(arg('warmup', '50'));
const ONLY = arg('only', '').split(',').filter(Boolean);
const MEMBERSHIPS = Number(arg('memberships', '0'));

function token(claims: Record<string, unknown>): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iat: now, exp: now + 86_400, ...claims })}`;
  return `${body}.${createHmac('sha256', TEST_JWT_SECRET).update(body).digest('base64url')}`;
}
const user = (name: string) => {
  const id = `user-${name}-${randomBytes(4).toString('hex')}`;
  return { id, token: token({ sub: id, email: `${id}@example.test`, email_verified: true, name }) };
};

interface Answer {
  ms: number;
  statements: number;
  error: string;
  data: unknown;
  /** The error, or the data with the ids asked about left out: what should not depend on the id. */
  shape?: string;
}

async function send(url: string, query: string, variables: Record<string, unknown>, bearer: string): Promise<Answer> {
  const started = process.hrtime.bigint();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const error = (body.errors ?? []).map((e) => `${e.extensions?.code}: ${e.message}`).join(' | ');
  return { ms, statements: Number(res.headers.get('x-sql-statements')), error, data: body.data };
}

async function must(url: string, query: string, variables: Record<string, unknown>, bearer: string): Promise<any> {
  const answer = await send(url, query, variables, bearer);
  if (answer.error) throw new Error(`${query}: ${answer.error}`);
  return answer.data;
}

/** The ids an operation is asked with: the victim's, or made-up ones of the same shape. */
interface Ids {
  organization: string;
  slug: string;
  workspace: string;
  membership: string;
  invitation: string;
  apiKey: string;
  joinRequest: string;
  user: string;
}

interface Operation {
  name: string;
  query: string;
  variables: (ids: Ids, own: { organization: string; membership: string }) => Record<string, unknown>;
}

const entities = (typename: string, key: (ids: Ids) => Record<string, string>, selection = 'id'): Operation => ({
  name: `_entities ${typename} ${Object.keys(key({} as Ids)).join(',')}`,
  query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${typename} { ${selection} } } }`,
  variables: (ids) => ({ r: [{ __typename: typename, ...key(ids) }] }),
});

/** Every operation taking an id, with the victim's object where an id goes; some with the attacker's own organization beside it. */
const OPERATIONS: Operation[] = [
  { name: 'organization(id)', query: 'query($id: ID!) { organization(id: $id) { id } }', variables: (i) => ({ id: i.organization }) },
  { name: 'organizationBySlug', query: 'query($s: String!) { organizationBySlug(slug: $s) { id } }', variables: (i) => ({ s: i.slug }) },
  { name: 'workspace(id)', query: 'query($id: ID!) { workspace(id: $id) { id } }', variables: (i) => ({ id: i.workspace }) },
  entities('Organization', (i) => ({ id: i.organization })),
  entities('Organization', (i) => ({ slug: i.slug })),
  entities('Workspace', (i) => ({ id: i.workspace })),
  entities('Membership', (i) => ({ id: i.membership })),
  entities('Invitation', (i) => ({ id: i.invitation })),
  entities('User', (i) => ({ id: i.user }), 'id memberships { nodes { id } }'),
  { name: 'updateOrganization', query: 'mutation($id: ID!) { updateOrganization(input: { id: $id, name: "X" }) { id } }', variables: (i) => ({ id: i.organization }) },
  { name: 'deleteOrganization', query: 'mutation($id: ID!) { deleteOrganization(id: $id, confirmSlug: "x") }', variables: (i) => ({ id: i.organization }) },
  { name: 'switchOrganization', query: 'mutation($id: ID!) { switchOrganization(organizationId: $id) { id } }', variables: (i) => ({ id: i.organization }) },
  { name: 'leaveOrganization', query: 'mutation($id: ID!) { leaveOrganization(organizationId: $id) }', variables: (i) => ({ id: i.organization }) },
  { name: 'transferOwnership', query: 'mutation($o: ID!, $m: ID!) { transferOwnership(organizationId: $o, membershipId: $m) { id } }', variables: (i) => ({ o: i.organization, m: i.membership }) },
  { name: 'transferOwnership (own org)', query: 'mutation($o: ID!, $m: ID!) { transferOwnership(organizationId: $o, membershipId: $m) { id } }', variables: (i, own) => ({ o: own.organization, m: i.membership }) },
  { name: 'updateMembership', query: 'mutation($m: ID!) { updateMembership(input: { membershipId: $m, role: ADMIN }) { id } }', variables: (i) => ({ m: i.membership }) },
  { name: 'removeMember', query: 'mutation($m: ID!) { removeMember(membershipId: $m) }', variables: (i) => ({ m: i.membership }) },
  { name: 'setWorkspaceAccess', query: 'mutation($m: ID!, $w: ID!) { setWorkspaceAccess(input: { membershipId: $m, workspaces: [{ workspaceId: $w }] }) { id } }', variables: (i) => ({ m: i.membership, w: i.workspace }) },
  { name: 'setWorkspaceAccess (own member)', query: 'mutation($m: ID!, $w: ID!) { setWorkspaceAccess(input: { membershipId: $m, workspaces: [{ workspaceId: $w }] }) { id } }', variables: (i, own) => ({ m: own.membership, w: i.workspace }) },
  { name: 'createWorkspace', query: 'mutation($o: ID!) { createWorkspace(input: { organizationId: $o, name: "X" }) { id } }', variables: (i) => ({ o: i.organization }) },
  { name: 'updateWorkspace', query: 'mutation($id: ID!) { updateWorkspace(input: { id: $id, name: "X" }) { id } }', variables: (i) => ({ id: i.workspace }) },
  { name: 'deleteWorkspace', query: 'mutation($id: ID!) { deleteWorkspace(id: $id) }', variables: (i) => ({ id: i.workspace }) },
  { name: 'createApiKey', query: 'mutation($o: ID!) { createApiKey(input: { organizationId: $o, name: "X", scopes: [MEMBERS_READ] }) { secret } }', variables: (i) => ({ o: i.organization }) },
  { name: 'createApiKey (own org)', query: 'mutation($o: ID!, $w: ID!) { createApiKey(input: { organizationId: $o, workspaceId: $w, name: "X", scopes: [MEMBERS_READ] }) { secret } }', variables: (i, own) => ({ o: own.organization, w: i.workspace }) },
  { name: 'rotateApiKey', query: 'mutation($id: ID!) { rotateApiKey(id: $id) { secret } }', variables: (i) => ({ id: i.apiKey }) },
  { name: 'revokeApiKey', query: 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', variables: (i) => ({ id: i.apiKey }) },
  { name: 'setByokCredentials', query: 'mutation($o: ID!) { setByokCredentials(input: { organizationId: $o, provider: AWS, accessKeyId: "A", secretAccessKey: "B", region: "eu-west-1" }) { provider } }', variables: (i) => ({ o: i.organization }) },
  { name: 'clearByokCredentials', query: 'mutation($o: ID!) { clearByokCredentials(organizationId: $o) }', variables: (i) => ({ o: i.organization }) },
  { name: 'inviteMembers', query: 'mutation($o: ID!) { inviteMembers(input: { organizationId: $o, emails: ["x@example.test"] }) { id } }', variables: (i) => ({ o: i.organization }) },
  { name: 'inviteMembers (own org)', query: 'mutation($o: ID!, $w: ID!) { inviteMembers(input: { organizationId: $o, emails: ["x@example.test"], workspaceIds: [$w] }) { id } }', variables: (i, own) => ({ o: own.organization, w: i.workspace }) },
  { name: 'resendInvitation', query: 'mutation($id: ID!) { resendInvitation(id: $id) { id } }', variables: (i) => ({ id: i.invitation }) },
  { name: 'cancelInvitation', query: 'mutation($id: ID!) { cancelInvitation(id: $id) { id } }', variables: (i) => ({ id: i.invitation }) },
  { name: 'acceptInvitation', query: 'mutation($id: ID!) { acceptInvitation(id: $id) { id } }', variables: (i) => ({ id: i.invitation }) },
  { name: 'declineInvitation', query: 'mutation($id: ID!) { declineInvitation(id: $id) { id } }', variables: (i) => ({ id: i.invitation }) },
  { name: 'requestToJoin', query: 'mutation($o: ID!) { requestToJoin(organizationId: $o) { id } }', variables: (i) => ({ o: i.organization }) },
  { name: 'approveJoinRequest', query: 'mutation($id: ID!) { approveJoinRequest(id: $id) { id } }', variables: (i) => ({ id: i.joinRequest }) },
  { name: 'denyJoinRequest', query: 'mutation($id: ID!) { denyJoinRequest(id: $id) { id } }', variables: (i) => ({ id: i.joinRequest }) },
  { name: 'cancelJoinRequest', query: 'mutation($id: ID!) { cancelJoinRequest(id: $id) { id } }', variables: (i) => ({ id: i.joinRequest }) },
];

/** A made-up id of each kind, shaped as the victim's. */
function madeUp(victim: Ids): Ids {
  const letters = () => randomBytes(victim.slug.length).toString('hex').replace(/[0-9]/g, (d) => 'ghijklmnop'[Number(d)]).slice(0, victim.slug.length);
  const fresh = () => uuidv7();
  return {
    organization: fresh(),
    slug: letters(),
    workspace: fresh(),
    membership: fresh(),
    invitation: fresh(),
    apiKey: fresh(),
    joinRequest: fresh(),
    user: `user-Victim-${randomBytes(4).toString('hex')}`,
  };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Mann-Whitney U of `a` against `b`, as z (normal approximation, mid-ranks for ties, tie-corrected). */
function mannWhitneyZ(a: number[], b: number[]): number {
  const all = [...a.map((v) => ({ v, a: true })), ...b.map((v) => ({ v, a: false }))].sort((x, y) => x.v - y.v);
  let rankA = 0;
  let ties = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].v === all[i].v) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) if (all[k].a) rankA += rank;
    const t = j - i + 1;
    ties += t ** 3 - t;
    i = j + 1;
  }
  const [n1, n2] = [a.length, b.length];
  const n = n1 + n2;
  const u = rankA - (n1 * (n1 + 1)) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1))));
  return sigma ? (u - (n1 * n2) / 2) / sigma : 0;
}

const statementsOf = (answers: Answer[]) => [...new Set(answers.map((a) => a.statements))].sort((x, y) => x - y).join('/');

async function main(): Promise<void> {
  const database = await freshDatabase('orgs_timing');
  const server = await startServer({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
  const url = `${server.url}/graphql`;
  try {
    // The victim: an organization with one of everything.
    const owner = user('Victim');
    const org = (await must(url, 'mutation { createOrganization(input: { name: "Victim Corp" }) { id slug } }', {}, owner.token)).createOrganization;
    const workspace = (await must(url, 'mutation($o: ID!) { createWorkspace(input: { organizationId: $o, name: "Victim WS" }) { id } }', { o: org.id }, owner.token)).createWorkspace.id;
    const member = user('Member');
    await must(url, '{ viewer { id } }', {}, member.token);
    const db = new Client({ connectionString: database.url });
    await db.connect();
    const [{ id: membership }] = (await db.query(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'VIEWER') RETURNING id`, [org.id, member.id])).rows;
    const invitation = (await must(url, 'mutation($o: ID!) { inviteMembers(input: { organizationId: $o, emails: ["invitee@example.test"] }) { id } }', { o: org.id }, owner.token)).inviteMembers[0].id;
    const apiKey = (await must(url, 'mutation($o: ID!) { createApiKey(input: { organizationId: $o, name: "K", scopes: [MEMBERS_READ] }) { apiKey { id } } }', { o: org.id }, owner.token)).createApiKey.apiKey.id;
    await must(url, 'mutation($o: ID!) { updateOrganization(input: { id: $o, discoverable: true }) { id } }', { o: org.id }, owner.token);
    const joinRequest = (await must(url, 'mutation($o: ID!) { requestToJoin(organizationId: $o) { id } }', { o: org.id }, user('Requester').token)).requestToJoin.id;
    await must(url, 'mutation($o: ID!) { updateOrganization(input: { id: $o, discoverable: false }) { id } }', { o: org.id }, owner.token);
    const victim: Ids = { organization: org.id, slug: org.slug, workspace, membership, invitation, apiKey, joinRequest, user: owner.id };

    // The attackers: a user owning another organization (with a second member), and that organization's API key.
    const attacker = user('Attacker');
    const theirs = (await must(url, 'mutation { createOrganization(input: { name: "Attackers" }) { id } }', {}, attacker.token)).createOrganization;
    const ownMembership = (await must(url, 'query($o: ID!) { organization(id: $o) { members(first: 1) { nodes { id } } } }', { o: theirs.id }, attacker.token)).organization.members.nodes[0].id;
    const allScopes = (await must(url, '{ __type(name: "Permission") { enumValues { name } } }', {}, attacker.token)).__type.enumValues.map((v: { name: string }) => v.name);
    const key = (await must(url, 'mutation($o: ID!, $s: [Permission!]!) { createApiKey(input: { organizationId: $o, name: "A", scopes: $s }) { secret } }', { o: theirs.id, s: allScopes }, attacker.token)).createApiKey.secret;
    const own = { organization: theirs.id, membership: ownMembership };
    if (MEMBERSHIPS) {
      await db.query(`INSERT INTO organizations (slug, kind, name) SELECT 'many-' || g, 'TEAM', 'Many ' || g FROM generate_series(1, $1) g`, [MEMBERSHIPS]);
      await db.query(`INSERT INTO memberships (organization_id, user_id, role) SELECT id, $1, 'OWNER' FROM organizations WHERE slug LIKE 'many-%'`, [attacker.id]);
      await db.query('ANALYZE');
    }
    await db.end();

    console.log(`${SAMPLES} samples per path after ${WARMUP} warm-up pairs, interleaved; the user attacker in ${MEMBERSHIPS + 1} organization(s); ms; z = Mann-Whitney of real against made-up (|z| > 3 holds)`);
    console.log(['asker', 'operation', 'real p50', 'made-up p50', 'Δ p50', 'real p90', 'made-up p90', 'z', 'SQL real', 'SQL made-up', 'same answer'].join(' | '));
    for (const [asker, bearer] of [['user', attacker.token], ['apiKey', key]] as const) {
      for (const op of OPERATIONS.filter((o) => !ONLY.length || ONLY.some((name) => o.name.startsWith(name)))) {
        const real: Answer[] = [];
        const fake: Answer[] = [];
        for (let i = 0; i < WARMUP + SAMPLES; i++) {
          // Alternate which goes first, so neither path always follows the other.
          const pair = i % 2 === 0 ? ['real', 'fake'] : ['fake', 'real'];
          for (const which of pair) {
            const ids = which === 'real' ? victim : madeUp(victim);
            const answer = await send(url, op.query, op.variables(ids, own), bearer);
            answer.shape = answer.error || Object.values(ids).reduce((text, id) => text.replaceAll(id, '<id>'), JSON.stringify(answer.data));
            if (i >= WARMUP) (which === 'real' ? real : fake).push(answer);
          }
        }
        const r = real.map((a) => a.ms).sort((x, y) => x - y);
        const f = fake.map((a) => a.ms).sort((x, y) => x - y);
        const sameAnswer = real[0].shape === fake[0].shape ? 'yes' : `NO: ${real[0].shape} ≠ ${fake[0].shape}`;
        const row = [
          asker,
          op.name,
          quantile(r, 0.5).toFixed(2),
          quantile(f, 0.5).toFixed(2),
          (quantile(r, 0.5) - quantile(f, 0.5)).toFixed(2),
          quantile(r, 0.9).toFixed(2),
          quantile(f, 0.9).toFixed(2),
          mannWhitneyZ(r, f).toFixed(1),
          statementsOf(real),
          statementsOf(fake),
          sameAnswer,
        ].join(' | ');
        console.log(row);
      }
    }
  } finally {
    await server.stop();
    await database.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
