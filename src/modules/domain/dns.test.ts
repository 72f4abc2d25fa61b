import dgram from 'node:dgram';
import { findTxt, parseDnsServers } from './dns';

describe('DNS lookups', () => {
  it('DNS_SERVERS takes IP addresses with optional ports, nothing else', () => {
    expect(parseDnsServers(undefined)).toBeNull();
    expect(parseDnsServers(' 1.1.1.1, 127.0.0.1:5353 ,[::1]:53')).toEqual(['1.1.1.1', '127.0.0.1:5353', '[::1]:53']);
    expect(() => parseDnsServers('dns.google')).toThrow();
  });

  it('a DNS server that never answers is DNS_LOOKUP_FAILED, not a missing record', async () => {
    // A UDP socket that reads queries and answers none: a real server that is down in the way that matters.
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const lookup = await findTxt([`127.0.0.1:${silent.address().port}`], '_orgs-verification.acme.test', 'orgs-verification=x');
      expect(lookup).toMatchObject({ found: false, reason: 'DNS_LOOKUP_FAILED' });
    } finally {
      silent.close();
    }
  }, 20_000);
});
