import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { DatabaseError } from 'pg';

/** The error codes of the public contract (API.md, Errors). */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'FAILED_PRECONDITION'
  | 'QUOTA_EXCEEDED'
  | 'INTERNAL_SERVER_ERROR';

/** A failure the client is meant to see: its message and code reach the response as they are. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extensions } });
  }
}

export const unauthenticated = (message = 'Authentication required') => new AppError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You do not have permission to do this') => new AppError('FORBIDDEN', message);
export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const badInput = (field: string, message: string) => new AppError('BAD_USER_INPUT', message, { field });
export const conflict = (message: string, field?: string) => new AppError('CONFLICT', message, field ? { field } : {});
export const failedPrecondition = (message: string) => new AppError('FAILED_PRECONDITION', message);
export const quotaExceeded = (message: string) => new AppError('QUOTA_EXCEEDED', message);

/**
 * Why the database could not serve a request: it is down, restarting or unreachable
 * (DATABASE_UNAVAILABLE), or every pooled connection stayed busy for DATABASE_POOL_TIMEOUT_MS
 * (DATABASE_BUSY). Both are transient: the client may retry.
 */
export type DatabaseFailure = 'DATABASE_UNAVAILABLE' | 'DATABASE_BUSY';

export const DATABASE_FAILURE_MESSAGES: Record<DatabaseFailure, string> = {
  DATABASE_UNAVAILABLE: 'The database is unavailable, try again',
  DATABASE_BUSY: 'The database is busy, try again',
};

/** SQLSTATEs of a server going away or not there yet: admin/crash shutdown, cannot connect now, too many connections. */
const POSTGRES_UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
/** Socket errors of a server that is down or unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** pg's words for a connection lost mid-request. */
const LOST_CONNECTION = /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * Whether `error` (or what it wraps: GraphQL's originalError, a cause,
 * an AggregateError's errors) means the database could not serve the request, and why. A
 * request talks to no other server (tokens are checked locally or against JWKS, whose failures
 * are UNAUTHENTICATED; mail leaves through the outbox), so a socket error here is the database's.
 */
export function databaseFailure(error: unknown): DatabaseFailure | null {
  const queue = [error];
  const seen = new Set<unknown>();
  while (queue.length) {
    const e = queue.shift() as { code?: unknown; message?: unknown; originalError?: unknown; cause?: unknown; errors?: unknown } | null;
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    // One of ours already (databaseFailureError), say an operation that waited in vain for its turn.
    const reason = e instanceof GraphQLError ? e.extensions.reason : undefined;
    if (reason === 'DATABASE_BUSY' || reason === 'DATABASE_UNAVAILABLE') return reason;
    const message = typeof e.message === 'string' ? e.message : '';
    // pg-pool: no connection became free within connectionTimeoutMillis.
    if (message === 'timeout exceeded when trying to connect') return 'DATABASE_BUSY';
    if (typeof e.code === 'string' && (e.code.startsWith('08') || POSTGRES_UNAVAILABLE_CODES.has(e.code) || NETWORK_CODES.has(e.code))) return 'DATABASE_UNAVAILABLE';
    if (LOST_CONNECTION.test(message)) return 'DATABASE_UNAVAILABLE';
    queue.push(e.originalError, e.cause, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return null;
}

/**
 * The error a client sees when the database could not serve its request: INTERNAL_SERVER_ERROR
 * (API.md has no other code for a fault of the server's side) with `extensions.reason` telling
 * an outage from a bug, and HTTP 503 with Retry-After where the whole request failed on it.
 */
export function databaseFailureError(failure: DatabaseFailure, cause?: unknown): GraphQLError {
  return new GraphQLError(DATABASE_FAILURE_MESSAGES[failure], {
    originalError: cause instanceof Error ? cause : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR', reason: failure, http: { status: 503, headers: new Map([['retry-after', '1']]) } },
  });
}

/** `error` as the client should see it when the database failed it (a context that could not be built, say); else as it is. */
export function asDatabaseFailure(error: unknown): unknown {
  const failure = databaseFailure(error);
  return failure ? databaseFailureError(failure, error) : error;
}

/**
 * HTTP 503 and Retry-After for an operation that failed as a whole (every root field null) because the
 * database could not serve it, so that a router, load balancer or client knows to retry.
 */
export function databaseFailurePlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, errors }) {
          if (response.body.kind !== 'single' || !errors?.length || !errors.every((e) => databaseFailure(e))) return;
          const { data } = response.body.singleResult;
          if (data && Object.values(data).some((value) => value !== null)) return;
          response.http.status = 503;
          response.http.headers.set('retry-after', '1');
        },
      };
    },
  };
}

/** data_exception class: string too long, bad encoding, bad text representation, date/time out of range, numeric out of range. */
const POSTGRES_INPUT_CODES = new Set(['22001', '22021', '22P02', '22007', '22008', '22003', '22P05']);

const APOLLO_INPUT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE']);

/**
 * Shapes every error leaving the server: our own errors pass as they are; a malformed
 * document is BAD_USER_INPUT (the original Apollo code stays in `reason`); anything else is
 * masked as INTERNAL_SERVER_ERROR so that no stack, SQL or internal message leaks.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onInternal: (error: unknown, failure?: DatabaseFailure) => void,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) {
    // `http` sets the response status; it is not for the client to read.
    const { http: _http, ...extensions } = original.extensions;
    return Object.assign({}, formatted, { extensions });
  }
  const sqlCode = original instanceof DatabaseError ? original.code : undefined;
  if (sqlCode && POSTGRES_INPUT_CODES.has(sqlCode)) {
    // A value PostgreSQL cannot take (out-of-range date, bad encoding) that validation let through.
    onInternal(original);
    return { message: 'A value in the request is not valid', path: formatted.path, extensions: { code: 'BAD_USER_INPUT' } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && code === 'BAD_USER_INPUT') {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
  }
  if (typeof code === 'string' && APOLLO_INPUT_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, extensions: { code: 'BAD_USER_INPUT', reason: code } };
  }
  if (original instanceof GraphQLError && original.extensions?.code === 'UNAUTHENTICATED') {
    return { message: formatted.message, path: formatted.path, extensions: { code: 'UNAUTHENTICATED' } };
  }
  const failure = databaseFailure(error);
  if (failure) {
    // Not a bug: the database is down, restarting or saturated. Said so, without its words.
    onInternal(original instanceof GraphQLError && original.originalError ? original.originalError : original, failure);
    return { message: DATABASE_FAILURE_MESSAGES[failure], path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR', reason: failure } };
  }
  onInternal(original);
  return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
