import { registerEnumType } from 'type-graphql';
import { Assignment, OrganizationRole, Permission } from './permissions';

registerEnumType(Permission, { name: 'Permission', description: 'The permission catalog: every authorization rule is written against it.' });
registerEnumType(OrganizationRole, { name: 'OrganizationRole' });
registerEnumType(Assignment, { name: 'Assignment', description: 'Grants added to a member\'s role.' });
