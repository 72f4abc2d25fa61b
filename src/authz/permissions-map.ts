import { allow, type PermissionMap, type PermissionOptions } from './apply';
import { forbidden } from '../errors';
import {
  argument,
  hasScope,
  inOrganization,
  inWorkspace,
  isAuthenticated,
  isRouter,
  isUser,
  manageWebhooks,
  organizationOfApiKey,
  organizationOfDirectoryGroup,
  organizationOfDirectoryToken,
  organizationOfDomain,
  organizationOfInvitation,
  organizationOfJoinRequest,
  organizationOfMembership,
  organizationNameVisible,
  organizationOfParent,
  organizationOfRole,
  ownerOfDelivery,
  ownerOfEndpoint,
  ownerOfNewEndpoint,
  parentId,
  ruleFailure,
} from './rules';
import { ORGANIZATION_WEBHOOKS, Permission } from './permissions';

type Locate = Parameters<typeof inOrganization>[1]['locate'];

/** `permission` in the organization `locate` finds; API keys may use it within their scopes. */
const can = (permission: Permission, locate: Locate, where: string, subject?: string) =>
  inOrganization(`${permission}@${where}`, { need: permission, locate, subject });

/** Like `can`, for what only a person may do: never an API key, whatever its scopes. */
const personCan = (permission: Permission | readonly Permission[] | 'member', locate: Locate, where: string, subject?: string) =>
  inOrganization(`person:${[permission].flat().join('+')}@${where}`, { need: permission, locate, peopleOnly: true, subject });

const orgMember = inOrganization('member@Organization', { need: 'member', locate: parentId });
const orgNonGuest = inOrganization('nonGuest@Organization', { need: 'nonGuest', locate: parentId });

/**
 * Who may read which field and call which operation. Anything not named here is denied
 * (PERMISSION_OPTIONS.denied). Rules gate access; invariants that span rows (last owner, escalation)
 * are enforced again by the services inside their transactions.
 */
