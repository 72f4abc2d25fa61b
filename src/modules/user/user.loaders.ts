import { rowLoader } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { UserEntity } from './user.entity';

export const userLoaders = (db: Database) => ({
  user: rowLoader(db, UserEntity, { table: 'users', column: 'id', type: 'text', property: 'id' }),
});
