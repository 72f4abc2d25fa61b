import { createHash } from 'node:crypto';
import { canonical } from './canonical';
import type { RequestContext } from '../context';
import type { Database } from '../db/database';
import { badInput, conflict } from '../errors';

export function cleanIdempotencyKey(key: string): string {
  const trimmed = key.trim();
  if (trimmed.length < 1 || trimmed.length > 200) throw badInput('idempotencyKey', 'idempotencyKey must be 1 to 200 characters');
  return trimmed;
}

/**
 * Runs `work` once per (client, operation, key), inside the caller's transaction. A retry with
 * the same input gets the stored result and changes nothing; with other input, CONFLICT.
 * Concurrent retries wait on the key's unique index until the first commits (or rolls back,
 * and then one of them runs `work`).
 */
export async function idempotent<T>(
  tx: Database,
  ctx: RequestContext,
  operation: string,
  key: string,
  input: unknown,
  work: () => Promise<T>,
): Promise<T> {
  const client = ctx.principal?.kind === 'service' ? ctx.principal.clientId : `${ctx.principal?.kind}:${ctx.request.requestId}`;
  const requestHash = createHash('sha256').update(canonical(input)).digest('hex');
  const [claimed] = await tx.query(
    `INSERT INTO idempotency_keys (client_id, operation, key, request_hash) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [client, operation, key, requestHash],
  );
  if (!claimed) {
    const [stored] = await tx.query<{ request_hash: string; response: T }>(
      'SELECT request_hash, response FROM idempotency_keys WHERE client_id = $1 AND operation = $2 AND key = $3',
      [client, operation, key],
    );
    if (stored.request_hash !== requestHash) throw conflict('This idempotencyKey was used with a different input', 'idempotencyKey');
    return stored.response;
  }
  const result = await work();
  await tx.query('UPDATE idempotency_keys SET response = $4 WHERE client_id = $1 AND operation = $2 AND key = $3', [
    client,
    operation,
    key,
    JSON.stringify(result),
  ]);
  return result;
}
