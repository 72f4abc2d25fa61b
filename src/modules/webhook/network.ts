import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where a webhook may not go (SSRF): loopback, private, shared, link-local (cloud metadata at
 * 169.254.169.254 among them), multicast, documentation and reserved ranges, and the IPv6 ranges
 * that carry an IPv4 address a host or a gateway may reach (IPv4-compatible, IPv4-translated,
 * NAT64, 6to4, Teredo): refused whole rather than judged by the address inside. One list,
 * checked at creation and again at each delivery against the address the socket connects to.
 */
const REFUSED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  REFUSED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  // The unspecified address, loopback and IPv4-compatible addresses ([::127.0.0.1]).
  ['::', 96],
  // IPv4-translated (SIIT).
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  // Teredo, and 6to4 (2002:7f00:1:: is 127.0.0.1's).
  ['2001::', 32],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  REFUSED.addSubnet(network, prefix, 'ipv6');
}

/** Why `address` may not receive webhooks, or null when it may. IPv4 written in IPv6 (::ffff:a.b.c.d) is judged as IPv4. */
export function refusedAddress(address: string): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1] : address;
  const family = isIP(ip);
  if (!family) return `${address} is not an IP address`;
  // An IPv4-mapped address in hex (::ffff:7f00:1) is refused whole: nothing legitimate writes one.
  if (family === 6 && /^::ffff:/i.test(ip)) return `${address} is an IPv4-mapped address`;
  return REFUSED.check(ip, family === 4 ? 'ipv4' : 'ipv6') ? `${address} is a loopback, private, link-local or reserved address` : null;
}

/** Why a name resolving to `addresses` may not receive (none, or any refused among them), or null. */
function refusedResolution(hostname: string, addresses: readonly { address: string }[]): string | null {
  if (!addresses.length) return `${hostname} has no address`;
  const refusal = addresses.map((a) => refusedAddress(a.address)).find((r) => r !== null);
  return refusal ? `${hostname} resolves to ${refusal.replace(/^\S+ is /, 'a ')}` : null;
}

/**
 * A DNS lookup for http.request that hands the socket only addresses that may receive: the
 * check and the connection use the same answer, so a name that resolves elsewhere the next
 * time (DNS rebinding) cannot slip past.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, family: options.family }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      if (!addresses.length) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      const refusal = allowPrivate ? null : refusedResolution(hostname, addresses);
      if (refusal) return callback(Object.assign(new Error(`refused: ${refusal}`), { code: 'EREFUSEDADDRESS' }), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Why a URL's host may not receive (an IP written in the URL is checked as it is; a name through DNS), or null. */
export async function refusedHost(hostname: string): Promise<string | null> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return refusedAddress(host);
  try {
    return refusedResolution(hostname, await dns.promises.lookup(host, { all: true }));
  } catch {
    return `${hostname} does not resolve`;
  }
}
