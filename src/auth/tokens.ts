import { webcrypto } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { normalizeEmail } from '../common/email';
import type { Config } from '../config';
import { AppError, unauthenticated } from '../errors';
import { ORGANIZATION_TOKEN_AUDIENCE, type Principal } from './principal';

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * Clocks of the issuer and of this process may disagree by this much: an `iat` or `nbf` up
 * to a minute ahead is accepted, anything further in the future is refused. (`exp` and the
 * maximum age are not stretched by it.)
 */
export const CLOCK_SKEW_SECONDS = 60;

/**
 * Verifies a bearer JWT: HS256 with JWT_SECRET, or RS256/ES256 against JWKS_URL; issuer
 * and audience when configured. A token must expire: it carries `exp`, or, when
 * JWT_MAX_AGE_SECONDS is set, an `iat` younger than that. A token with an `email` claim,
 * even empty, is a person; one without, carrying `scope`, is a partner service.
 */
export function createTokenVerifier(config: Config): TokenVerifier {
  const { JWKS_URL, JWT_ISSUER, JWT_AUDIENCE } = config.env;
  const maxAge = config.env.JWT_MAX_AGE_SECONDS || undefined;
  const options: JWTVerifyOptions = {
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    // jose refuses an `nbf` (and, with maxTokenAge, an `iat`) beyond it in the future; it also lets
    // `exp` and the age run over by as much, which acceptedUntil() below takes back.
    clockTolerance: CLOCK_SKEW_SECONDS,
    // JWT_MAX_AGE_SECONDS set: jose requires iat and refuses an older token, exp or not; unset: it requires exp.
    ...(maxAge ? { maxTokenAge: maxAge } : { requiredClaims: ['exp'] }),
  };
  let verify: (token: string) => Promise<JWTPayload>;
  if (JWKS_URL) {
    const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(JWKS_URL));
    verify = async (token) => (await jwtVerify(token, keys, Object.assign({}, options, { algorithms: ['RS256', 'ES256'] }))).payload;
  } else {
    // A CryptoKey imported once: given raw bytes or a KeyObject, jose imports the key into
    // WebCrypto again on every request.
    const secret = webcrypto.subtle.importKey('raw', Buffer.from(config.jwtSecret ?? '', 'utf8'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    verify = async (token) => (await jwtVerify(token, await secret, Object.assign({}, options, { algorithms: ['HS256'] }))).payload;
  }

  // Tokens that verified, by their exact text (signature included), for a few minutes: a
  // client sends the same token with every request, and WebCrypto's HMAC is an async job.
  // A hit still honours the token's lifetime (acceptedUntil).
  const verified = new Map<string, { claims: JWTPayload; until: number }>();
  const cached = (token: string): JWTPayload | undefined => {
    const hit = verified.get(token);
    if (hit && hit.until > Date.now()) return hit.claims;
    if (hit) verified.delete(token);
    return undefined;
  };

  return async (token) => {
    let claims = cached(token);
    if (!claims) {
      try {
        claims = await verify(token);
      } catch (error) {
        throw unauthenticated(describeTokenError(error));
      }
      const until = acceptedUntil(claims, maxAge);
      if (until <= Date.now()) throw unauthenticated('The token has expired');
      if (typeof claims.iat === 'number' && claims.iat * 1000 > Date.now() + CLOCK_SKEW_SECONDS * 1000) {
        // A future iat would also freeze the stored claims: newer tokens never overwrite those of an older one.
        throw unauthenticated("The token's iat claim is in the future");
      }
      if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
      verified.set(token, { claims, until: Math.min(Date.now() + VERIFIED_TOKEN_TTL_MS, until) });
    }
    return principalFromClaims(claims);
  };
}

/** When a verified token stops being accepted (ms): at its `exp`, and `maxAge` seconds after its `iat` when that is set. */
function acceptedUntil(claims: JWTPayload, maxAge: number | undefined): number {
  const byExp = typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity;
  const byAge = maxAge && typeof claims.iat === 'number' ? (claims.iat + maxAge) * 1000 : Infinity;
  return Math.min(byExp, byAge);
}

const VERIFIED_TOKEN_TTL_MS = 5 * 60_000;
const VERIFIED_TOKENS_KEPT = 10_000;

function describeTokenError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') {
      return error.claim === 'exp' ? 'The token has no exp claim: it must expire' : `The token has no ${error.claim} claim`;
    }
    if ((error.claim === 'nbf' || error.claim === 'iat') && error.reason === 'check_failed') return `The token's ${error.claim} claim is in the future`;
    return `The token's ${error.claim} claim is not accepted`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is not valid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'The token was signed with an unknown key';
  return 'The token is malformed or not accepted';
}

// eslint-disable-next-line no-control-regex -- refusing them is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// An unpaired surrogate would be stored as U+FFFD: not the claim, and the personal organization's audit chain would not verify.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** A claim as we store it: a trimmed string, or null when absent; refused when it cannot be stored faithfully. */
function claim(claims: JWTPayload, name: string, max: number): string | null {
  const value = claims[name];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > max || CONTROL.test(value) || LONE_SURROGATE.test(value)) throw unauthenticated(`The token's ${name} claim is not accepted`);
  return value.trim() || null;
}

/** The email claim in the one stored form (common/email.ts), null when empty; refused when it is no address (an invisible character in or around it). */
function emailClaim(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  const email = typeof value === 'string' && value.length <= 320 && !LONE_SURROGATE.test(value) ? normalizeEmail(value) : null;
  if (email === null) throw unauthenticated("The token's email claim is not accepted");
  return email || null;
}

export function principalFromClaims(claims: JWTPayload): Principal {
  // Our own organization tokens state what a member holds, for services checking offline; a
  // JWKS_URL that also publishes our keys must not make them bearer tokens of this API.
  if ([claims.aud].flat().includes(ORGANIZATION_TOKEN_AUDIENCE)) throw unauthenticated('An organization token is not accepted here: it is for services that check offline');
  const sub = claim(claims, 'sub', 255);
  if (!sub) throw unauthenticated('The token has no subject');
  // A subject is an identifier: trimming it could make two users one.
  if (sub !== claims.sub) throw unauthenticated("The token's sub claim is not accepted");
  // A person's token carries an email claim, even an empty one; only a token without any is a
  // partner service's. Telling them apart by an empty value let `email: ""` act as a partner.
  if (!Object.hasOwn(claims, 'email')) {
    if (typeof claims.scope !== 'string') throw unauthenticated('The token has neither an email nor a scope');
    return { kind: 'service', clientId: sub, scopes: new Set(claims.scope.split(/\s+/).filter(Boolean)) };
  }
  const email = emailClaim(claims.email);
  return {
    kind: 'user',
    userId: sub,
    email,
    // Verified describes an address: without one there is nothing verified.
    emailVerified: email !== null && claims.email_verified === true,
    name: claim(claims, 'name', 200),
    issuedAt: typeof claims.iat === 'number' ? new Date(claims.iat * 1000) : null,
    ssoOrgId: claim(claims, 'sso_org_id', 100),
  };
}

/** `Authorization: Bearer <token>` → the token; anything else is refused. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new AppError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>"');
  return match[1];
}
