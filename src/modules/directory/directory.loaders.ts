import { groupLoader, rowLoader } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { DirectoryGroupEntity, DirectoryTokenEntity } from './directory.entity';

export const directoryLoaders = (db: Database) => ({
  directoryToken: rowLoader(db, DirectoryTokenEntity, { table: 'directory_tokens', column: 'id', type: 'uuid', property: 'id' }),
  directoryTokens: groupLoader(db, DirectoryTokenEntity, {
    table: 'directory_tokens',
    column: 'organization_id',
    type: 'uuid',
    property: 'organizationId',
    orderBy: 'id',
  }),
  directoryGroup: rowLoader(db, DirectoryGroupEntity, { table: 'directory_groups', column: 'id', type: 'uuid', property: 'id' }),
  directoryGroups: groupLoader(db, DirectoryGroupEntity, {
    table: 'directory_groups',
    column: 'organization_id',
    type: 'uuid',
    property: 'organizationId',
    orderBy: 'display_name, id',
  }),
});
