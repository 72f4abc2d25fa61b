import { groupLoader, rowLoader } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { OrganizationDomainEntity } from './domain.entity';

export const domainLoaders = (db: Database) => ({
  organizationDomain: rowLoader(db, OrganizationDomainEntity, { table: 'organization_domains', column: 'id', type: 'uuid', property: 'id' }),
  organizationDomains: groupLoader(db, OrganizationDomainEntity, {
    table: 'organization_domains',
    column: 'organization_id',
    type: 'uuid',
    property: 'organizationId',
    orderBy: 'domain, id',
  }),
});
