import { rowLoader } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { OrganizationEntity } from './organization.entity';

export const organizationLoaders = (db: Database) => ({
  organization: rowLoader(db, OrganizationEntity, { table: 'organizations', column: 'id', type: 'uuid', property: 'id' }),
  /** A user's PERSONAL organization, by user id (organizations.personal_owner_id). */
  personalOrganization: rowLoader(db, OrganizationEntity, {
    table: 'organizations',
    column: 'personal_owner_id',
    type: 'text',
    property: 'personalOwnerId',
  }),
});
