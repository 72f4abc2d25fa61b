/**
 * The one form in which an email address is stored and compared: trimmed, with the ASCII
 * letters A–Z lower-cased, in the local part and the domain alike. Every other character is
 * kept as it is: JavaScript's toLowerCase() (and Unicode case folding) turn the Kelvin sign
 * U+212A into "k" and U+0130 into "i̇", so an address written with them would match an ASCII
 * address its holder does not own. Here they stay distinct addresses.
 */
export function normalizeEmail(address: string): string {
  return address.trim().replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
