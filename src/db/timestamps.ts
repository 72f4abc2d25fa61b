import { types } from 'pg';

// postgres-date (pg's default) parses with a regular expression; timestamps are ~2,500 of the
// values of a dashboard answer and that parser showed in profiles.
const parseWithRegex = types.getTypeParser(types.builtins.TIMESTAMPTZ);

/**
 * `2026-11-22 11:28:41.123456+00` (PostgreSQL's ISO output) → a Date, through the engine's own
 * ISO 8601 parser. Anything it cannot read (BC years, infinity) takes pg's parser.
 */
export function parseTimestamptz(text: string): Date {
  const sign = text.charCodeAt(text.length - 3);
  // An offset of whole hours (`+00`) needs its minutes to be ISO 8601.
  const iso = `${text.slice(0, 10)}T${text.slice(11)}${sign === 43 || sign === 45 ? ':00' : ''}`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? (parseWithRegex(text) as Date) : date;
}

types.setTypeParser(types.builtins.TIMESTAMPTZ, parseTimestamptz);
