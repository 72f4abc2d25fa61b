import { rowLoader } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { SsoConnectionEntity } from './sso.entity';

export const ssoLoaders = (db: Database) => ({
  ssoConnection: rowLoader(db, SsoConnectionEntity, { table: 'sso_connections', column: 'organization_id', type: 'uuid', property: 'organizationId' }),
});
