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
    '2026-11-22 11:28:41.5+00',
    '2026-11-22 11:28:41.12+00',
    '2026-11-22 11:28:41.000001+00',
    '2026-11-22 11:28:41.999999+00',
    '0050-06-01 10:00:00+00',
    '0100-03-01 00:00:00.25+00',
    '1600-02-29 12:00:00+00',
    '1900-03-01 00:00:00+00',
    '1970-01-01 00:00:00+00',
    '2024-02-29 23:59:59.999+00',
  ])('reads %s as pg does', (text) => {
    expect(parseTimestamptz(text).getTime()).toBe((reference(text) as Date).getTime());
  });

  it('reads every day of four centuries, and every millisecond, as the ISO parser does', () => {
    const iso = (text: string) => new Date(`${text.slice(0, 10)}T${text.slice(11, -3)}Z`).getTime();
    for (let day = Date.UTC(1800, 0, 1); day < Date.UTC(2200, 0, 1); day += 86_400_000) {
      const text = `${new Date(day).toISOString().slice(0, 10)} 23:59:58.5+00`;
      expect(parseTimestamptz(text).getTime()).toBe(iso(text));
    }
    for (let ms = 0; ms < 1000; ms++) {
      const text = `2026-11-22 11:28:41.${String(ms).padStart(3, '0')}${String(ms % 1000).padStart(3, '0')}+00`;
      expect(parseTimestamptz(text).getTime()).toBe(iso(text));
    }
  });

  it('leaves what ISO 8601 cannot say to pg: BC years and infinity', () => {
    expect(parseTimestamptz('0044-03-15 12:00:00+00 BC')).toEqual(reference('0044-03-15 12:00:00+00 BC'));
    expect(parseTimestamptz('infinity')).toBe(Infinity);
  });

  it('is the parser pg uses for timestamptz', () => {
    expect(types.getTypeParser(types.builtins.TIMESTAMPTZ)).toBe(parseTimestamptz);
  });
});
