import { rule } from 'graphql-shield';
import type { RequestContext } from '../context';
import { AppError, databaseFailure, databaseFailureError, forbidden, notFound, unauthenticated } from '../errors';
import type { Access } from './access';
import { OrganizationRole, type Permission } from './permissions';

type Locate = (parent: unknown, args: Record<string, unknown>, ctx: RequestContext) => Promise<string | null | undefined> | string | null | undefined;

/** Turns a thrown error into the rule's answer, so that nothing is swallowed into a silent "no". */
async function decide(ctx: RequestContext, check: () => Promise<true | Error>): Promise<true | Error> {
  try {
    return await check();
  } catch (error) {
    if (error instanceof AppError) return error;
    // An outage is not a bug: the client gets DATABASE_UNAVAILABLE/BUSY, as from a resolver.
    const failure = databaseFailure(error);
    if (failure) return databaseFailureError(failure, error);
    ctx.app.logger.error({ err: error, requestId: ctx.request.requestId }, 'authorization rule failed');
    return new AppError('INTERNAL_SERVER_ERROR', 'Internal server error');
  }
}

/** Any principal: a person or a partner service. */
export const isAuthenticated = rule('isAuthenticated', { cache: 'contextual' })(async (_parent, _args, ctx: RequestContext) =>
  ctx.principal ? true : (ctx.authError ?? unauthenticated()),
);

/** A person (user token), not a service. */
export const isUser = rule('isUser', { cache: 'contextual' })(async (_parent, _args, ctx: RequestContext) =>
  decide(ctx, async () => (ctx.requireUser(), true)),
);

/** The subgraph's SDL (`_service`): only where Config.routerViews says the router alone asks. */
export const isRouter = rule('isRouter', { cache: 'contextual' })(async (_parent, _args, ctx: RequestContext) =>
  ctx.config.routerViews
    ? true
    : forbidden('In production the subgraph SDL is served only to the router: set ROUTER_SECRET (and send it as Router-Authorization), or compose the supergraph from schema.graphql'),
);

const scopeRules = new Map<string, ReturnType<ReturnType<typeof rule>>>();

/** A partner service holding `scope`; a person, an API key or a service without it: FORBIDDEN. One rule per scope. */
export function hasScope(scope: string) {
  let scoped = scopeRules.get(scope);
  if (!scoped) {
    scoped = rule(`scope:${scope}`, { cache: 'contextual' })(async (_parent, _args, ctx: RequestContext) => {
      if (!ctx.principal) return ctx.authError ?? unauthenticated();
      if (ctx.principal.kind !== 'service') return forbidden('This operation is for partner services');
      return ctx.principal.scopes.has(scope) ? true : forbidden(`This needs the ${scope} scope`);
    });
    scopeRules.set(scope, scoped);
  }
  return scoped;
}

/** True only when the rule would allow, decided without awaiting anything; false: ask the rule. */
export type AllowedNow = (parent: unknown, args: Record<string, unknown>, ctx: RequestContext) => boolean;

/** A rule that may allow at once (see apply.ts). */
function withAllowedNow<R extends object>(shieldRule: R, allowedNow: AllowedNow): R & { allowedNow: AllowedNow } {
  return Object.assign(shieldRule, { allowedNow });
}

export interface OrganizationRequirement {
  /** A permission of the catalog, or `member` (any role) / `nonGuest` (any role but GUEST). */
  need: Permission | 'member' | 'nonGuest';
  /** Where the organization id comes from: the parent object, an argument, a looked-up row. */
  locate: Locate;
  /** Only a person may do it: never an API key, whatever its scopes (keys, members, ownership). */
  peopleOnly?: boolean;
  /** What NOT_FOUND names: the object the operation was asked about, whether it is missing or elsewhere. */
  subject?: string;
}

function satisfies(access: Access, need: OrganizationRequirement['need']): boolean {
  if (need === 'member') return true;
  if (need === 'nonGuest') return access.role !== OrganizationRole.GUEST;
  return access.permissions.has(need);
}

/**
 * The asker holds `need` in the organization `locate` points at. Not a member (or no such
 * organization): NOT_FOUND, so that existence is never revealed; a member lacking it: FORBIDDEN.
 * Depends on parent and arguments, hence no_cache — its lookups are request-cached loaders.
 */
