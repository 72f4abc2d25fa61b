import { rowLoader } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { ByokCredentialsEntity } from './byok.entity';

export const byokLoaders = (db: Database) => ({
  byokStatus: rowLoader(db, ByokCredentialsEntity, { table: 'byok_credentials', column: 'organization_id', type: 'uuid', property: 'organizationId' }),
});
