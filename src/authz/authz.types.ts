import { registerEnumType } from 'type-graphql';
import { Assignment, OrganizationRole, Permission, WorkspaceRole } from './permissions';

registerEnumType(Permission, { name: 'Permission', description: 'The permission catalog: every authorization rule is written against it.' });
registerEnumType(OrganizationRole, { name: 'OrganizationRole' });
registerEnumType(Assignment, { name: 'Assignment', description: 'Grants added to a member\'s role.' });
registerEnumType(WorkspaceRole, { name: 'WorkspaceRole', description: 'A member\'s role inside one workspace.' });
