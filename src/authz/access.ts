import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal';
import type { MembershipEntity } from '../modules/membership/membership.entity';
import { AppError, forbidden } from '../errors';
import { organizationKeysOf } from './effective-permissions';
import { isBuiltInPermission, OrganizationRole, permissionsOf, type Permission } from './permissions';

/** What the asker may do in one organization. */
export interface Access {
  organizationId: string;
  /** The asker's membership; null for an API key. */
  membership: MembershipEntity | null;
  role: OrganizationRole | null;
  /** Organization-wide built-in permissions: a member's role, assignments and custom roles; an unbound key's scopes. */
  permissions: ReadonlySet<Permission>;
  /** Organization-wide permission keys, built-in and product (effective-permissions.ts). */
  keys: ReadonlySet<string>;
  /** An API key bound to a workspace acts in that workspace only. */
  boundWorkspaceId: string | null;
  /** An OWNER let in without the SSO claim of an organization that enforces SSO (break-glass): audited (src/modules/sso/sso.break-glass.ts). */
  ssoBreakGlass?: boolean;
}

export const SSO_REQUIRED = 'SSO_REQUIRED';

/**
 * What a membership holds: its role, assignments and custom roles (membership.role_permissions).
 * The one place a membership row becomes permissions; `authorize` answers from it for people
 * who are not asking themselves (SSO enforcement guards requests, which memberAccess decides).
 */
export function membershipHolds(membership: MembershipEntity): Access {
  return {
    organizationId: membership.organizationId,
    membership,
    role: membership.role,
    permissions: permissionsOf(membership.role, membership.assignments, membership.rolePermissions),
    keys: organizationKeysOf(membership),
    boundWorkspaceId: null,
  };
}

/**
 * A member's access to its organization: what its membership holds, unless the organization
 * enforces SSO and the person's token does not carry `sso_org_id` equal to it. Then a member is
 * FORBIDDEN (extensions.reason SSO_REQUIRED) and an OWNER let in (break-glass). Every way a
 * person's access to an organization is computed comes here: the request's access loader
 * (every rule, `_entities`, every service reading `ctx.loaders.access`) and the write locks
 * (src/authz/locks.ts); a membership read without its organization's enforcement refuses.
 */
export function memberAccess(membership: MembershipEntity, principal: Principal | null): Access {
  const enforced = membership.organizationSsoEnforced;
  if (enforced === undefined) throw new Error('a membership was read for access without its organization\'s sso_enforced');
  const signedInThroughIt = principal?.kind === 'user' && principal.ssoOrgId === membership.organizationId;
  const access = membershipHolds(membership);
  if (enforced && !signedInThroughIt) {
    if (membership.role !== OrganizationRole.OWNER) {
      throw new AppError('FORBIDDEN', 'This organization requires signing in through its identity provider (SSO)', { reason: SSO_REQUIRED, organizationId: membership.organizationId });
    }
    access.ssoBreakGlass = true;
  }
  return access;
}

/** memberAccess as a loader's value: the refusal as an Error, which rejects that key's load only. */
function memberAccessOrError(membership: MembershipEntity, principal: Principal | null): Access | Error {
  try {
    return memberAccess(membership, principal);
  } catch (error) {
    return error as Error;
  }
}

/** What an API key may do in its organization: its scopes (keys), none organization-wide when bound to a workspace. */
export function apiKeyAccess(organizationId: string, scopes: ReadonlySet<string>, boundWorkspaceId: string | null): Access {
  const keys = boundWorkspaceId ? new Set<string>() : scopes;
  return {
    organizationId,
    membership: null,
    role: null,
    permissions: new Set([...keys].filter(isBuiltInPermission)),
    keys,
    boundWorkspaceId,
  };
}

/**
 * The one rule for a suspended member: a membership suspended by the directory (SCIM `active:
 * false`, memberships.suspended_at) grants nothing, as if it were not there. Every reader of a
 * person's access applies it before memberAccess (the access loader, its primes, the write locks);
 * the tenant wall says the same in SQL (tenant.organizations(), migrations/*-ScimProvisioning.ts).
 */
export function unlessSuspended<T extends MembershipEntity>(membership: T | null | undefined): T | null {
  return membership && !membership.suspendedAt ? membership : null;
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
  /** Records an OWNER's break-glass access (once in a while: src/modules/sso/sso.break-glass.ts); settles before the access is used. */
  breakGlass: (organizationId: string) => Promise<void> = async () => undefined,
) {
  /** The access once its break-glass, if any, is recorded: unrecorded, there is none (the promise rejects). */
  const audited = (access: Access | Error): Access | Error | Promise<Access> =>
    !(access instanceof Error) && access.ssoBreakGlass ? breakGlass(access.organizationId).then(() => access) : access;
  const accessOf = async (organizationIds: readonly string[]): Promise<(Access | Error | null)[]> => {
    if (principal?.kind === 'service') {
      // A partner service holds no permission in any organization; it sees the basic fields
      // of one it just acted on (provisionUser's answer), and nothing of any other.
      return organizationIds.map((id) =>
        serviceSees.has(id) ? { organizationId: id, membership: null, role: null, permissions: new Set<Permission>(), keys: new Set<string>(), boundWorkspaceId: null } : null,
      );
    }
    if (principal?.kind === 'directory') {
      // A directory token acts in its organization through SCIM only, with no permission of its own.
      return organizationIds.map((id) =>
        id === principal.organizationId ? { organizationId: id, membership: null, role: null, permissions: new Set<Permission>(), keys: new Set<string>(), boundWorkspaceId: null } : null,
      );
    }
    if (principal?.kind === 'apiKey') {
      return organizationIds.map((id) => (id === principal.organizationId ? apiKeyAccess(id, principal.scopes, principal.workspaceId) : null));
    }
    const memberships = await viewerMembership.loadMany(organizationIds);
    return Promise.all(
      memberships.map((raw) => {
        if (raw instanceof Error) throw raw;
        const m = unlessSuspended(raw);
        return m ? Promise.resolve(audited(memberAccessOrError(m, principal))).catch((error: Error) => error) : null;
      }),
    );
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
      const active = unlessSuspended(membership);
      if (principal?.kind === 'user') access.clear(organizationId).prime(organizationId, active ? audited(memberAccessOrError(active, principal)) : null);
    },
  };
}

/** The membership behind an access, for what only people do (change members, manage keys). */
export function requireMembership(access: Access): MembershipEntity {
  if (!access.membership) throw forbidden('An API key cannot do this');
  return access.membership;
}
