import { isDisposableEmailDomain } from 'disposable-email-domains-js';
import emailProviders from 'email-providers/all.json';
import { parse } from 'tldts';
import { badInput } from '../../errors';

/** Consumer mail providers (gmail.com, outlook.com, …): maintained by the email-providers package. */
const CONSUMER = new Set<string>(emailProviders as string[]);

/** A domain as given: ASCII letters, digits and hyphens in dot-separated labels (an IDN in its xn-- form). */
const SHAPE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The part of an address after its last `@`: what a domain is compared with. */
export function domainOfEmail(email: string | null | undefined): string | null {
  if (!email) return null;
  const at = email.lastIndexOf('@');
  return at < 0 ? null : email.slice(at + 1);
}

/**
 * The domain an organization may claim, in the form stored and compared with addresses
 * (lower-case, no trailing dot); BAD_USER_INPUT for anything nobody can own: an IP address, a
 * public suffix (`com`, `co.uk`, `github.io`: the Public Suffix List through tldts, private
 * section included), a consumer mail provider or a disposable mail domain (or a subdomain of
 * one: `mail.gmail.com` is Google's).
 */
export function cleanDomain(given: string): string {
  const domain = given.trim().replace(/[A-Z]+/g, (letters) => letters.toLowerCase()).replace(/\.$/, '');
  if (!SHAPE.test(domain)) throw badInput('domain', `"${given.trim().slice(0, 100)}" is not a domain name such as acme.com (write an internationalized one in its xn-- form)`);
  const parsed = parse(domain, { allowPrivateDomains: true });
  if (parsed.isIp || !parsed.domain) throw badInput('domain', `${domain} is a public suffix, which no organization owns: give your own domain, such as acme.com`);
  for (const candidate of new Set([domain, parsed.domain])) {
    if (CONSUMER.has(candidate)) throw badInput('domain', `${domain} is a consumer mail provider's domain: its addresses belong to anyone`);
    if (isDisposableEmailDomain(candidate)) throw badInput('domain', `${domain} is a disposable mail domain`);
  }
  return domain;
}
