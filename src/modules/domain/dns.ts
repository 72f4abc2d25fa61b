import { Resolver } from 'node:dns/promises';

/** The TXT record an organization publishes to prove it holds a domain. */
export const RECORD_PREFIX = '_orgs-verification';
export const VALUE_PREFIX = 'orgs-verification=';

export const recordName = (domain: string) => `${RECORD_PREFIX}.${domain}`;
export const recordValue = (token: string) => `${VALUE_PREFIX}${token}`;

/** What a lookup found: the record, no such record (with what was there instead), or no answer at all. */
export type Lookup = { found: true } | { found: false; reason: 'DNS_RECORD_NOT_FOUND' | 'DNS_LOOKUP_FAILED'; detail: string };

/** "1.1.1.1, 127.0.0.1:5353, [::1]:53" → the list node's Resolver.setServers takes; null when unset; throws on a bad entry. */
export function parseDnsServers(text: string | undefined): string[] | null {
  if (!text?.trim()) return null;
  const servers = text.split(',').map((s) => s.trim()).filter(Boolean);
  new Resolver().setServers(servers);
  return servers;
}

const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'ENONAME']);

/**
 * Looks for `expected` among the TXT records at `name`, through `servers` (the system's
 * resolvers when null). Each lookup gets a resolver of its own: nothing is cached here, so a
 * record just published (or removed) is seen as the DNS servers see it.
 */
export async function findTxt(servers: string[] | null, name: string, expected: string): Promise<Lookup> {
  // Two tries (c-ares doubles the wait: 1.5 s, then 3 s): a lost datagram is retried, a dead server fails in under 5 s.
  const resolver = new Resolver({ timeout: 1500, tries: 2 });
  if (servers) resolver.setServers(servers);
  let records: string[][];
  try {
    records = await resolver.resolveTxt(name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
    if (NO_RECORD.has(code)) return { found: false, reason: 'DNS_RECORD_NOT_FOUND', detail: `no TXT record at ${name}` };
    return { found: false, reason: 'DNS_LOOKUP_FAILED', detail: `the DNS lookup of ${name} failed (${code})` };
  }
  // A long TXT value comes in chunks of 255 characters: they make one value.
  const values = records.map((chunks) => chunks.join(''));
  if (values.includes(expected)) return { found: true };
  const ours = values.filter((v) => v.startsWith(VALUE_PREFIX));
  return {
    found: false,
    reason: 'DNS_RECORD_NOT_FOUND',
    detail: ours.length ? `the TXT records at ${name} hold another verification value` : `the TXT records at ${name} hold no ${VALUE_PREFIX} value`,
  };
}
