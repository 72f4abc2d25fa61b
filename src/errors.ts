import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';

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

/** data_exception class: string too long, bad encoding, bad text representation, date/time out of range, numeric out of range. */
const POSTGRES_INPUT_CODES = new Set(['22001', '22021', '22P02', '22007', '22008', '22003', '22P05']);

const APOLLO_INPUT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE']);

/**
 * Shapes every error leaving the server: our own errors pass as they are; a malformed
 * document is BAD_USER_INPUT (the original Apollo code stays in `reason`); anything else is
 * masked as INTERNAL_SERVER_ERROR so that no stack, SQL or internal message leaks.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, onInternal: (error: unknown) => void): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) {
    // `http` sets the response status; it is not for the client to read.
    const { http: _http, ...extensions } = original.extensions;
    return { ...formatted, extensions };
  }
  const sqlCode = (original as { driverError?: { code?: string } })?.driverError?.code;
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
  onInternal(original);
  return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
