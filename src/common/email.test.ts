import { normalizeEmail } from './email';

describe('normalizeEmail', () => {
  it('trims ASCII spaces and lower-cases ASCII letters, in the local part and the domain', () => {
    expect(normalizeEmail('  Kate.O@Example.TEST \n')).toBe('kate.o@example.test');
  });

  it.each([
    ['the Kelvin sign', '\u212Aate@example.test'],
    ['a capital I with a dot', '\u0130van@example.test'],
    ['a long s', 'ro\u017Fe@example.test'],
    ['a non-ASCII capital', '\u00C9lise@B\u00DCCHER.test'],
  ])('keeps %s as it is, so it never matches an ASCII address', (_label, address) => {
    expect(normalizeEmail(address)).toBe(address.replace(/[A-Z]/g, (c) => c.toLowerCase()));
    expect(normalizeEmail(address)).not.toMatch(/^[\x20-\x7e]*$/);
  });

  // JavaScript's trim() drops these: "kate@example.test\u00A0" would have become kate's address.
  it.each([
    ['a no-break space after it', 'kate@example.test\u00A0'],
    ['an ideographic space before it', '\u3000kate@example.test'],
    ['a byte order mark before it', '\uFEFFkate@example.test'],
    ['a line separator after it', 'kate@example.test\u2028'],
    ['an en quad after it', 'kate@example.test\u2000'],
    ['a zero-width space inside', 'ka\u200Bte@example.test'],
    ['a right-to-left override inside', 'kate@\u202Eexample.test'],
  ])('refuses an address with %s (null)', (_label, address) => {
    expect(normalizeEmail(address)).toBeNull();
  });
});
