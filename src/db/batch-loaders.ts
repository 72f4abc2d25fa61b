import DataLoader from 'dataloader';
import type { EntityTarget, ObjectLiteral } from 'typeorm';
import { isUuid } from '../common/ids';
import type { Page } from '../common/page';
import type { Database } from './database';
import { columnList, type RowReader } from './entity-rows';
import { SqlParams } from './sql-params';

/**
 * The DataLoaders of every module's repository (`*.loaders.ts`), over the request's handle:
 * rows by a key, rows grouped by a key, and pages and counts of children for many parents.
 * Each batch is one statement with the keys as one array parameter, prepared (see
 * Database.query), so the statements an operation costs follow its depth, not its rows.
 */

/** A loader of rows by a unique column: one `= ANY($1)` statement per batch, results in key order. */
export function rowLoader<T extends ObjectLiteral>(
  db: Database,
  entity: EntityTarget<T>,
  options: { table: string; column: string; type: 'uuid' | 'text'; property: keyof T; where?: string; params?: unknown[]; cache?: boolean },
): DataLoader<string, T | null> {
  return new DataLoader(async (keys) => {
    const wanted = options.type === 'uuid' ? keys.filter(isUuid) : [...keys];
    if (!wanted.length) return keys.map(() => null);
    const extra = options.where ? ` AND ${options.where}` : '';
    const rows = await db.select(
      entity,
      `SELECT ${columnList(entity)} FROM ${options.table} WHERE ${options.column} = ANY($1::${options.type}[])${extra}`,
      [wanted, ...(options.params ?? [])],
      { prepare: true },
    );
    const byKey = new Map(rows.map((row) => [String(row[options.property]), row]));
    return keys.map((key) => byKey.get(key) ?? null);
  }, { cache: options.cache ?? true });
}

/** All rows sharing a column value, for many values at once: one `= ANY($1)` statement, in `orderBy` order. */
export function groupLoader<T extends ObjectLiteral>(
  db: Database,
  entity: EntityTarget<T>,
  options: { table: string; column: string; type: 'uuid' | 'text'; property: keyof T; orderBy: string },
): DataLoader<string, T[]> {
  return new DataLoader(async (keys) => {
    const wanted = options.type === 'uuid' ? keys.filter(isUuid) : [...keys];
    const rows = wanted.length
      ? await db.select(entity, `SELECT ${columnList(entity)} FROM ${options.table} WHERE ${options.column} = ANY($1::${options.type}[]) ORDER BY ${options.orderBy}`, [wanted], {
          prepare: true,
        })
      : [];
    const groups = new Map<string, T[]>();
    for (const row of rows) pushTo(groups, String(row[options.property]), row);
    return keys.map((key) => groups.get(key) ?? []);
  });
}

/** The children of a parent, as one LATERAL subquery per parent `p.parent_id` reads them. */
export interface ChildList<F> {
  /** Table (and joins) of the children, the child table aliased `t`. */
  from: string;
  /** Column holding the parent's id, and its SQL type. */
  parentColumn: string;
  parentType: 'uuid' | 'text';
  /** Newest first (`DESC`) or oldest first (`ASC`), by `t.id`. */
  order: 'ASC' | 'DESC';
  /** Extra conditions on the children for a filter, as SQL using `params`. */
  where?: (filter: F, params: SqlParams) => string[];
  /**
   * For lists where one parent may hold nearly every row (a big organization's audit events):
   * read through the (parent column, id) index, not the primary key. Expecting a page to be
   * found at once, the planner would walk the primary key and skip every newer row of the
   * other parents: 88 ms instead of 1.9 ms (EXPLAIN ANALYZE) for a first page behind 20,000
   * events of another organization. A selective filter may still lead it elsewhere.
   */
  throughParentIndex?: boolean;
  /**
   * For filters whose selectivity depends on their values (a search, an audit action, a date
   * range): a filtered page is planned for its values every time instead of running a kept plan.
   */
  planEachFilter?: boolean;
}

export interface PageKey<F> {
  parentId: string;
  page: Page;
  filter: F;
  /** Only these properties of each row (db/selection.ts), when the reader can narrow; else whole rows. */
  properties?: readonly string[];
}

