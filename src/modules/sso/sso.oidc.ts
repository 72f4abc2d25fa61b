import http from 'node:http';
import https from 'node:https';
import { guardedLookup, refusedAddress, refusedHost } from '../webhook/network';

/** Read no more of a discovery document than this. */
const READ_LIMIT = 256 * 1024;
const REQUIRED_ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const;

export interface OidcDiscovery {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
}

export interface OutboundRules {
  timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: the same SSRF rules as webhooks (src/modules/webhook/network.ts). */
  allowPrivate: boolean;
}

/**
 * GETs a URL under the webhooks' SSRF rules (network.ts: an IP in the URL checked as written, a
 * name through the guarded lookup, the connected socket's address again), `timeoutMs` for the
 * whole exchange, no redirect followed. Resolves to the status and body, or rejects with why.
 */
function get(url: URL, rules: OutboundRules): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = (message: string) => {
      clearTimeout(timer);
      reject(new Error(message));
    };
    const start = async () => {
      if (!rules.allowPrivate) {
        const literal = url.hostname.replace(/^\[|\]$/g, '');
        const refusal = /^[\d.]+$|:/.test(literal) ? await refusedHost(url.hostname) : null;
        if (refusal) return fail(`refused: ${refusal}`);
      }
      const request = (url.protocol === 'https:' ? https : http).request(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        agent: false,
        lookup: guardedLookup(rules.allowPrivate),
      });
      timer = setTimeout(() => {
        request.destroy();
        fail(`no answer within ${rules.timeoutMs} ms`);
      }, rules.timeoutMs);
      request.on('socket', (socket) => {
        socket.once('connect', () => {
          const refusal = rules.allowPrivate || !socket.remoteAddress ? null : refusedAddress(socket.remoteAddress);
          if (refusal) request.destroy(new Error(`refused: connected to ${refusal.replace(/^\S+ is /, 'a ')}`));
        });
      });
      request.on('error', (error) => fail(error.message.slice(0, 300)));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > READ_LIMIT) {
            response.destroy();
            return fail(`the answer is larger than ${READ_LIMIT} bytes`);
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', (error) => fail(error.message));
      });
      request.end();
    };
    start().catch((error: Error) => fail(error.message));
  });
}

/**
 * Fetches `${issuer}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0, section 4)
 * and checks it: its `issuer` is exactly the one given (section 4.3), and it names the
 * endpoints the accounts service needs. Returns them, or throws an Error whose message says
 * what is wrong, for the admin to read.
 */
export async function discover(issuer: string, rules: OutboundRules): Promise<OidcDiscovery> {
  const url = new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  let answer: { status: number; body: string };
  try {
    answer = await get(url, rules);
  } catch (error) {
    throw new Error(`the discovery document ${url} could not be fetched: ${(error as Error).message}`);
  }
  if (answer.status !== 200) throw new Error(`the discovery document ${url} answered HTTP ${answer.status}${answer.status >= 300 && answer.status < 400 ? ' (redirects are not followed)' : ''}`);
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(answer.body);
  } catch {
    throw new Error(`the discovery document ${url} is not JSON`);
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) throw new Error(`the discovery document ${url} is not a JSON object`);
  if (document.issuer !== issuer) {
    throw new Error(`the discovery document names the issuer ${JSON.stringify(String(document.issuer ?? '')).slice(0, 300)}, not ${JSON.stringify(issuer)}: they must match exactly`);
  }
  const missing = REQUIRED_ENDPOINTS.filter((name) => typeof document[name] !== 'string' || !isHttpUrl(document[name] as string));
  if (missing.length) throw new Error(`the discovery document has no ${missing.join(', ')}`);
  return {
    authorizationEndpoint: document.authorization_endpoint as string,
    tokenEndpoint: document.token_endpoint as string,
    jwksUri: document.jwks_uri as string,
  };
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
