import type { ScimPatchOperation } from 'scim-patch';
import type { DirectoryPrincipal } from '../../../auth/principal';
import type { RequestContext } from '../../../context';
import { invalidValue, ScimError } from './scim.errors';

/** What SCIM requests carry, read as RFC 7643/7644 and the IdPs write it. */

/** The directory (and so the organization) the request's token speaks for. */
export const directoryOf = (ctx: RequestContext): DirectoryPrincipal => ctx.principal as DirectoryPrincipal;

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const MAX_TEXT = 500;

export function text(name: string, value: unknown, required: boolean): string | null {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalidValue(`${name} is required`);
    return null;
  }
  if (typeof value !== 'string' || value.length > MAX_TEXT || value.includes('\u0000')) throw invalidValue(`${name} must be a string of at most ${MAX_TEXT} characters, without NUL`);
  return value;
}

/** Entra sends booleans as strings ("False"); anything else is not a boolean. */
export function scimBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalidValue(`${name} must be true or false`);
}

/** Attribute names are case-insensitive (RFC 7643 §2.1): the body's keys, found whatever their case. */
export function field(body: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

export interface Page<T> {
  total: number;
  startIndex: number;
  rows: T[];
}

/** startIndex (1-based) and count as RFC 7644 §3.4.2.4 reads them: below 1 is 1, a negative count 0. */
export function pageOf(query: Record<string, unknown>): { startIndex: number; count: number } {
  const number = (name: string, fallback: number) => {
    const raw = query[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isInteger(n)) throw invalidValue(`${name} must be an integer`);
    return n;
  };
  return { startIndex: Math.max(1, number('startIndex', 1)), count: Math.min(Math.max(0, number('count', 100)), 1000) };
}

export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** The body's Operations, ops in lower case (Entra writes `Replace`). */
export function patchOperations(body: unknown): ScimPatchOperation[] {
  const b = (body ?? {}) as Record<string, unknown>;
  const operations = field(b, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0 || operations.length > 1000) throw new ScimError(400, 'Operations must be a list of 1 to 1000 operations', 'invalidSyntax');
  return operations.map((o: unknown) => {
    if (!o || typeof o !== 'object') throw new ScimError(400, 'An operation is an object', 'invalidSyntax');
    const op = field(o as Record<string, unknown>, 'op');
    const path = field(o as Record<string, unknown>, 'path');
    const value = field(o as Record<string, unknown>, 'value');
    if (typeof op !== 'string' || !['add', 'replace', 'remove'].includes(op.toLowerCase())) throw new ScimError(400, 'op must be add, replace or remove', 'invalidSyntax');
    if (path !== undefined && typeof path !== 'string') throw new ScimError(400, 'path must be a string', 'invalidPath');
    return Object.assign({ op: op.toLowerCase() }, path !== undefined ? { path } : {}, value !== undefined ? { value } : {}) as ScimPatchOperation;
  });
}
