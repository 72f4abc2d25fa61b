import { randomBytes } from 'node:crypto';
import { conflict } from '../errors';
import { RESERVED_SLUGS, slugify } from './validation';

const randomSuffix = () => randomBytes(4).readUInt32BE(0).toString(36).padStart(6, '0').slice(-6);

/**
 * Inserts under `chosen` (a user's choice: CONFLICT when taken), or else under a slug derived
 * from `name` — tried bare when `tryBare`, then with random suffixes until one is free.
 * `insert` returns undefined when the slug is taken (ON CONFLICT DO NOTHING).
 */
export async function insertUnderFreeSlug<T>(
  name: string,
  chosen: string | undefined,
  insert: (slug: string) => Promise<T | undefined>,
  options: { tryBare: boolean; fallback: string },
): Promise<T> {
  if (chosen) {
    const row = await insert(chosen);
    if (!row) throw conflict(`The slug "${chosen}" is already taken`, 'slug');
    return row;
  }
  const base = slugify(name);
  const usable = base.length >= 3 && !RESERVED_SLUGS.has(base) ? base : undefined;
  const candidates = usable && options.tryBare ? [usable] : [];
  while (candidates.length < 6) candidates.push(`${usable ?? options.fallback}-${randomSuffix()}`);
  for (const slug of candidates) {
    const row = await insert(slug);
    if (row) return row;
  }
  throw conflict('Could not find a free slug: choose one', 'slug');
}
