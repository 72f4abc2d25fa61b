import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/** An entity's table columns: database name → property name, and the class its rows become. */
interface EntityColumns {
  columns: [column: string, property: string][];
  prototype: object;
  /** Select lists and joined readers already built, by alias: the same few on every request. */
  built: Map<string, unknown>;
}

/** Filled once at start from TypeORM's metadata of the entities (`learnEntities`); requests only read it. */
const entities = new Map<unknown, EntityColumns>();

/** Reads every entity's columns from an initialized DataSource (the owner's, at start). */
export function learnEntities(dataSource: DataSource): void {
  for (const metadata of dataSource.entityMetadatas) {
    entities.set(metadata.target, {
      columns: metadata.columns.map((c) => [c.databaseName, c.propertyName]),
      prototype: (metadata.target as { prototype?: object }).prototype ?? Object.prototype,
      built: new Map(),
    });
  }
}

function columnsOf(entity: EntityTarget<ObjectLiteral>): EntityColumns {
  const found = entities.get(entity);
  if (!found) throw new Error(`${nameOf(entity)} is not a known entity: learnEntities runs at start (connectDatabase)`);
  return found;
}

const nameOf = (entity: EntityTarget<ObjectLiteral>): string => String((entity as { name?: string }).name ?? entity);

/** `build()` once per entity and `key`. */
function once<V>(entity: EntityTarget<ObjectLiteral>, key: string, build: (columns: EntityColumns) => V): V {
  const columns = columnsOf(entity);
  let value = columns.built.get(key) as V | undefined;
  if (value === undefined) columns.built.set(key, (value = build(columns)));
  return value;
}

/** A statement's rows as pg reads them with `rowMode: 'array'`: values by position, and the names of the columns. */
export interface RawRows {
  names: string[];
  rows: unknown[][];
}

/** Where each of the entity's properties is in rows of these columns (`prefix` + column name), built once per column list. */
function layoutOf(entity: EntityTarget<ObjectLiteral>, names: string[], prefix = ''): { prototype: object; at: [index: number, property: string][] } {
  return once(entity, `layout ${prefix} ${names.join(',')}`, ({ columns, prototype }) => {
    const at: [number, string][] = [];
    for (const [column, property] of columns) {
      const index = names.lastIndexOf(prefix + column); // as in pg's row objects, where a later column of the same name wins
      if (index >= 0) at.push([index, property]);
    }
    return { prototype, at };
  });
}

/**
 * Entities straight from rows read as arrays (`Database.queryRows`, pg's `rowMode: 'array'`): pg
 * builds no row object of its own for them to be copied from. Side by side with the object rows
 * (npm run bench -- --baseline, --scale 0.05, three runs), CPU ms per dashboard request at 10
 * connections 4.46 / 4.82, 4.35 / 4.75, 4.08 / 4.29 (-5 to -8%), at 1 connection -2 to -6%;
 * members page within the noise; in the profiles pg's row building and the copy: -0.7 s of 24 s.
 */
export function entitiesOf<T extends ObjectLiteral>(entity: EntityTarget<T>, raw: RawRows): T[] {
  const { prototype, at } = layoutOf(entity, raw.names);
  return raw.rows.map((row) => {
    const mapped: Record<string, unknown> = Object.create(prototype);
    for (const [index, property] of at) mapped[property] = row[index];
    return mapped as T;
  });
}

/** The entity's column names (`t."organization_id", …`), not `*`: a prepared statement must keep its result columns when a migration adds one. */
export function columnList(entity: EntityTarget<ObjectLiteral>, alias = ''): string {
  return once(entity, `list ${alias}`, ({ columns }) => columns.map(([column]) => `${alias}"${column}"`).join(', '));
}

/** What a statement selects (named columns, never `*`) and what its raw rows become. */
export interface RowReader<Row> {
  columns: string;
  read(raw: RawRows): Row[];
  /** The same reader, reading only these entity properties (see db/selection.ts: what an operation's fields read). */
  narrowTo?(properties: readonly string[]): RowReader<Row>;
}

/** `entity`'s rows, its table aliased `t`: whole, or only `properties` (a page whose selection reads no more). */
export function entityReader<T extends ObjectLiteral>(entity: EntityTarget<T>, properties?: readonly string[]): RowReader<T> {
  if (!properties) {
    return { columns: columnList(entity, 't.'), read: (raw) => entitiesOf(entity, raw), narrowTo: (wanted) => entityReader(entity, wanted) };
  }
  const columns = once(entity, `narrow ${properties.join(',')}`, ({ columns: all }) =>
    all.filter(([, property]) => properties.includes(property)).map(([column]) => `t."${column}"`).join(', '),
  );
  return { columns, read: (raw) => entitiesOf(entity, raw) };
}

/** An entity read along with another table's rows under a prefix (`o."id" AS "__o.id"`), and taken off such a row again. */
export interface JoinedEntity<T> {
  /** The select list: named columns, as a prepared statement needs. */
  select: string;
  /** The entity `row` carries, or null when the outer join found none. */
  from(row: Record<string, unknown>): T | null;
  /** The same for rows read as arrays with these column names. */
  reader(names: string[]): (row: unknown[]) => T | null;
}

/**
 * `entity`'s columns under `alias`, read as `prefix.column`: built once per process, not per request.
 * `onlyWhere`: a SQL condition outside which every column is NULL (the entity reads as none).
 */
export function joinedEntity<T extends ObjectLiteral>(entity: EntityTarget<T>, alias: string, prefix: string, onlyWhere?: string): JoinedEntity<T> {
  return once(entity, `joined ${alias} ${prefix} ${onlyWhere ?? ''}`, ({ columns, prototype }): JoinedEntity<T> => {
    const prefixed = columns.map(([column, property]) => [`${prefix}.${column}`, property] as const);
    const id = `${prefix}.id`;
    const value = (column: string) => (onlyWhere ? `CASE WHEN ${onlyWhere} THEN ${alias}."${column}" END` : `${alias}."${column}"`);
    return {
      select: columns.map(([column]) => `${value(column)} AS "${prefix}.${column}"`).join(', '),
      from(row) {
        if (row[id] === null || row[id] === undefined) return null;
        const found: Record<string, unknown> = Object.create(prototype);
        for (const [key, property] of prefixed) found[property] = row[key];
        return found as T;
      },
      reader(names) {
        const { at } = layoutOf(entity, names, `${prefix}.`);
        const idIndex = names.indexOf(id);
        return (row) => {
          if (row[idIndex] === null || row[idIndex] === undefined) return null;
          const found: Record<string, unknown> = Object.create(prototype);
          for (const [index, property] of at) found[property] = row[index];
          return found as T;
        };
      },
    };
  });
}
