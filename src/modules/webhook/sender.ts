import http from 'node:http';
import https from 'node:https';
import { guardedLookup, refusedAddress, refusedHost } from './network';

/** What one attempt came to. */
export interface Attempt {
  /** The receiver's HTTP status; null when none came (refused, unreachable, timed out). */
  status: number | null;
  /** The first characters of its answer, never more. */
  excerpt: string | null;
  error: string | null;
  /** The receiver's Retry-After, in ms. */
  retryAfterMs: number | null;
}

export const EXCERPT_LENGTH = 200;
/** Read no more of an answer than this: a receiver cannot make us hold a large body. */
const READ_LIMIT = 4096;

/**
 * Text as it may be stored: PostgreSQL's text cannot hold NUL (the UPDATE recording the outcome
 * would fail, and the delivery go out again after each lease), and a lone surrogate (half of a
 * pair cut by the excerpt's length) would be stored altered. Both go.
 */
export function storable(text: string | null): string | null {
  return text ? text.replaceAll('\u0000', '').replace(/\p{Surrogate}/gu, '') || null : null;
}

/** Retry-After as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(date - now, 0);
}

/**
 * POSTs a webhook: `timeoutMs` for the whole exchange, redirects not followed (a 3xx is a
 * failure), only the start of the answer kept. Unless `allowPrivate`, the host must resolve to
 * addresses that may receive (network.ts), and the socket's own remote address is checked
 * again once connected.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, options: { timeoutMs: number; allowPrivate: boolean }): Promise<Attempt> {
  return new Promise<Attempt>((resolve) => {
    let settled = false;
    const done = (attempt: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(attempt);
    };
    const fail = (error: string) => done({ status: null, excerpt: null, error, retryAfterMs: null });
    const target = new URL(url);
    const start = async () => {
      // An IP written in the URL is connected to without a lookup: checked here.
      if (!options.allowPrivate) {
        const literal = target.hostname.replace(/^\[|\]$/g, '');
        const refusal = /^[\d.]+$|:/.test(literal) ? await refusedHost(target.hostname) : null;
        if (refusal) return fail(`refused: ${refusal}`);
      }
      const request = (target.protocol === 'https:' ? https : http).request(target, {
        method: 'POST',
        headers: Object.assign({}, headers, { 'content-length': String(Buffer.byteLength(body)) }),
        // A socket of its own each time: its address is the one checked.
        agent: false,
        lookup: guardedLookup(options.allowPrivate),
      });
      request.on('socket', (socket) => {
        socket.once('connect', () => {
          const refusal = options.allowPrivate || !socket.remoteAddress ? null : refusedAddress(socket.remoteAddress);
          if (refusal) request.destroy(new Error(`refused: connected to ${refusal.replace(/^\S+ is /, 'a ')}`));
        });
      });
      request.on('error', (error) => fail(error.message.slice(0, 500)));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          const status = response.statusCode ?? 0;
          const excerpt = Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_LENGTH) || null;
          const ok = status >= 200 && status < 300;
          const error = ok ? null : status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`;
          const retryAfter = response.headers['retry-after'];
          done({ status, excerpt, error, retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) });
          response.destroy();
        };
        response.on('data', (chunk: Buffer) => {
          if (size < READ_LIMIT) chunks.push(chunk);
          size += chunk.length;
          if (size >= READ_LIMIT) finish();
        });
        response.on('end', finish);
        response.on('error', finish);
      });
      request.end(body);
      timer = setTimeout(() => {
        request.destroy();
        fail(`no answer within ${options.timeoutMs} ms`);
      }, options.timeoutMs);
    };
    let timer: NodeJS.Timeout | undefined;
    start().catch((error: Error) => fail(error.message));
  });
}
