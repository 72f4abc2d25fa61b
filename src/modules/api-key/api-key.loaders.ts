import { childCountsLoader, childPagesLoader, rowLoader, type ChildList } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { entityReader } from '../../db/entity-rows';
import { ApiKeyEntity } from './api-key.entity';

/** An organization's API keys, newest first. */
const KEYS_OF_ORGANIZATION: ChildList<null> = { from: 'api_keys t', parentColumn: 't.organization_id', parentType: 'uuid', order: 'DESC' };

export const apiKeyLoaders = (db: Database) => ({
  apiKey: rowLoader(db, ApiKeyEntity, { table: 'api_keys', column: 'id', type: 'uuid', property: 'id' }),
  apiKeysPage: childPagesLoader(db, KEYS_OF_ORGANIZATION, entityReader(ApiKeyEntity)),
  apiKeysCount: childCountsLoader(db, KEYS_OF_ORGANIZATION),
});
