import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { AppError, DATABASE_FAILURE_MESSAGES, databaseFailure, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { requestIdOf } from './request-info';

/** The HTTP status of each code of the contract outside GraphQL, as google.rpc.Code maps its equivalents. */
const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FAILED_PRECONDITION: 400,
  QUOTA_EXCEEDED: 429,
  INTERNAL_SERVER_ERROR: 500,
};

interface HttpFailure {
  status: number;
  headers: Record<string, string>;
  body: { errors: { message: string; extensions: Record<string, unknown> }[] };
  /** What went wrong on our side, for the log; undefined when it was the request's fault. */
  fault?: 'database' | 'internal';
}

const failure = (status: number, message: string, extensions: Record<string, unknown>, more: Partial<HttpFailure> = {}): HttpFailure =>
  Object.assign({ status, headers: {}, body: { errors: [{ message, extensions }] } }, more);

/**
 * The one mapping from an error to the answer of an HTTP request that failed outside GraphQL's
 * execution (the router lock, the body, an operation's turn, /audit/export, /metrics), in
 * GraphQL's error shape: an AppError with the status of its code; a database that could not
 * serve it 503 with Retry-After; a body too large 413, otherwise unreadable 400; anything else
 * 500, masked.
 */
export function httpFailure(error: unknown): HttpFailure {
  if (error instanceof AppError) {
    // `http` is Apollo's channel for a status, not for the client to read.
    const { http: _http, ...extensions } = error.extensions;
    return failure(HTTP_STATUS[extensions.code as ErrorCode] ?? 500, error.message, extensions);
  }
  // body-parser's errors carry their status (4xx); checked before the database, as a client's dropped body says ECONNABORTED.
  const status = (error as { status?: unknown } | null)?.status;
  if (status === 413) return failure(413, 'The request body is larger than 1 MB', { code: 'BAD_USER_INPUT' });
  if (typeof status === 'number' && status >= 400 && status < 500) return failure(status, 'The request body is not valid JSON', { code: 'BAD_USER_INPUT' });
  const database = databaseFailure(error);
  if (database) {
    return failure(503, DATABASE_FAILURE_MESSAGES[database], { code: 'INTERNAL_SERVER_ERROR', reason: database }, { headers: { 'retry-after': '1' }, fault: 'database' });
  }
  return failure(500, 'Internal server error', { code: 'INTERNAL_SERVER_ERROR' }, { fault: 'internal' });
}

/** Answers a request that failed outside GraphQL's execution with the mapping above, never a stack. */
export function sendHttpFailure(res: ServerResponse, error: unknown, logger: Logger): void {
  const requestId = requestIdOf(res);
  if (res.headersSent) {
    // A stream (an export) failed midway: cutting it short is all the client can be told.
    logger.error({ err: error, requestId }, 'HTTP response failed after its headers were sent');
    res.destroy();
    return;
  }
  const { status, headers, body, fault } = httpFailure(error);
  if (fault === 'database') logger.warn({ err: error, requestId, reason: body.errors[0].extensions.reason }, 'the database could not serve an HTTP request');
  if (fault === 'internal') logger.error({ err: error, requestId }, 'unhandled HTTP error');
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

/** Express's error handler for every route it serves: sendHttpFailure. */
export function httpErrorHandler(logger: Logger): ErrorRequestHandler {
  // Four parameters: Express tells an error handler by its arity.
  return (error, _req, res, _next) => sendHttpFailure(res, error, logger);
}
