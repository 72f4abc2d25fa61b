import DataLoader from 'dataloader';
import type { MembershipEntity } from '../modules/membership/membership.entity';
import { OrganizationRole, permissionsOf, type Permission } from './permissions';

/** What the asker may do in one organization. */
export interface Access {
  organizationId: string;
  membership: MembershipEntity;
  role: OrganizationRole;
  permissions: ReadonlySet<Permission>;
}

/**
 * The asker's access per organization, computed once per request from its membership;
 * null where it is not a member.
 */
export function accessLoader(viewerMembership: DataLoader<string, MembershipEntity | null>): DataLoader<string, Access | null> {
  return new DataLoader(async (organizationIds) => {
    const memberships = await viewerMembership.loadMany(organizationIds);
    return memberships.map((m, i) => {
      if (m instanceof Error) throw m;
      if (!m) return null;
      return {
        organizationId: organizationIds[i],
        membership: m,
        role: m.role,
        permissions: permissionsOf(m.role, m.assignments),
      };
    });
  });
}

export const isGuest = (access: Access): boolean => access.role === OrganizationRole.GUEST;
