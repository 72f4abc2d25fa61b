import http from 'node:http';
import { checkSandboxCreation, type Decision } from './partner-offline-check';

/**
 * A partner service (a sandbox platform) that enforces `sandboxes:create` for a workspace, both
 * ways the organizations service offers:
 *
 * - online, through `authorize` (a service token with the `authz:check` scope): the answer of
 *   this very moment — a role taken away a second ago is already refused;
 *
 *     POST /organizations/<organization id>/workspaces/<workspace id>/sandboxes
 *     X-User-Id: <user id>          (or X-Api-Key-Id: <API key id>)
 *
 *   Who is asking is this service's own business: here the caller names itself in a header, as
 *   a gateway in front of it would after signing the user in; in production take it from your
 *   session. One call answers a whole page of checks (up to 100): see `mayCreateSandboxes`.
 *
 * - offline, through an organization token (examples/partner-offline-check.ts): no call at all,
 *   only the service's public keys; the token's `ws_permissions` must hold the permission.
 *
 *     POST /workspaces/<workspace id>/sandboxes
 *     Authorization: Bearer <organization token for that workspace>
 *
 *   ORGANIZATIONS_URL=http://localhost:4001 AUTHZ_SERVICE_TOKEN=<JWT with scope authz:check> npm run partner:authorize
 */

const ORGANIZATIONS_URL = process.env.ORGANIZATIONS_URL ?? 'http://localhost:4001';
/** A service token of your accounts issuer: `sub` your client id, `scope` including authz:check, no `email`. */
const SERVICE_TOKEN = process.env.AUTHZ_SERVICE_TOKEN ?? '';
const PERMISSION = process.env.REQUIRED_PERMISSION ?? 'sandboxes:create';

interface Check {
  organizationId: string;
  workspaceId: string;
  userId?: string;
  apiKeyId?: string;
}

/** One `authorize` call for any number of checks (up to 100), answered in their order. */
async function mayCreateSandboxes(checks: Check[]): Promise<{ allowed: boolean; reason: string }[]> {
  const res = await fetch(new URL('/graphql', ORGANIZATIONS_URL), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_TOKEN}` },
    body: JSON.stringify({
      query: 'query Authorize($checks: [AuthorizationCheckInput!]!) { authorize(checks: $checks) { allowed reason } }',
      variables: { checks: checks.map((check) => ({ ...check, permission: PERMISSION })) },
    }),
  });
  const body = (await res.json()) as { data?: { authorize: { allowed: boolean; reason: string }[] }; errors?: { message: string }[] };
  if (!body.data) throw new Error(`authorize failed: ${body.errors?.map((e) => e.message).join('; ') ?? res.status}`);
  return body.data.authorize;
}

async function checkOnline(organizationId: string, workspaceId: string, headers: http.IncomingHttpHeaders): Promise<Decision> {
  const userId = headers['x-user-id'];
  const apiKeyId = headers['x-api-key-id'];
  if (typeof userId !== 'string' && typeof apiKeyId !== 'string') return { status: 401, body: { error: 'X-User-Id or X-Api-Key-Id is required' } };
  const [decision] = await mayCreateSandboxes([{ organizationId, workspaceId, ...(typeof userId === 'string' ? { userId } : { apiKeyId: apiKeyId as string }) }]);
  // `reason` is machine-readable: NOT_A_MEMBER, NO_WORKSPACE_ACCESS, MISSING_PERMISSION, KEY_REVOKED…
  if (!decision.allowed) return { status: 403, body: { error: `${PERMISSION} is needed in this workspace`, reason: decision.reason } };
  return { status: 201, body: { created: true, organizationId, workspaceId, checkedBy: 'authorize' } };
}

const server = http.createServer((req, res) => {
  const answer = (decision: Decision) => res.writeHead(decision.status, { 'content-type': 'application/json' }).end(JSON.stringify(decision.body));
  const fail = (error: unknown) => res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) }));
  const online = /^\/organizations\/([^/]+)\/workspaces\/([^/]+)\/sandboxes$/.exec(req.url ?? '');
  const offline = /^\/workspaces\/([^/]+)\/sandboxes$/.exec(req.url ?? '');
  if (req.method === 'POST' && online) {
    checkOnline(decodeURIComponent(online[1]), decodeURIComponent(online[2]), req.headers).then(answer, fail);
  } else if (req.method === 'POST' && offline) {
    checkSandboxCreation(req.headers.authorization, decodeURIComponent(offline[1])).then(answer, fail);
  } else {
    answer({ status: 404, body: { error: 'POST /organizations/<id>/workspaces/<id>/sandboxes or POST /workspaces/<id>/sandboxes' } });
  }
});

server.listen(Number(process.env.PARTNER_PORT ?? 4004), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`partner service ready at http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
