import type { ErrorRequestHandler } from 'express';
import { AppError } from '../../../errors';
import { httpFailure } from '../../../http/failure';
import { requestIdOf } from '../../../http/request-info';
import type { Logger } from '../../../logger';

export const SCIM_CONTENT_TYPE = 'application/scim+json';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12 scimType values this service answers with. */
export type ScimType = 'uniqueness' | 'invalidFilter' | 'invalidValue' | 'invalidPath' | 'invalidSyntax' | 'mutability' | 'noTarget' | 'tooMany';

/** A failure in SCIM's own terms: its HTTP status and scimType. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: ScimType,
  ) {
    super(message);
  }
}

export const invalidFilter = (detail: string) => new ScimError(400, detail, 'invalidFilter');
export const invalidValue = (detail: string) => new ScimError(400, detail, 'invalidValue');
export const scimNotFound = (what: 'User' | 'Group' | 'Resource') => new ScimError(404, `${what} not found`);

/** What the service's own codes mean to a SCIM client. */
const SCIM_TYPE: Partial<Record<string, ScimType>> = {
  BAD_USER_INPUT: 'invalidValue',
  CONFLICT: 'uniqueness',
  // The last OWNER (cannot be suspended or removed), a personal organization: the state forbids the change.
  FAILED_PRECONDITION: 'mutability',
};

/**
 * The body of a failed SCIM request (RFC 7644 §3.12: `status` a string), for every error: a
 * ScimError as it says; anything else through the service's one HTTP mapping (src/http/failure.ts),
 * its code turned into a scimType. No seat left is 403, not 429: a directory would retry a 429.
 */
export function scimErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    let status: number;
    let detail: string;
    let scimType: ScimType | undefined;
    if (error instanceof ScimError) {
      ({ status, message: detail, scimType } = error);
    } else {
      const failure = httpFailure(error);
      const code = error instanceof AppError ? String(error.extensions.code) : undefined;
      status = code === 'QUOTA_EXCEEDED' ? 403 : failure.status;
      detail = failure.body.errors[0].message;
      scimType = code ? SCIM_TYPE[code] : status === 400 ? 'invalidSyntax' : undefined;
      for (const [name, value] of Object.entries(failure.headers)) res.set(name, value);
      if (failure.fault === 'database') logger.warn({ err: error, requestId: requestIdOf(res) }, 'the database could not serve a SCIM request');
      else if (failure.fault) logger.error({ err: error, requestId: requestIdOf(res) }, 'internal error in a SCIM request');
    }
    if (status === 401) res.set('www-authenticate', 'Bearer realm="scim"');
    res
      .status(status)
      .type(SCIM_CONTENT_TYPE)
      .send(JSON.stringify(Object.assign({ schemas: [ERROR_SCHEMA], status: String(status), detail }, scimType ? { scimType } : {})));
  };
}
