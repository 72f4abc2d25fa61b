import DataLoader from 'dataloader';
import { Kind, type GraphQLResolveInfo, type SelectionNode } from 'graphql';
import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { Database } from '../db/database';
import { columnList, mapRows, propertyOf } from '../db/entity-rows';
import { SqlParams } from '../db/sql-params';
import { isUuid } from './ids';
import type { Page } from './page';

export { isUuid } from './ids';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageArgs, toPage, encodeCursor, type Page } from './page';
export { Connection, PageInfo, toConnection, type ConnectionValue, type Edge } from './connection';
export { SqlParams } from '../db/sql-params';

export interface PageKey<F> {
  parentId: string;
  page: Page;
  filter: F;
  /** The fields asked of each child (nodeFields): a page asking only for its query's `lean.fields` reads only `lean.columns`. */
  fields?: ReadonlySet<string>;
}

const nodeFieldsOf = new WeakMap<GraphQLResolveInfo['fieldNodes'], ReadonlySet<string>>();

/**
 * The fields a query asks of a connection's nodes, through `nodes` or `edges { node }`,
 * fragments included (whatever their type condition or directives: a superset is safe).
 * Kept per request's field: graphql-js hands every item of a list the same `fieldNodes`, so a
 * dashboard works it out once for its 20 organizations' members. Never key it by a FieldNode
 * across requests: a same-named sibling under @include can add fields in one and not another.
 */
export function nodeFields(info: GraphQLResolveInfo): ReadonlySet<string> {
  let fields = nodeFieldsOf.get(info.fieldNodes);
  if (!fields) {
    const found = new Set<string>();
    // Each fragment once per walk, as graphql-js's collectFields does: fragments spreading each other twice would otherwise cost 2^N.
    const eachField = (
      selections: readonly SelectionNode[] | undefined,
      visit: (name: string, selections: readonly SelectionNode[] | undefined) => void,
      spread = new Set<string>(),
    ): void => {
      for (const selection of selections ?? []) {
        if (selection.kind === Kind.FIELD) visit(selection.name.value, selection.selectionSet?.selections);
        else if (selection.kind === Kind.INLINE_FRAGMENT) eachField(selection.selectionSet.selections, visit, spread);
        else if (!spread.has(selection.name.value)) {
          spread.add(selection.name.value);
          eachField(info.fragments[selection.name.value]?.selectionSet.selections, visit, spread);
        }
      }
    };
    const addAll = (selections: readonly SelectionNode[] | undefined) => eachField(selections, (name) => found.add(name));
    for (const fieldNode of info.fieldNodes) {
      eachField(fieldNode.selectionSet?.selections, (name, selections) => {
        if (name === 'nodes') addAll(selections);
        if (name === 'edges') eachField(selections, (edgeField, nodeSelections) => edgeField === 'node' && addAll(nodeSelections));
      });
    }
    nodeFieldsOf.set(info.fieldNodes, (fields = found));
  }
  return fields;
}

export interface ChildListQuery<F, T = unknown> {
  /** Table (and joins) of the children, the child table aliased `t`. */
  from: string;
  /** Column of `t` holding the parent's id, and its SQL type. */
  parentColumn: string;
  parentType: 'uuid' | 'text';
  /** Newest first (`DESC`) or oldest first (`ASC`), by `t.id`. */
  order: 'ASC' | 'DESC';
  /** Extra conditions on the children for a filter, as SQL using `params`. */
  where?: (filter: F, params: SqlParams) => string[];
  /** Columns of joined tables to read along (`u.email AS user_email`), handed to `attach` with each child. */
  joined?: { columns: string; attach: (child: T, row: Record<string, unknown>) => void };
  /**
   * The few columns that answer `fields` of the child type, read instead of `t.*` when a page
   * asks for nothing else: a dashboard's members and workspaces then decode half the values.
   * Named as the entity names them (`t.user_id AS "userId"`), `t.id` and the parent column
   * among them, so that the rows serve as they come. Such children are partial plain objects:
   * never prime another loader with them.
   */
  lean?: { columns: string; fields: ReadonlySet<string> };
  /**
   * One parent may hold nearly every row (a big organization's audit events): read through the
   * (parent column, id) index, not the primary key. Expecting a page to be found at once, the
   * planner would walk the primary key and skip every newer row of the other parents: 88 ms
   * instead of 1.9 ms (EXPLAIN ANALYZE) for a first page behind 20,000 events of another
   * organization. A selective filter may still lead it elsewhere.
   */
  skewed?: boolean;
  /**
   * How selective the filter is depends on its values (a search, an audit action, a date range):
   * a filtered page is planned for its values every time instead of running a kept plan.
   */
  planEachFilter?: boolean;
}

/**
 * Pages of children for many parents at once — an organization's members for 50
 * organizations — in one statement per distinct set of arguments: a LATERAL keyset scan
 * per parent, so the cost follows the page size, not the size of the tables.
 */