export function inOrganization(name: string, requirement: OrganizationRequirement) {
  // Allowed at once when the user's access is already known (their memberships page, or an entity
  // read with their membership, src/authz/viewer-rows.ts):
  // the same test as below, without its promises. Anything else takes the full path.
  const allowedNow: AllowedNow = (parent, args, ctx) => {
    if (ctx.principal?.kind !== 'user') return false;
    const organizationId = requirement.locate(parent, args, ctx);
    if (typeof organizationId !== 'string') {
      // A lookup (a loader): the full path asks it again, and reports what it throws.
      if (organizationId instanceof Promise) organizationId.catch(() => undefined);
      return false;
    }
    const access = ctx.loaders.knownAccess.get(organizationId);
    return !!access && satisfies(access, requirement.need);
  };
  return withAllowedNow(rule(name, { cache: 'no_cache' })(async (parent, args, ctx: RequestContext) =>
    decide(ctx, async () => {
      const principal = requirement.peopleOnly ? ctx.requireUser() : ctx.requirePrincipal();
      // A service reads only the basic fields of what it just provisioned (see accessLoader).
      if (principal.kind === 'service' && requirement.need !== 'member' && requirement.need !== 'nonGuest') {
        throw forbidden('A partner service cannot do this');
      }
      const organizationId = await requirement.locate(parent, args, ctx);
      const access = organizationId ? await ctx.loaders.access.load(organizationId) : null;
      if (!access) throw notFound(requirement.subject ?? 'Organization');
      if (!satisfies(access, requirement.need)) {
        throw forbidden(requirement.need === 'nonGuest' ? 'Guests see only the name of the organization' : `This needs the ${requirement.need} permission`);
      }
      return true;
    }),
  ), allowedNow);
}

/**
 * The asker holds `need` inside the workspace `locate` points at. A workspace it cannot see:
 * NOT_FOUND, like another tenant's; one it sees without `need`: FORBIDDEN.
 */
export function inWorkspace(name: string, need: Permission, locate: Locate) {
  return rule(name, { cache: 'no_cache' })(async (parent, args, ctx: RequestContext) =>
    decide(ctx, async () => {
      const principal = ctx.requirePrincipal();
      if (principal.kind === 'service') throw forbidden('A partner service cannot do this');
      const workspaceId = await locate(parent, args, ctx);
      const view = workspaceId ? await ctx.loaders.workspaceView.load(workspaceId) : null;
      if (!view) throw notFound('Workspace');
      if (!view.permissions.has(need)) throw forbidden(`This needs the ${need} permission in this workspace`);
      return true;
    }),
  );
}

/**
 * An organization's id, slug and name: for its members, and for someone it was shown to in
 * this request through their own invitation or join request (RequestContext.showName).
 */
export const organizationNameVisible = withAllowedNow(
  rule('organizationNameVisible', { cache: 'no_cache' })(async (parent, _args, ctx: RequestContext) =>
    decide(ctx, async () => {
      ctx.requirePrincipal();
      const id = (parent as { id: string }).id;
      if (ctx.namesShown.has(id) || (await ctx.loaders.access.load(id))) return true;
      throw notFound('Organization');
    }),
  ),
  (parent, _args, ctx) => {
    const id = (parent as { id: string }).id;
    return !!ctx.principal && (ctx.namesShown.has(id) || !!ctx.loaders.knownAccess.get(id));
  },
);

// Where rules find the organization.
export const parentId: Locate = (parent) => (parent as { id: string }).id;
export const argument =
  (...path: string[]): Locate =>
  (_parent, args) => {
    let value: unknown = args;
    for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
    return typeof value === 'string' ? value : null;
  };
type OwnedBy = { organizationId: string } | null;

/**
 * The organization of the object whose id is at `path` in the arguments, through one of the
 * request's loaders. An unknown id is NOT_FOUND naming the object.
 */
const organizationOfObject =
  (subject: string, load: (ctx: RequestContext, id: string) => Promise<OwnedBy>) =>
  (...path: string[]): Locate =>
  async (parent, args, ctx) => {
    const id = await argument(...path)(parent, args, ctx);
    const object = id ? await load(ctx, id) : null;
    if (!object) throw notFound(subject);
    return object.organizationId;
  };

export const organizationOfApiKey = organizationOfObject('API key', (ctx, id) => ctx.loaders.apiKey.load(id));
export const organizationOfInvitation = organizationOfObject('Invitation', (ctx, id) => ctx.loaders.invitation.load(id));
export const organizationOfJoinRequest = organizationOfObject('Join request', (ctx, id) => ctx.loaders.joinRequest.load(id));
export const organizationOfMembership = organizationOfObject('Membership', (ctx, id) => ctx.loaders.membership.load(id));
export const organizationOfParent: Locate = (parent) => (parent as { organizationId: string }).organizationId;