/**
 * Pages of children for many parents at once — an organization's members for 50
 * organizations — in one statement per distinct page and filter: a LATERAL keyset scan per
 * parent, so the cost follows the page size, not the size of the tables. `rows` names the
 * columns read and what each row becomes; a page key's `properties` narrow it.
 */
export function childPagesLoader<Row, F>(db: Database, list: ChildList<F>, rows: RowReader<Row>): DataLoader<PageKey<F>, Row[], string> {
  // `= ANY(ARRAY[…])` keeps the parent column in the ORDER BY (an equality would make it constant), which only its index can follow.
  const parentMatch = list.throughParentIndex ? `${list.parentColumn} = ANY(ARRAY[p.parent_id])` : `${list.parentColumn} = p.parent_id`;
  const order = list.throughParentIndex ? `${list.parentColumn} ${list.order}, t.id ${list.order}` : `t.id ${list.order}`;
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, PageKey<F>[]>();
      for (const key of keys) pushTo(groups, JSON.stringify([key.page, key.filter]), key);
      const results = new Map<PageKey<F>, Row[]>();
      for (const group of groups.values()) {
        const { page, filter } = group[0];
        // One statement for the pages asked with different fields: what any of them reads.
        const properties = group.every((k) => k.properties) ? [...new Set(group.flatMap((k) => k.properties!))].sort() : undefined;
        const reader = properties && rows.narrowTo ? rows.narrowTo(properties) : rows;
        const params = new SqlParams();
        // A parent asked twice (two aliases with different fields) is read once.
        const parents = params.add([...new Set(group.map((k) => k.parentId))]);
        const filtering = list.where?.(filter, params) ?? [];
        const conditions = [parentMatch, ...filtering];
        if (page.afterId) conditions.push(`t.id ${list.order === 'ASC' ? '>' : '<'} ${params.add(page.afterId)}::uuid`);
        const raw = await db.queryRows(
          `SELECT p.parent_id AS __parent, c.* FROM unnest(${parents}::${list.parentType}[]) AS p(parent_id)
           CROSS JOIN LATERAL (
             SELECT ${reader.columns} FROM ${list.from}
             WHERE ${conditions.join(' AND ')}
             ORDER BY ${order} LIMIT ${params.add(page.first + 1)}
           ) c`,
          params.values,
          { prepare: !(list.planEachFilter && filtering.length) },
        );
        const byParent = new Map<string, Row[]>();
        const read = reader.read(raw);
        const parent = raw.names.indexOf('__parent');
        raw.rows.forEach((row, i) => pushTo(byParent, String(row[parent]), read[i]));
        for (const key of group) results.set(key, byParent.get(key.parentId) ?? []);
      }
      return keys.map((key) => results.get(key) ?? []);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.parentId, key.page, key.filter, key.properties]) },
  );
}

/** Counts of children per parent, one `GROUP BY` statement per distinct filter. */
export function childCountsLoader<F>(db: Database, list: ChildList<F>): DataLoader<{ parentId: string; filter: F }, number, string> {
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, { parentId: string; filter: F }[]>();
      for (const key of keys) pushTo(groups, JSON.stringify(key.filter), key);
      const counts = new Map<string, number>();
      for (const group of groups.values()) {
        const params = new SqlParams();
        const parents = params.add(group.map((k) => k.parentId));
        const filtering = list.where?.(group[0].filter, params) ?? [];
        const conditions = [`${list.parentColumn} = ANY(${parents}::${list.parentType}[])`, ...filtering];
        const rows = await db.query<{ parent: string; count: string }>(
          `SELECT ${list.parentColumn} AS parent, count(*) AS count FROM ${list.from} WHERE ${conditions.join(' AND ')} GROUP BY 1`,
          params.values,
          { prepare: !(list.planEachFilter && filtering.length) },
        );
        for (const row of rows) counts.set(JSON.stringify([String(row.parent), group[0].filter]), Number(row.count));
      }
      return keys.map((key) => counts.get(JSON.stringify([key.parentId, key.filter])) ?? 0);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.parentId, key.filter]) },
  );
}

/** Appends to the list under `key` (in place: copying it on every row made lists quadratic). */
function pushTo<K, V>(lists: Map<K, V[]>, key: K, value: V): void {
  const list = lists.get(key);
  if (list) list.push(value);
  else lists.set(key, [value]);
}