export function childPageLoader<T extends ObjectLiteral & { id: string }, F>(
  db: Database,
  entity: EntityTarget<T>,
  query: ChildListQuery<F, T>,
): DataLoader<PageKey<F>, T[], string> {
  // A parent column of `t` comes back with each row; another table's is read once more.
  const parentKey = query.parentColumn.startsWith('t.') ? query.parentColumn.slice(2) : '__parent';
  const columnsFor = (own: string) => [own, query.joined?.columns, parentKey === '__parent' ? 'p.parent_id AS __parent' : null].filter(Boolean).join(', ');
  const columns = { full: columnsFor(columnList(entity, 't.')), lean: query.lean ? columnsFor(query.lean.columns) : null };
  const isLean = (key: PageKey<F>): boolean => {
    if (!query.lean || !key.fields) return false;
    for (const field of key.fields) if (!query.lean.fields.has(field)) return false;
    return true;
  };
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, PageKey<F>[]>();
      for (const key of keys) {
        pushTo(groups, JSON.stringify([key.page, key.filter]), key);
      }
      const results = new Map<PageKey<F>, T[]>();
      for (const group of groups.values()) {
        const { page, filter } = group[0];
        // One statement per page: in full if any of its loads asks for more than the lean fields.
        const selected = group.every(isLean) ? columns.lean : columns.full;
        const params = new SqlParams();
        // A lean and a full load of one parent's page share its rows.
        const parents = params.add([...new Set(group.map((k) => k.parentId))]);
        // `= ANY(ARRAY[…])` keeps the parent column in the ORDER BY (an equality would make it constant), which only its index can follow.
        const parentMatch = query.skewed ? `${query.parentColumn} = ANY(ARRAY[p.parent_id])` : `${query.parentColumn} = p.parent_id`;
        const order = query.skewed ? `${query.parentColumn} ${query.order}, t.id ${query.order}` : `t.id ${query.order}`;
        const filtering = query.where?.(filter, params) ?? [];
        const conditions = [parentMatch, ...filtering];
        if (page.afterId) conditions.push(`t.id ${query.order === 'ASC' ? '>' : '<'} ${params.add(page.afterId)}::uuid`);
        const rows = await db.query(
          `SELECT c.* FROM unnest(${parents}::${query.parentType}[]) AS p(parent_id)
           CROSS JOIN LATERAL (
             SELECT ${selected} FROM ${query.from}
             WHERE ${conditions.join(' AND ')}
             ORDER BY ${order} LIMIT ${params.add(page.first + 1)}
           ) c`,
          params.values,
          { prepare: !(query.planEachFilter && filtering.length) },
        );
        const byParent = new Map<string, T[]>();
        const lean = selected === columns.lean;
        const mapped = lean ? (rows as T[]) : mapRows(entity, rows);
        const parent = lean && parentKey !== '__parent' ? propertyOf(entity, parentKey) : parentKey;
        rows.forEach((row, i) => {
          query.joined?.attach(mapped[i], row);
          pushTo(byParent, String(row[parent]), mapped[i]);
        });
        for (const key of group) results.set(key, byParent.get(key.parentId) ?? []);
      }
      return keys.map((key) => results.get(key) ?? []);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.parentId, key.page, key.filter, isLean(key)]) },
  );
}

/** Counts of children per parent, one `GROUP BY` statement per distinct filter. */
export function childCountLoader<F>(db: Database, query: Pick<ChildListQuery<F>, 'from' | 'parentColumn' | 'parentType' | 'where' | 'planEachFilter'>): DataLoader<{ parentId: string; filter: F }, number, string> {
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, { parentId: string; filter: F }[]>();
      for (const key of keys) {
        pushTo(groups, JSON.stringify(key.filter), key);
      }
      const counts = new Map<string, number>();
      for (const group of groups.values()) {
        const params = new SqlParams();
        const parents = params.add(group.map((k) => k.parentId));
        const filtering = query.where?.(group[0].filter, params) ?? [];
        const conditions = [`${query.parentColumn} = ANY(${parents}::${query.parentType}[])`, ...filtering];
        const rows = await db.query<{ parent: string; count: string }>(
          `SELECT ${query.parentColumn} AS parent, count(*) AS count FROM ${query.from} WHERE ${conditions.join(' AND ')} GROUP BY 1`,
          params.values,
          { prepare: !(query.planEachFilter && filtering.length) },
        );
        for (const row of rows) counts.set(JSON.stringify([String(row.parent), group[0].filter]), Number(row.count));
      }
      return keys.map((key) => counts.get(JSON.stringify([key.parentId, key.filter])) ?? 0);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.parentId, key.filter]) },
  );
}

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
export function groupLoader<T extends ObjectLiteral & { id: string }>(
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

/** Appends to the list under `key` (in place: copying it on every row made lists quadratic). */
function pushTo<K, V>(lists: Map<K, V[]>, key: K, value: V): void {
  const list = lists.get(key);
  if (list) list.push(value);
  else lists.set(key, [value]);
}
