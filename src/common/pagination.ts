import type { EntityTarget, ObjectLiteral } from 'typeorm';
import { childPagesLoader, type ChildList } from '../db/batch-loaders';
import type { Database } from '../db/database';
import { entityReader } from '../db/entity-rows';

/*
 * The old home of what is now split into common/ids.ts, common/page.ts, common/connection.ts,
 * db/sql-params.ts and db/batch-loaders.ts, kept only for the files that were being written
 * while it was split (webhook, event, and three services). Import from those files instead;
 * delete this one when nothing imports it.
 */
export { isUuid } from './ids';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageArgs, toPage } from './page';
export { Connection, PageInfo, toConnection } from './connection';
export { SqlParams } from '../db/sql-params';
export { rowLoader } from '../db/batch-loaders';

/** childPagesLoader of an entity's whole rows, its `throughParentIndex` under its old name `skewed`. */
export function childPageLoader<T extends ObjectLiteral, F>(db: Database, entity: EntityTarget<T>, list: Omit<ChildList<F>, 'throughParentIndex'> & { skewed?: boolean }) {
  return childPagesLoader(db, Object.assign({}, list, { throughParentIndex: list.skewed }), entityReader(entity));
}
