import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal';
import type { MembershipEntity } from '../modules/membership/membership.entity';
import { forbidden } from '../errors';
import { OrganizationRole, permissionsOf, type Permission } from './permissions';

/** What the asker may do in one organization. */
export interface Access {
  organizationId: string;
  /** The asker's membership; null for an API key. */
  membership: MembershipEntity | null;
  role: OrganizationRole | null;
  /** Organization-wide permissions: a member's role and assignments, an unbound key's scopes. */
  permissions: ReadonlySet<Permission>;
  /** An API key bound to a workspace acts in that workspace only. */
  boundWorkspaceId: string | null;
}

export function memberAccess(membership: MembershipEntity): Access {
  return {
    organizationId: membership.organizationId,
    membership,
    role: membership.role,
    permissions: permissionsOf(membership.role, membership.assignments),
    boundWorkspaceId: null,
  };
}

/**
 * The asker's access per organization, computed once per request; null where it is not a
 * member. An API key has access to its own organization only: an unbound key with its
 * scopes, a workspace-bound key with nothing organization-wide.
 */
export function accessLoader(
  principal: Principal | null,
  viewerMembership: DataLoader<string, MembershipEntity | null>,
  serviceSees: ReadonlySet<string>,
  known: Map<string, Access | null>,
): DataLoader<string, Access | null> {
  const accessOf = async (organizationIds: readonly string[]): Promise<(Access | null)[]> => {
    if (principal?.kind === 'service') {
      // A partner service holds no permission in any organization; it sees the basic fields
      // of one it just acted on (provisionUser's answer), and nothing of any other.
      return organizationIds.map((id) =>
        serviceSees.has(id) ? { organizationId: id, membership: null, role: null, permissions: new Set<Permission>(), boundWorkspaceId: null } : null,
      );
    }
    if (principal?.kind === 'apiKey') {
      return organizationIds.map((id) =>
        id === principal.organizationId
          ? {
              organizationId: id,
              membership: null,
              role: null,
              permissions: principal.workspaceId ? new Set<Permission>() : principal.scopes,
              boundWorkspaceId: principal.workspaceId,
            }
          : null,
      );
    }
    const memberships = await viewerMembership.loadMany(organizationIds);
    return memberships.map((m) => {
      if (m instanceof Error) throw m;
      return m ? memberAccess(m) : null;
    });
  };
  return new DataLoader(async (organizationIds) => {
    const found = await accessOf(organizationIds);
    // What was primed meanwhile (context.ts, primeMembership) is what the loader now holds: keep it.
    organizationIds.forEach((id, i) => known.has(id) || known.set(id, found[i]));
    return found;
  });
}

/** The membership behind an access, for what only people do (change members, manage keys). */
export function requireMembership(access: Access): MembershipEntity {
  if (!access.membership) throw forbidden('An API key cannot do this');
  return access.membership;
}
