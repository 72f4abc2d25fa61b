import type { RequestContext } from '../context';
import { AppError, badInput, databaseFailure, databaseFailureError, forbidden, notFound } from '../errors';
import type { Access } from './access';
import type { Decision, Rule } from './apply';
import { ORGANIZATION_WEBHOOKS, OrganizationRole, Permission } from './permissions';

type Found<T> = T | Promise<T>;
type Locate = (parent: unknown, args: Record<string, unknown>, ctx: RequestContext) => Found<string | null | undefined>;

/** `f(value)` at once when the value is known, after it otherwise: one code path either way. */
const andThen = <T, R>(value: Found<T>, f: (known: T) => Found<R>): Found<R> => (value instanceof Promise ? value.then(f) : f(value));

/** A rule of this subgraph: its decision function reads the request's context. */
const rule = (name: string, decide: (parent: unknown, args: Record<string, unknown>, ctx: RequestContext) => Found<Decision>, perRequest = false): Rule => ({
  name,
  perRequest,
  decide,
});

/**
 * What a rule that threw answers, so that nothing is swallowed into a silent "no": its AppError
 * as it is; a database outage as DATABASE_UNAVAILABLE/BUSY, as from a resolver; anything else
 * logged, and INTERNAL_SERVER_ERROR.
 */
export function ruleFailure(error: unknown, ctx: RequestContext): Error {
  if (error instanceof AppError) return error;
  const failure = databaseFailure(error);
  if (failure) return databaseFailureError(failure, error);
  ctx.app.logger.error({ err: error, requestId: ctx.request.requestId }, 'authorization rule failed');
  return new AppError('INTERNAL_SERVER_ERROR', 'Internal server error');
}

/** Any principal: a person or a partner service. */
export const isAuthenticated = rule('isAuthenticated', (_parent, _args, ctx) => (ctx.requirePrincipal(), true), true);

/** A person (user token), not a service. */
export const isUser = rule('isUser', (_parent, _args, ctx) => (ctx.requireUser(), true), true);

/** The subgraph's SDL (`_service`): only where Config.routerViews says the router alone asks. */
export const isRouter = rule(
  'isRouter',
  (_parent, _args, ctx) =>
    ctx.config.routerViews ||
    forbidden('In production the subgraph SDL is served only to the router: set ROUTER_SECRET (and send it as Router-Authorization), or compose the supergraph from schema.graphql'),
  true,
);

const scopeRules = new Map<string, Rule>();

/** A partner service holding `scope`; a person, an API key or a service without it: FORBIDDEN. One rule per scope. */
export function hasScope(scope: string): Rule {
  let scoped = scopeRules.get(scope);
  if (!scoped) {
    scoped = rule(
      `scope:${scope}`,
      (_parent, _args, ctx) => {
        const principal = ctx.requirePrincipal();
        if (principal.kind !== 'service') return forbidden('This operation is for partner services');
        return principal.scopes.has(scope) || forbidden(`This needs the ${scope} scope`);
      },
      true,
    );
    scopeRules.set(scope, scoped);
  }
  return scoped;
}

export interface OrganizationRequirement {
  /** A permission of the catalog, several (each needed), or `member` (any role) / `nonGuest` (any role but GUEST). */
  need: Permission | readonly Permission[] | 'member' | 'nonGuest';
  /** Where the organization id comes from: the parent object, an argument, a looked-up row. */
  locate: Locate;
  /** Only a person may do it: never an API key, whatever its scopes (keys, members, ownership). */
  peopleOnly?: boolean;
  /** What NOT_FOUND names: the object the operation was asked about, whether it is missing or elsewhere. */
  subject?: string;
}

/** What of `need` the asker lacks (the first permission missing, or `nonGuest`); null when nothing. */
function lacking(access: Access, need: OrganizationRequirement['need']): Permission | 'nonGuest' | null {
  if (need === 'member') return null;
  if (need === 'nonGuest') return access.role === OrganizationRole.GUEST ? 'nonGuest' : null;
  return (typeof need === 'string' ? [need] : need).find((p) => !access.permissions.has(p)) ?? null;
}

/**
 * The asker holds `need` in the organization `locate` points at. Not a member (or no such
 * organization): NOT_FOUND, so that existence is never revealed; a member lacking it: FORBIDDEN.
 * Decided at once when the organization and the asker's access there are already known (a
 * parent's id; access primed by a memberships page or an entity read with the viewer's
 * membership, src/authz/viewer-rows.ts), after the request's loaders otherwise.
 */
export function inOrganization(name: string, requirement: OrganizationRequirement): Rule {
  const judge = (access: Access | null): Decision => {
    if (!access) return notFound(requirement.subject ?? 'Organization');
    const missing = lacking(access, requirement.need);
    if (!missing) return true;
    return forbidden(missing === 'nonGuest' ? 'Guests see only the name of the organization' : `This needs the ${missing} permission`);
  };
  return rule(name, (parent, args, ctx) => {
    const principal = requirement.peopleOnly ? ctx.requireUser() : ctx.requirePrincipal();
    // A service reads only the basic fields of what it just provisioned (see accessLoaders).
    if (principal.kind === 'service' && requirement.need !== 'member' && requirement.need !== 'nonGuest') {
      return forbidden('A partner service cannot do this');
    }
    return andThen(requirement.locate(parent, args, ctx), (organizationId) => (organizationId ? andThen(ctx.loaders.accessNow(organizationId), judge) : judge(null)));
  });
}

