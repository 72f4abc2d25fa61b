import { parse, type Filter } from 'scim2-parse-filter';
import { isUuid } from '../../../common/ids';
import { normalizeEmail } from '../../../common/email';
import type { SqlParams } from '../../../db/sql-params';
import { invalidFilter } from './scim.errors';

/*
 * SCIM filters (RFC 7644 §3.4.2.2), parsed by scim2-parse-filter and compiled to SQL whose every
 * value is a parameter: the only text written into the statement is the column of an attribute
 * this file names, and the operator. Attribute names are case-insensitive, and may carry their
 * schema's URN.
 */

/** How one attribute is compared. `email`: stored in the one form of src/common/email.ts, compared in it. */
export interface FilterAttribute {
  sql: string;
  kind: 'text' | 'email' | 'caseless' | 'boolean' | 'uuid';
}

/** A multi-valued complex attribute held as a jsonb array (emails): its sub-attributes. */
export interface FilterArray {
  sql: string;
  /** Sub-attribute name → the jsonb key and its kind. The first is what the bare name (`emails`) compares. */
  sub: Record<string, { key: string; kind: FilterAttribute['kind'] }>;
}

export interface FilterSchema {
  urn: string;
  attributes: Record<string, FilterAttribute>;
  arrays?: Record<string, FilterArray>;
  /** Sub-queries for a multi-valued attribute in another table (a group's members). */
  related?: Record<string, (op: string, value: string, params: SqlParams) => string>;
}

const LIKE_ESCAPE = /[\\%_]/g;
const likeValue = (value: string) => value.replace(LIKE_ESCAPE, (c) => `\\${c}`);

function comparable(kind: FilterAttribute['kind'], value: unknown, attribute: string): unknown {
  if (kind === 'boolean') {
    if (typeof value === 'boolean') return value;
    // Entra writes booleans as strings ("False").
    if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    throw invalidFilter(`${attribute} is compared with true or false`);
  }
  if (typeof value !== 'string') throw invalidFilter(`${attribute} is compared with a string`);
  if (value.includes('\u0000')) throw invalidFilter(`${attribute} is compared with a string without NUL characters`);
  // Not an address (a space, a control character): nothing stored equals it; ASCII letters lowered as stored ones are.
  if (kind === 'email') return normalizeEmail(value) ?? value.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
  if (kind === 'caseless') return value.toLowerCase();
  return value;
}

/** One comparison of a column or expression `sql`. */
function compare(sql: string, kind: FilterAttribute['kind'], op: string, value: unknown, attribute: string, params: SqlParams): string {
  if (op === 'pr') return `${sql} IS NOT NULL`;
  if (kind === 'uuid') {
    if (op !== 'eq' && op !== 'ne') throw invalidFilter(`${attribute} takes eq and ne only`);
    const match = typeof value === 'string' && isUuid(value) ? `${sql} = ${params.add(value)}::uuid` : 'false';
    return op === 'eq' ? match : `NOT (${match})`;
  }
  const column = kind === 'caseless' ? `lower(${sql})` : sql;
  const v = comparable(kind, value, attribute);
  if (kind === 'boolean' && op !== 'eq' && op !== 'ne') throw invalidFilter(`${attribute} takes eq and ne only`);
  switch (op) {
    case 'eq':
      return `${column} = ${params.add(v)}`;
    case 'ne':
      return `${column} IS DISTINCT FROM ${params.add(v)}`;
    case 'sw':
      return `${column} LIKE ${params.add(`${likeValue(String(v))}%`)}`;
    case 'ew':
      return `${column} LIKE ${params.add(`%${likeValue(String(v))}`)}`;
    case 'co':
      return `${column} LIKE ${params.add(`%${likeValue(String(v))}%`)}`;
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
      return `${column} ${{ gt: '>', ge: '>=', lt: '<', le: '<=' }[op]} ${params.add(v)}`;
    default:
      throw invalidFilter(`Unknown operator ${op}`);
  }
}

/** The attribute's name in lower case, without its schema's URN. */
function attributeName(path: string, schema: FilterSchema): string {
  const lower = path.toLowerCase();
  const urn = `${schema.urn.toLowerCase()}:`;
  return lower.startsWith(urn) ? lower.slice(urn.length) : lower;
}

/** `field`: the sub-attribute every comparison of `node` is on (`emails.value eq …`); null inside brackets, where each names its own. */
function compileArray(array: FilterArray, name: string, field: string | null, node: Filter, params: SqlParams): string {
  const inner = (filter: Filter, field: string | null): string => {
    switch (filter.op) {
      case 'and':
      case 'or':
        return `(${filter.filters.map((f) => inner(f, field)).join(` ${filter.op.toUpperCase()} `)})`;
      case 'not':
        return `NOT (${inner(filter.filter, field)})`;
      case '[]':
        throw invalidFilter('Nested value filters are not supported');
      default: {
        const key = (field ?? filter.attrPath).toLowerCase();
        const spec = array.sub[key];
        if (!spec) throw invalidFilter(`${name}.${key} cannot be filtered on`);
        return compare(`(e->>'${spec.key}')`, spec.kind, filter.op, filter.op === 'pr' ? null : filter.compValue, `${name}.${key}`, params);
      }
    }
  };
  return `EXISTS (SELECT 1 FROM jsonb_array_elements(${array.sql}) e WHERE ${inner(node, field)})`;
}

function compileNode(node: Filter, schema: FilterSchema, params: SqlParams): string {
  switch (node.op) {
    case 'and':
    case 'or':
      return `(${node.filters.map((f) => compileNode(f, schema, params)).join(` ${node.op.toUpperCase()} `)})`;
    case 'not':
      return `NOT (${compileNode(node.filter, schema, params)})`;
    case '[]': {
      const name = attributeName(node.attrPath, schema);
      const array = schema.arrays?.[name];
      if (!array) throw invalidFilter(`${node.attrPath} cannot be filtered on`);
      return compileArray(array, name, null, node.valFilter, params);
    }
    default: {
      const name = attributeName(node.attrPath, schema);
      const attribute = schema.attributes[name];
      if (attribute) return compare(attribute.sql, attribute.kind, node.op, node.op === 'pr' ? null : node.compValue, node.attrPath, params);
      const [head, sub] = name.split('.', 2);
      const array = schema.arrays?.[head];
      if (array) return compileArray(array, head, sub ?? Object.keys(array.sub)[0], node, params);
      const related = schema.related?.[name];
      if (related) {
        if (node.op !== 'eq' || typeof node.compValue !== 'string') throw invalidFilter(`${node.attrPath} takes eq with a string`);
        return related(node.op, node.compValue, params);
      }
      throw invalidFilter(`${node.attrPath} cannot be filtered on`);
    }
  }
}

/** The SQL condition of a SCIM filter; `invalidFilter` (400) for one that does not parse or names what cannot be filtered on. */
export function compileFilter(filter: string, schema: FilterSchema, params: SqlParams): string {
  let node: Filter;
  try {
    node = parse(filter);
  } catch (error) {
    throw invalidFilter(`The filter does not parse: ${(error as Error).message.slice(0, 200)}`);
  }
  return compileNode(node, schema, params);
}
