import http from 'node:http';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

/**
 * A partner service that checks organization tokens offline: no call to the organizations
 * service per request, only its public keys (GET /.well-known/jwks.json), fetched and cached by
 * jose. It serves one action, `POST /workspaces/<id>/sandboxes`, allowed when the caller's token
 * is valid, names that workspace and carries REQUIRED_PERMISSION there.
 *
 *   ORGANIZATIONS_URL=http://localhost:4001 npm run partner     # listens on PARTNER_PORT (4003)
 *   TOKEN=$(… issueOrganizationToken(organizationId: "…", workspaceId: "…") { token } …)
 *   curl -X POST -H "Authorization: Bearer $TOKEN" http://localhost:4003/workspaces/<workspace id>/sandboxes
 *
 * A token is a snapshot of its holder's permissions, valid until `exp` (5 minutes by default):
 * a check that must see a revocation at once asks the service (`authorize`) instead.
 */

const ORGANIZATIONS_URL = process.env.ORGANIZATIONS_URL ?? 'http://localhost:4001';
/** The organizations service's ORGANIZATION_TOKEN_ISSUER (its PUBLIC_URL unless set). */
const ISSUER = process.env.ORGANIZATION_TOKEN_ISSUER ?? 'http://localhost:3000';
/** A permission key: the catalog's `sandboxes:create` (catalog/example.yaml), or any built-in name. */
const REQUIRED_PERMISSION = process.env.REQUIRED_PERMISSION ?? 'sandboxes:create';
/**
 * How long jose keeps the key set. It must stay under the time a new key is published before it
 * signs (ORGANIZATION_TOKEN_KEY_PUBLISH_AHEAD_SECONDS, 15 minutes by default); jose's default is 10 minutes.
 */
const JWKS_CACHE_MS = Number(process.env.JWKS_CACHE_MS ?? 600_000);

const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', ORGANIZATIONS_URL), { cacheMaxAge: JWKS_CACHE_MS });

export interface Decision {
  status: 201 | 401 | 403 | 404;
  body: Record<string, unknown>;
}

/** The whole check: signature, issuer, audience, lifetime, then the workspace and the permission (in `ws_permissions`). */
export async function checkSandboxCreation(authorization: string | undefined, workspaceId: string): Promise<Decision> {
  const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
  if (!token) return { status: 401, body: { error: 'an organization token is required' } };
  let payload;
  let kid;
  try {
    ({ payload, protectedHeader: { kid } } = await jwtVerify(token, jwks, { issuer: ISSUER, audience: 'organization-token', algorithms: ['ES256'] }));
  } catch (error) {
    return { status: 401, body: { error: error instanceof errors.JOSEError ? error.code : 'invalid token' } };
  }
  // A token for another workspace (or for the organization only) says nothing about this one.
  if (payload.ws_id !== workspaceId) return { status: 403, body: { error: 'the token is not for this workspace' } };
  const held = Array.isArray(payload.ws_permissions) ? payload.ws_permissions : [];
  if (!held.includes(REQUIRED_PERMISSION)) return { status: 403, body: { error: `${REQUIRED_PERMISSION} is needed in this workspace` } };
  return { status: 201, body: { created: true, organizationId: payload.org_id, workspaceId, userId: payload.sub, kid } };
}

/** `POST /workspaces/<id>/sandboxes` with the token in `Authorization: Bearer`. */
function serve(): void {
  const server = http.createServer((req, res) => {
    const workspaceId = req.method === 'POST' ? /^\/workspaces\/([^/]+)\/sandboxes$/.exec(req.url ?? '')?.[1] : undefined;
    const answer = (decision: Decision) => res.writeHead(decision.status, { 'content-type': 'application/json' }).end(JSON.stringify(decision.body));
    if (!workspaceId) return answer({ status: 403, body: { error: 'POST /workspaces/<id>/sandboxes is all this example serves' } });
    checkSandboxCreation(req.headers.authorization, decodeURIComponent(workspaceId)).then(answer, (error: unknown) =>
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) })),
    );
  });

  server.listen(Number(process.env.PARTNER_PORT ?? 4003), '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    console.log(`partner service ready at http://127.0.0.1:${port}`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('SIGINT', () => server.close(() => process.exit(0)));
}

// Served when run (npm run partner); examples/partner-authorize.ts imports the check.
if (require.main === module) serve();
