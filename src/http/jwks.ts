import type { RequestHandler } from 'express';
import type { AppServices } from '../context';

/**
 * GET /.well-known/jwks.json: the public keys of organization tokens (RFC 7517), for anyone.
 * Verifiers and caches may keep it for max-age, which stays under the time a new key is
 * published before it signs (ORGANIZATION_TOKEN_KEY_PUBLISH_AHEAD_SECONDS), so that a cached copy
 * already holds the key of every token they receive. Read from this process's copy of the keys
 * (at most KEY_CACHE_MS old): one statement every few seconds however often it is asked.
 */
export function jwksHandler(app: AppServices): RequestHandler {
  const maxAge = Math.min(300, app.config.organizationTokens.publishAheadSeconds);
  return async (_req, res) => {
    const jwks = await app.signingKeys.jwks(app.db);
    res.set('cache-control', `public, max-age=${maxAge}`).type('application/jwk-set+json').send(JSON.stringify(jwks));
  };
}