/**
 * The asker holds `need` inside the workspace `locate` points at. A workspace it cannot see:
 * NOT_FOUND, like another tenant's; one it sees without `need`: FORBIDDEN.
 */
export function inWorkspace(name: string, need: Permission, locate: Locate): Rule {
  return rule(name, async (parent, args, ctx) => {
    const principal = ctx.requirePrincipal();
    if (principal.kind === 'service') return forbidden('A partner service cannot do this');
    const workspaceId = await locate(parent, args, ctx);
    const view = workspaceId ? await ctx.loaders.workspaceView.load(workspaceId) : null;
    if (!view) return notFound('Workspace');
    return view.permissions.has(need) || forbidden(`This needs the ${need} permission in this workspace`);
  });
}

/**
 * An organization's id, slug and name: for its members, and for someone it was shown to in
 * this request through their own invitation or join request (RequestContext.showName).
 */
export const organizationNameVisible = rule('organizationNameVisible', (parent, _args, ctx) => {
  ctx.requirePrincipal();
  const id = (parent as { id: string }).id;
  if (ctx.namesShown.has(id)) return true;
  return andThen(ctx.loaders.accessNow(id), (access) => (access ? true : notFound('Organization')));
});

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
export const organizationOfRole = organizationOfObject('Role', (ctx, id) => ctx.loaders.role.load(id));
export const organizationOfDomain = organizationOfObject('Domain', (ctx, id) => ctx.loaders.organizationDomain.load(id));
export const organizationOfDirectoryToken = organizationOfObject('Directory token', (ctx, id) => ctx.loaders.directoryToken.load(id));
export const organizationOfDirectoryGroup = organizationOfObject('Directory group', (ctx, id) => ctx.loaders.directoryGroup.load(id));
export const organizationOfParent: Locate = (parent) => (parent as { organizationId: string }).organizationId;

/** Whose a webhook endpoint is: an organization's, or a partner service's (API.md, Events). */
export type EndpointOwner = { organizationId: string | null; ownerClientId: string | null } | null;
type LocateOwner = (parent: unknown, args: Record<string, unknown>, ctx: RequestContext) => Found<EndpointOwner>;

/**
 * What an organization's webhook endpoints take, for every operation on them and for reading
 * them and their deliveries: WEBHOOKS_MANAGE, and AUDIT_READ since an endpoint receives the
 * organization's events, which are its audit log (subscriptions and seats, partners' metadata).
 * So an OWNER, or an ADMIN with the AUDITOR assignment; not an ADMIN alone, who could otherwise
 * read the log through an endpoint of its own or point the OWNER's elsewhere.
 */

/**
 * Managing webhook endpoints: a person holding ORGANIZATION_WEBHOOKS in the endpoint's
 * organization (never an API key: an endpoint sends the organization's events out), or the
 * partner service holding webhooks:manage that owns the endpoint. Anyone else: NOT_FOUND for an
 * endpoint that is not theirs, as for another tenant's object.
 */
export function manageWebhooks(name: string, locate: LocateOwner, subject: string): Rule {
  const person = inOrganization(name, {
    need: ORGANIZATION_WEBHOOKS,
    peopleOnly: true,
    subject,
    locate: (parent, args, ctx) => andThen(locate(parent, args, ctx), (owner) => owner?.organizationId),
  });
  return rule(name, (parent, args, ctx) => {
    const principal = ctx.requirePrincipal();
    if (principal.kind !== 'service') {
      // A person's endpoint belongs to an organization: one created without naming it is bad input, not another's.
      return andThen(locate(parent, args, ctx), (owner) =>
        owner && owner.organizationId === null && owner.ownerClientId === null
          ? badInput('organizationId', 'organizationId is required')
          : person.decide(parent, args, ctx, undefined as never),
      );
    }
    if (!principal.scopes.has('webhooks:manage')) return forbidden('This needs the webhooks:manage scope');
    return andThen(locate(parent, args, ctx), (owner) => (owner && owner.organizationId === null && owner.ownerClientId === principal.clientId) || notFound(subject));
  });
}

/** The owner of the endpoint whose id is at `path` in the arguments; null when there is none. */
export const ownerOfEndpoint =
  (...path: string[]): LocateOwner =>
  async (parent, args, ctx) => {
    const id = await argument(...path)(parent, args, ctx);
    return id ? ctx.loaders.webhookEndpoint.load(id) : null;
  };

/** The owner of the endpoint a delivery (id at `path`) belongs to. */
export const ownerOfDelivery =
  (...path: string[]): LocateOwner =>
  async (parent, args, ctx) => {
    const id = await argument(...path)(parent, args, ctx);
    const delivery = id ? await ctx.loaders.webhookDelivery.load(id) : null;
    return delivery ? ctx.loaders.webhookEndpoint.load(delivery.endpointId) : null;
  };

/** A new endpoint's owner: the organization named, or the asking service when none is. */
export const ownerOfNewEndpoint: LocateOwner = (_parent, args, ctx) => {
  const organizationId = argument('input', 'organizationId')(_parent, args, ctx) as string | null;
  if (organizationId) return { organizationId, ownerClientId: null };
  return ctx.principal?.kind === 'service' ? { organizationId: null, ownerClientId: ctx.principal.clientId } : { organizationId: null, ownerClientId: null };
};
