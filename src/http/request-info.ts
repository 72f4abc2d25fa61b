import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { RequestInfo } from '../context';

/** Proxies whose X-Forwarded-For counts: loopback and private ones (Express's `trust proxy` is given the same list). */
export const TRUSTED_PROXIES = ['loopback', 'linklocal', 'uniquelocal'];
const trusted = proxyAddr.compile(TRUSTED_PROXIES);

/**
 * Gives the response its X-Request-Id (the client's, if it sent one) before anything can refuse
 * the request: the router lock, the body, a turn, a 404. The header is where the id lives.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): void {
  const sent = req.headers['x-request-id'];
  res.setHeader('x-request-id', (typeof sent === 'string' && sent.slice(0, 100)) || randomUUID());
}

export const requestIdOf = (res: ServerResponse): string => String(res.getHeader('x-request-id') ?? '');

/** The request's path, lower-case, without its query: what /graphql is told from the rest by, and http_requests_total's route. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return (query < 0 ? url : url.slice(0, query)).toLowerCase();
}

/** Who sent the request, as audit events record it: its id, the client's address (past trusted proxies), its user agent. */
export function requestInfo(req: IncomingMessage, res: ServerResponse): RequestInfo {
  return {
    requestId: requestIdOf(res),
    ip: proxyAddr(req, trusted) || null,
    userAgent: req.headers['user-agent']?.slice(0, 500) ?? null,
  };
}
