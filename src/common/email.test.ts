import { normalizeEmail } from './email';

describe('normalizeEmail', () => {
  it('trims and lower-cases ASCII letters, in the local part and the domain', () => {
    expect(normalizeEmail('  Kate.O@Example.TEST ')).toBe('kate.o@example.test');
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
});
