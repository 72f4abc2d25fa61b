import { types } from 'pg';
import { parseTimestamptz } from './timestamps';

describe('parseTimestamptz', () => {
  // pg's own parser before ours replaced it: postgres-date.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const reference = require('postgres-date') as (text: string) => Date | number;

  it.each([
    '2026-11-22 11:28:41.123456+00',
    '2026-11-22 11:28:41+00',
    '2026-11-22 11:28:41.1+05:30',
    '2026-11-22 11:28:41.999999-03',
    '2026-11-22 11:28:41.123456+05:30:15',
    '0001-01-01 00:00:00+00',
    '9999-12-31 23:59:59.999999+00',
    '2000-02-29 12:00:00+14',
    '1969-12-31 23:59:59.5-12',
  ])('reads %s as pg does', (text) => {
    expect(parseTimestamptz(text).getTime()).toBe((reference(text) as Date).getTime());
  });

  it('leaves what ISO 8601 cannot say to pg: BC years and infinity', () => {
    expect(parseTimestamptz('0044-03-15 12:00:00+00 BC')).toEqual(reference('0044-03-15 12:00:00+00 BC'));
    expect(parseTimestamptz('infinity')).toBe(Infinity);
  });

  it('is the parser pg uses for timestamptz', () => {
    expect(types.getTypeParser(types.builtins.TIMESTAMPTZ)).toBe(parseTimestamptz);
  });
});
