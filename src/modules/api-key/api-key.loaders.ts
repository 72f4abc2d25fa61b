import { childCountLoader, childPageLoader, rowLoader } from '../../common/pagination';
import type { Database } from '../../db/database';
import { ApiKeyEntity } from './api-key.entity';

const KEYS_OF_ORGANIZATION = { from: 'api_keys t', parentColumn: 't.organization_id', parentType: 'uuid' as const };

export const apiKeyLoaders = (db: Database) => ({
  apiKey: rowLoader(db, ApiKeyEntity, { table: 'api_keys', column: 'id', type: 'uuid', property: 'id' }),
  apiKeysPage: childPageLoader<ApiKeyEntity, null>(db, ApiKeyEntity, Object.assign({}, KEYS_OF_ORGANIZATION, { order: 'DESC' as const })),
  apiKeysCount: childCountLoader<null>(db, KEYS_OF_ORGANIZATION),
});
