import { badInput } from '../../errors';

/** An event type (`member.removed`, a partner's `model-proxy.model.invoked`), or a family of them: a prefix ending in `.*`. */
const TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}(\.[a-z][a-z0-9_]*){0,2}(\.\*)?$/;
const MAX_TYPES = 50;

/** A list of event types to match: exact names and families (`member.*`). Empty: every type. */
export interface TypeFilter {
  exact: string[];
  /** The families' prefixes, dot included (`member.`). */
  prefixes: string[];
}

/** Validates a list of event types (`types`, `eventTypes`) once, for the feed and for webhook endpoints alike. */
export function parseTypeFilter(field: string, types: readonly string[] | null | undefined): TypeFilter {
  const list = [...new Set((types ?? []).map((t) => t.trim()))];
  if (list.length > MAX_TYPES) throw badInput(field, `${field} takes at most ${MAX_TYPES} event types`);
  const bad = list.find((t) => t.length > 200 || !TYPE_PATTERN.test(t) || t.split('.').length < 2);
  if (bad !== undefined) {
    throw badInput(field, `"${bad.slice(0, 100)}" is not an event type: give a type such as member.removed, or a family such as member.*`);
  }
  return { exact: list.filter((t) => !t.endsWith('.*')), prefixes: list.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1)) };
}

/** The filter as the list stored and shown (families with their `.*`). */
export const typeList = (filter: TypeFilter): string[] => [...filter.exact, ...filter.prefixes.map((p) => `${p}*`)];

/** `%`, `_` and `\` taken literally by LIKE. */
export const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
