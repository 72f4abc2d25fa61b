import { parseSchedule } from '../../common/durations';
import { loadConfig } from '../../config';
import { retryDelay } from '../../common/outbox';
import { refusedAddress } from './network';
import { parseRetryAfter } from './sender';

describe('the retry schedule', () => {
  it('is Standard Webhooks\' by default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(loadConfig({}).webhooks.retrySchedule).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(parseSchedule('100ms, 1.5s,2m')).toEqual([100, 1500, 120_000]);
    expect(parseSchedule('5s,soon')).toBeNull();
  });

  it('spreads each wait by at most 10% either way, and never answers sooner than Retry-After', () => {
    const schedule = parseSchedule('5s,5m,30m')!;
    expect(retryDelay(schedule, 1, { random: () => 0 })).toBe(4_500);
    expect(retryDelay(schedule, 1, { random: () => 1 })).toBe(5_500);
    expect(retryDelay(schedule, 2, { random: () => 0.5 })).toBe(300_000);
    // Past its end, the last step again.
    expect(retryDelay(schedule, 9, { random: () => 0.5 })).toBe(1_800_000);
    expect(retryDelay(schedule, 1, { random: () => 0.5, notBeforeMs: 60_000 })).toBe(60_000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 1)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(60_000);
    expect(parseRetryAfter('later')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
  });
});

describe('addresses that may not receive webhooks', () => {
  it.each(['127.0.0.1', '127.1.2.3', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.100.100.200', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '224.0.0.1',
    // IPv4 inside IPv6: IPv4-compatible (::/96), local-use NAT64 (64:ff9b:1::/48), 6to4 (2002::/16).
    '::127.0.0.1', '::7f00:1', '::a9fe:a9fe', '64:ff9b:1::7f00:1', '64:ff9b:1:ffff::a00:1', '2002:7f00:1::1', '2002:a9fe:a9fe::1'])(
    '%s is refused',
    (address) => expect(refusedAddress(address)).not.toBeNull(),
  );
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s may receive', (address) => expect(refusedAddress(address)).toBeNull());
});