export const permissions: PermissionMap = {
    Query: {
      _service: isRouter,
      _entities: allow,
      viewer: isUser,
      organization: isAuthenticated,
      organizationBySlug: isAuthenticated,
      workspace: isAuthenticated,
      byokCredentials: hasScope('byok:read'),
      ssoConnection: hasScope('sso:read'),
      ssoRoute: hasScope('sso:read'),
      events: hasScope('events:read'),
      authorize: hasScope('authz:check'),
      webhookEndpoints: hasScope('webhooks:manage'),
      // What an invitation link shows; its holder may not be signed in yet.
      invitation: allow,
      searchOrganizations: isUser,
    },
    Mutation: {
      createOrganization: isUser,
      updateOrganization: can(Permission.ORGANIZATION_UPDATE, argument('input', 'id'), 'updateOrganization'),
      deleteOrganization: personCan(Permission.ORGANIZATION_DELETE, argument('id'), 'deleteOrganization'),
      transferOwnership: personCan(Permission.OWNERSHIP_TRANSFER, argument('organizationId'), 'transferOwnership'),
      switchOrganization: personCan('member', argument('organizationId'), 'switchOrganization'),
      updateMembership: personCan(Permission.MEMBERS_MANAGE, organizationOfMembership('input', 'membershipId'), 'updateMembership', 'Membership'),
      removeMember: personCan(Permission.MEMBERS_MANAGE, organizationOfMembership('membershipId'), 'removeMember', 'Membership'),
      leaveOrganization: personCan('member', argument('organizationId'), 'leaveOrganization'),
      // Any member; the service narrows a GUEST to its workspaces and checks the workspace.
      issueOrganizationToken: personCan('member', argument('organizationId'), 'issueOrganizationToken'),
      createWorkspace: can(Permission.WORKSPACES_CREATE, argument('input', 'organizationId'), 'createWorkspace'),
      updateWorkspace: inWorkspace('workspace:WORKSPACES_MANAGE@updateWorkspace', Permission.WORKSPACES_MANAGE, argument('input', 'id')),
      deleteWorkspace: inWorkspace('workspace:WORKSPACES_MANAGE@deleteWorkspace', Permission.WORKSPACES_MANAGE, argument('id')),
      setWorkspaceAccess: personCan(Permission.WORKSPACES_MANAGE, organizationOfMembership('input', 'membershipId'), 'setWorkspaceAccess', 'Membership'),
      createApiKey: personCan(Permission.API_KEYS_MANAGE, argument('input', 'organizationId'), 'createApiKey'),
      rotateApiKey: personCan(Permission.API_KEYS_MANAGE, organizationOfApiKey('id'), 'rotateApiKey', 'API key'),
      revokeApiKey: personCan(Permission.API_KEYS_MANAGE, organizationOfApiKey('id'), 'revokeApiKey', 'API key'),
      setByokCredentials: personCan(Permission.BYOK_MANAGE, argument('input', 'organizationId'), 'setByokCredentials'),
      clearByokCredentials: personCan(Permission.BYOK_MANAGE, argument('organizationId'), 'clearByokCredentials'),
      setSsoConnection: personCan(Permission.SSO_MANAGE, argument('input', 'organizationId'), 'setSsoConnection'),
      deleteSsoConnection: personCan(Permission.SSO_MANAGE, argument('organizationId'), 'deleteSsoConnection'),
      inviteMembers: personCan(Permission.MEMBERS_INVITE, argument('input', 'organizationId'), 'inviteMembers'),
      resendInvitation: personCan(Permission.MEMBERS_INVITE, organizationOfInvitation('id'), 'resendInvitation', 'Invitation'),
      cancelInvitation: personCan(Permission.MEMBERS_INVITE, organizationOfInvitation('id'), 'cancelInvitation', 'Invitation'),
      // The invitee and the requester are not members: their services check who they are.
      acceptInvitation: isUser,
      declineInvitation: isUser,
      requestToJoin: isUser,
      cancelJoinRequest: isUser,
      approveJoinRequest: personCan(Permission.MEMBERS_INVITE, organizationOfJoinRequest('id'), 'approveJoinRequest', 'Join request'),
      denyJoinRequest: personCan(Permission.MEMBERS_INVITE, organizationOfJoinRequest('id'), 'denyJoinRequest', 'Join request'),
      createRole: personCan(Permission.ROLES_MANAGE, argument('input', 'organizationId'), 'createRole'),
      updateRole: personCan(Permission.ROLES_MANAGE, organizationOfRole('input', 'id'), 'updateRole', 'Role'),
      deleteRole: personCan(Permission.ROLES_MANAGE, organizationOfRole('id'), 'deleteRole', 'Role'),
      // Partner services, by scope.
      provisionUser: hasScope('users:provision'),
      updateSubscription: hasScope('billing:write'),
      recordUsage: hasScope('usage:write'),
      recordAuditEvent: hasScope('audit:write'),
      // Webhooks: a person with WEBHOOKS_MANAGE and AUDIT_READ in the endpoint's organization (ORGANIZATION_WEBHOOKS), or the service (webhooks:manage) that owns it.
      createWebhookEndpoint: manageWebhooks('webhooks@createWebhookEndpoint', ownerOfNewEndpoint, 'Organization'),
      updateWebhookEndpoint: manageWebhooks('webhooks@updateWebhookEndpoint', ownerOfEndpoint('input', 'id'), 'Webhook endpoint'),
      rotateWebhookSecret: manageWebhooks('webhooks@rotateWebhookSecret', ownerOfEndpoint('id'), 'Webhook endpoint'),
      deleteWebhookEndpoint: manageWebhooks('webhooks@deleteWebhookEndpoint', ownerOfEndpoint('id'), 'Webhook endpoint'),
      sendTestWebhook: manageWebhooks('webhooks@sendTestWebhook', ownerOfEndpoint('id'), 'Webhook endpoint'),
      retryWebhookDelivery: manageWebhooks('webhooks@retryWebhookDelivery', ownerOfDelivery('id'), 'Webhook delivery'),
      // Verified domains (API.md, Enterprise identity): OWNER and ADMIN, people only.
      addDomain: personCan(Permission.DOMAINS_MANAGE, argument('input', 'organizationId'), 'addDomain'),
      verifyDomain: personCan(Permission.DOMAINS_MANAGE, organizationOfDomain('id'), 'verifyDomain', 'Domain'),
      updateDomain: personCan(Permission.DOMAINS_MANAGE, organizationOfDomain('input', 'id'), 'updateDomain', 'Domain'),
      removeDomain: personCan(Permission.DOMAINS_MANAGE, organizationOfDomain('id'), 'removeDomain', 'Domain'),
      // SCIM provisioning (API.md, Enterprise identity): OWNER only (SSO_MANAGE), people only.
      createDirectoryToken: personCan(Permission.SSO_MANAGE, argument('organizationId'), 'createDirectoryToken'),
      revokeDirectoryToken: personCan(Permission.SSO_MANAGE, organizationOfDirectoryToken('id'), 'revokeDirectoryToken', 'Directory token'),
      setDirectoryGroupMapping: personCan(Permission.SSO_MANAGE, organizationOfDirectoryGroup('input', 'groupId'), 'setDirectoryGroupMapping', 'Directory group'),
    },
    Organization: {
      // A GUEST sees the organization's id, slug and name, its own role and its own workspaces; nothing else.
      '*': orgNonGuest,
      id: organizationNameVisible,
      slug: organizationNameVisible,
      name: organizationNameVisible,
      viewerRole: orgMember,
      viewerPermissions: orgMember,
      viewerPermissionKeys: orgMember,
      // Those the viewer may read: a GUEST, the ones it is assigned to (organizationWorkspaces filters).
      workspaces: orgMember,
      members: can(Permission.MEMBERS_READ, parentId, 'Organization.members'),
      auditEvents: can(Permission.AUDIT_READ, parentId, 'Organization.auditEvents'),
      auditIntegrity: can(Permission.AUDIT_READ, parentId, 'Organization.auditIntegrity'),
      apiKeys: personCan(Permission.API_KEYS_MANAGE, parentId, 'Organization.apiKeys'),
      subscription: can(Permission.BILLING_READ, parentId, 'Organization.subscription'),
      usage: can(Permission.BILLING_READ, parentId, 'Organization.usage'),
      byok: can(Permission.BYOK_MANAGE, parentId, 'Organization.byok'),
      ssoConnection: personCan(Permission.SSO_MANAGE, parentId, 'Organization.ssoConnection'),
      invitations: can(Permission.MEMBERS_INVITE, parentId, 'Organization.invitations'),
      joinRequests: can(Permission.MEMBERS_INVITE, parentId, 'Organization.joinRequests'),
      webhookEndpoints: personCan(ORGANIZATION_WEBHOOKS, parentId, 'Organization.webhookEndpoints'),
      roles: can(Permission.MEMBERS_READ, parentId, 'Organization.roles'),
      domains: can(Permission.DOMAINS_MANAGE, parentId, 'Organization.domains'),
      directoryTokens: personCan(Permission.SSO_MANAGE, parentId, 'Organization.directoryTokens'),
      directoryGroups: personCan(Permission.SSO_MANAGE, parentId, 'Organization.directoryGroups'),
    },
    Workspace: {
      '*': isAuthenticated,
      members: can(Permission.MEMBERS_READ, organizationOfParent, 'Workspace.members'),
    },
    WorkspaceConnection: allow,
    WorkspaceEdge: allow,
    WorkspaceAccess: isAuthenticated,
    ApiKey: isAuthenticated,
    ApiKeyConnection: allow,
    ApiKeyEdge: allow,
    CreatedApiKey: isAuthenticated,
    OrganizationToken: isUser,
    Subscription: isAuthenticated,
    Usage: isAuthenticated,
    ByokStatus: isAuthenticated,
    ByokCredentials: hasScope('byok:read'),
    SsoConnection: isAuthenticated,
    SsoServiceProvider: isAuthenticated,
    SsoConfiguration: hasScope('sso:read'),
    SsoRoute: hasScope('sso:read'),
    // Reached through a gated field, the viewer's own lists, or a reference resolver that checks.
    Invitation: isAuthenticated,
    InvitationConnection: allow,
    InvitationEdge: allow,
    InvitationPreview: allow,
    JoinRequest: isAuthenticated,
    JoinRequestConnection: allow,
    JoinRequestEdge: allow,
    OrganizationSearchResult: isUser,
    // Reached only through a field or operation gated above, or a reference resolver that checks.
    Membership: {
      '*': isAuthenticated,
      // The organization's custom roles (their names, keys and holders' count): for whoever the organization lets in now, SSO enforcement included — not for a member seeing its own membership listed.
      roles: inOrganization('member@Membership.roles', { need: 'member', locate: organizationOfParent, subject: 'Membership' }),
    },
    MembershipConnection: allow,
    MembershipEdge: allow,
    Viewer: isUser,
    User: isAuthenticated,
    AuditEvent: isAuthenticated,
    AuditEventConnection: allow,
    AuditEventEdge: allow,
    AuditActor: allow,
    AuditTarget: allow,
    AuditIntegrity: allow,
    // Reached only through the webhook operations and Organization.webhookEndpoints, gated above.
    WebhookEndpoint: isAuthenticated,
    WebhookEndpointConnection: allow,
    WebhookEndpointEdge: allow,
    CreatedWebhookEndpoint: isAuthenticated,
    WebhookDelivery: isAuthenticated,
    WebhookDeliveryConnection: allow,
    WebhookDeliveryEdge: allow,
    AuthorizationDecision: hasScope('authz:check'),
    // Reached only through Query.events (events:read).
    Event: isAuthenticated,
    EventConnection: allow,
    EventEdge: allow,
    // Reached through Organization.roles, Membership.roles (MEMBERS_READ or the member's own) and the role mutations.
    Role: isAuthenticated,
    // Reached only through Organization.domains and the domain mutations, gated above.
    OrganizationDomain: isAuthenticated,
    DnsRecord: isAuthenticated,
    // Reached only through Organization.directoryTokens/directoryGroups and the directory mutations, gated above.
    DirectoryToken: isAuthenticated,
    CreatedDirectoryToken: isAuthenticated,
    DirectoryGroup: isAuthenticated,
    PageInfo: allow,
    _Service: allow,
};

/** Anything the map does not name is refused; a rule that threw answers what ruleFailure says. */
export const PERMISSION_OPTIONS: PermissionOptions = { denied: () => forbidden(), failed: ruleFailure };
