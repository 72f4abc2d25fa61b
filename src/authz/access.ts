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
 * The one rule for a member's access: a membership suspended by the directory (SCIM `active:
 * false`, memberships.suspended_at) grants nothing, as if it were not there. The tenant wall
 * says the same in SQL (tenant.organizations(), migrations/*-ScimProvisioning.ts).
 */
export function accessOfMember(membership: MembershipEntity | null | undefined): Access | null {
  return membership && !membership.suspendedAt ? memberAccess(membership) : null;
}

/**
 * The access loader's cache (DataLoader's `cacheMap`): its promises, and what each settled to,
 * so that a rule can read an access already loaded without awaiting. One store: what it tells
 * at once is what that very promise resolved to, never a copy that could lag behind a prime.
 */
class AccessCache extends Map<string, Promise<Access | null>> {
  private readonly settled = new WeakMap<Promise<Access | null>, Access | null>();

  override set(organizationId: string, promise: Promise<Access | null>): this {
    // The loader's callers see a rejection through their own handlers; this one only records values.
    promise.then((access) => this.settled.set(promise, access), () => undefined);
    return super.set(organizationId, promise);
  }

  /** The settled access (null: not a member), or undefined while the loader has none. */
  settledValue(organizationId: string): Access | null | undefined {
    const promise = this.get(organizationId);
    return promise ? this.settled.get(promise) : undefined;
  }
}

/**
 * The asker's access per organization, computed once per request; null where it is not a
 * member. An API key has access to its own organization only: an unbound key with its
 * scopes, a workspace-bound key with nothing organization-wide.
 */
export function accessLoaders(
  principal: Principal | null,
  /** The asking user's memberships by organization id, read without a cache of their own: the loader below is the one. */
  viewerMembership: DataLoader<string, MembershipEntity | null>,
  serviceSees: ReadonlySet<string>,
) {
  const accessOf = async (organizationIds: readonly string[]): Promise<(Access | null)[]> => {
    if (principal?.kind === 'service') {
      // A partner service holds no permission in any organization; it sees the basic fields
      // of one it just acted on (provisionUser's answer), and nothing of any other.
      return organizationIds.map((id) =>
        serviceSees.has(id) ? { organizationId: id, membership: null, role: null, permissions: new Set<Permission>(), boundWorkspaceId: null } : null,
      );
    }
    if (principal?.kind === 'directory') {
      // A directory token acts in its organization through SCIM only, with no permission of its own.
      return organizationIds.map((id) =>
        id === principal.organizationId ? { organizationId: id, membership: null, role: null, permissions: new Set<Permission>(), boundWorkspaceId: null } : null,
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
      return accessOfMember(m);
    });
  };
  const cache = new AccessCache();
  const access = new DataLoader(accessOf, { cacheMap: cache });
  return {
    access,
    /** The asker's access at once when the loader already has it, else the loader's promise. */
    accessNow: (organizationId: string): Access | null | Promise<Access | null> => {
      const known = cache.settledValue(organizationId);
      return known === undefined ? access.load(organizationId) : known;
    },
    /** The asking user's membership (or none) in an organization, read along with something else. */
    primeMembership: (organizationId: string, membership: MembershipEntity | null) => {
      if (principal?.kind === 'user') access.clear(organizationId).prime(organizationId, accessOfMember(membership));
    },
  };
}

/** The membership behind an access, for what only people do (change members, manage keys). */
export function requireMembership(access: Access): MembershipEntity {
  if (!access.membership) throw forbidden('An API key cannot do this');
  return access.membership;
}
