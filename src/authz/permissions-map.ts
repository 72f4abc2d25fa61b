import { allow, deny, shield } from 'graphql-shield';
import { forbidden } from '../errors';
import { argument, inOrganization, isAuthenticated, isUser, organizationOfMembership, parentId } from './rules';
import { Permission } from './permissions';

const can = (permission: Permission, locate: Parameters<typeof inOrganization>[1]['locate'], where: string) =>
  inOrganization(`${permission}@${where}`, { need: permission, locate });

const orgMember = inOrganization('member@Organization', { need: 'member', locate: parentId });
const orgNonGuest = inOrganization('nonGuest@Organization', { need: 'nonGuest', locate: parentId });

/**
 * Who may read which field and call which operation. Anything not named here is denied
 * (fallbackRule). Rules gate access; invariants that span rows (last owner, escalation)
 * are enforced again by the services inside their transactions.
 */
export const permissions = shield(
  {
    Query: {
      _service: allow,
      _entities: allow,
      viewer: isUser,
      organization: isAuthenticated,
      organizationBySlug: isAuthenticated,
    },
    Mutation: {
      createOrganization: isUser,
      updateOrganization: can(Permission.ORGANIZATION_UPDATE, argument('input', 'id'), 'updateOrganization'),
      deleteOrganization: can(Permission.ORGANIZATION_DELETE, argument('id'), 'deleteOrganization'),
      transferOwnership: can(Permission.OWNERSHIP_TRANSFER, argument('organizationId'), 'transferOwnership'),
      switchOrganization: inOrganization('member@switchOrganization', { need: 'member', locate: argument('organizationId') }),
      updateMembership: can(Permission.MEMBERS_MANAGE, organizationOfMembership('input', 'membershipId'), 'updateMembership'),
      removeMember: can(Permission.MEMBERS_MANAGE, organizationOfMembership('membershipId'), 'removeMember'),
      leaveOrganization: inOrganization('member@leaveOrganization', { need: 'member', locate: argument('organizationId') }),
    },
    Organization: {
      // A GUEST sees the organization's id, slug and name, and its own role; nothing else.
      '*': orgNonGuest,
      id: orgMember,
      slug: orgMember,
      name: orgMember,
      viewerRole: orgMember,
      viewerPermissions: orgMember,
      members: can(Permission.MEMBERS_READ, parentId, 'Organization.members'),
      auditEvents: can(Permission.AUDIT_READ, parentId, 'Organization.auditEvents'),
    },
    // Reached only through a field or operation gated above, or a reference resolver that checks.
    Membership: isAuthenticated,
    MembershipConnection: allow,
    MembershipEdge: allow,
    Viewer: isUser,
    User: isAuthenticated,
    AuditEvent: isAuthenticated,
    AuditEventConnection: allow,
    AuditEventEdge: allow,
    AuditActor: allow,
    AuditTarget: allow,
    PageInfo: allow,
    _Service: allow,
  },
  {
    fallbackRule: deny,
    fallbackError: () => forbidden(),
    allowExternalErrors: true,
    debug: false,
  },
);
