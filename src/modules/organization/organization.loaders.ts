import type { Database } from '../../db/database';
import { rowLoader } from '../../common/pagination';
import { OrganizationEntity } from './organization.entity';

export const organizationLoaders = (db: Database) => ({
  organization: rowLoader(db, OrganizationEntity, { table: 'organizations', column: 'id', type: 'uuid', property: 'id' }),
  /** Keys are user ids. */
  personalOrganization: rowLoader(db, OrganizationEntity, {
    table: 'organizations',
    column: 'personal_owner_id',
    type: 'text',
    property: 'personalOwnerId',
  }),
});
