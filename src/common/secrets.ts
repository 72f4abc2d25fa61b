import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether a presented secret (a header's value) is the configured one, in constant time: both
 * are hashed first, so neither the comparison nor a length mismatch tells a guesser anything.
 */
export function isSecret(given: string | undefined, expected: string): boolean {
  return timingSafeEqual(sha256(given ?? ''), sha256(expected));
}
