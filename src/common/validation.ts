import { badInput } from '../errors';

/**
 * Control and format characters never belong in a name: newlines and tabs (C0/C1 controls),
 * line and paragraph separators, and format characters (Cf) — bidi overrides and isolates that
 * make "Acme" render as something else, zero-width characters that make two names look alike.
 */
const NAME_REFUSED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** `text` without the characters a name refuses: for names derived from what a name was not checked against (a token's name claim). */
const NAME_REFUSED_ALL = new RegExp(NAME_REFUSED.source, 'gu');
export const withoutRefusedInName = (text: string) => text.replace(NAME_REFUSED_ALL, '');
/** Whether `text` holds a character a name refuses. */
export const refusedInName = (text: string) => NAME_REFUSED.test(text);
/** A description may run over lines and hold tabs; nothing else of the above. */
const DESCRIPTION_REFUSED = /(?![\n\r\t])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Words a slug cannot be: they collide with routes, subdomains or intent. */
export const RESERVED_SLUGS = new Set([
  'about', 'account', 'accounts', 'admin', 'administrator', 'api', 'app', 'apps', 'assets', 'audit', 'auth',
  'billing', 'blog', 'cdn', 'dashboard', 'default', 'dev', 'docs', 'email', 'ftp', 'graphql', 'health', 'help',
  'home', 'invitations', 'invite', 'join', 'legal', 'login', 'logout', 'mail', 'me', 'metrics', 'new', 'null',
  'oauth', 'organization', 'organizations', 'owner', 'personal', 'pricing', 'privacy', 'public', 'register',
  'root', 'security', 'settings', 'signin', 'signup', 'sso', 'static', 'status', 'support', 'system', 'team',
  'teams', 'terms', 'test', 'undefined', 'user', 'users', 'viewer', 'workspace', 'workspaces', 'www',
]);

/** A trimmed name of 1 to `max` characters. */
export function cleanName(field: string, value: string, max = 100): string {
  const name = value.trim();
  if (name.length < 1 || name.length > max) throw badInput(field, `${field} must be 1 to ${max} characters`);
  if (NAME_REFUSED.test(name)) throw badInput(field, `${field} may not contain control or invisible formatting characters (line breaks, tabs, bidi overrides, zero-width characters)`);
  return name;
}

/** An optional description: empty means none. */
export function cleanDescription(field: string, value: string | null | undefined, max = 1000): string | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  if (text.length > max) throw badInput(field, `${field} must be at most ${max} characters`);
  if (DESCRIPTION_REFUSED.test(text)) throw badInput(field, `${field} may not contain control or invisible formatting characters (bidi overrides, zero-width characters)`);
  return text;
}

/** 3–48 lowercase letters, digits and single hyphens, not a reserved word; compared lower-case. */
export function cleanSlug(field: string, value: string): string {
  const slug = value.trim().toLowerCase();
  if (slug.length < 3 || slug.length > 48) throw badInput(field, `${field} must be 3 to 48 characters`);
  if (!SLUG.test(slug)) {
    throw badInput(field, `${field} may contain only lowercase letters, digits and single hyphens between them`);
  }
  if (RESERVED_SLUGS.has(slug)) throw badInput(field, `"${slug}" is reserved`);
  return slug;
}

/** A slug derived from a name: what cleanSlug would accept, or undefined when nothing usable is left. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
}

/** A date PostgreSQL can store (years 1 to 9999), or BAD_USER_INPUT naming the field. */
export function cleanDate(field: string, value: Date): Date {
  const year = value.getUTCFullYear();
  if (Number.isNaN(value.getTime()) || year < 1 || year > 9999) throw badInput(field, `${field} is not a valid date-time`);
  return value;
}
