import { badInput } from '../errors';

/** Characters no address of ours holds: any Unicode space, control or format character (zero-width, bidi). */
const INVISIBLE = /[\p{White_Space}\p{Cc}\p{Cf}]/u;

/**
 * The one form in which an email address is stored and compared: ASCII spaces around it
 * trimmed, the ASCII letters A–Z lower-cased, in the local part and the domain alike. Every
 * other character is kept as it is: JavaScript's toLowerCase() (and Unicode case folding) turn
 * the Kelvin sign U+212A into "k" and U+0130 into "i̇", and its trim() drops U+00A0, U+3000 or
 * U+FEFF, so an address written with them would match an ASCII address its holder does not
 * own. Here they stay distinct, and an address still holding a space, control or format
 * character is no address at all: null.
 */
export function normalizeEmail(address: string): string | null {
  const trimmed = address.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  if (INVISIBLE.test(trimmed)) return null;
  return trimmed.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** A local part and a domain, no spaces: the shape every address we store has (its owner's mail server decides the rest). */
const SHAPE = /^[^\s@]+@[^\s@]+$/;

/** An address a person or a service gave: in the one form (normalizeEmail), of that shape, at most 320 characters like a token's claim; BAD_USER_INPUT naming `field` otherwise. */
export function cleanEmail(field: string, given: string): string {
  const email = normalizeEmail(given);
  if (email === null || email.length > 320 || !SHAPE.test(email)) throw badInput(field, `"${given.trim().slice(0, 100)}" is not an email address`);
  return email;
}
