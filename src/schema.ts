import 'reflect-metadata';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { defaultFieldResolver, execute, parse, type GraphQLSchema } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import gql from 'graphql-tag';
import { buildSchema, createResolversMap, getMetadataStorage } from 'type-graphql';
import { applyPermissions } from './authz/apply';
import { PERMISSION_OPTIONS, permissions } from './authz/permissions-map';
import { withoutAuthDirectives } from './federation-sdl';
import { entitiesGuard } from './input-guard';
import { ApiKeyResolver, OrganizationApiKeysResolver } from './modules/api-key/api-key.resolver';
import { AuditEventResolver, OrganizationAuditIntegrityResolver, OrganizationAuditResolver } from './modules/audit/audit.resolver';
import { BillingResolver, OrganizationBillingResolver } from './modules/billing/billing.resolver';
import { ByokResolver, OrganizationByokResolver } from './modules/byok/byok.resolver';
import { OrganizationSsoResolver, SsoResolver } from './modules/sso/sso.resolver';
import { EventResolver } from './modules/event/event.resolver';
import { DomainResolver, OrganizationDomainsResolver, ViewerSuggestionsResolver } from './modules/domain/domain.resolver';
import { DirectoryResolver, OrganizationDirectoryResolver } from './modules/directory/directory.resolver';
import { OrganizationWebhooksResolver, WebhookDeliveryResolver, WebhookEndpointResolver } from './modules/webhook/webhook.resolver';
import { invitationReference } from './modules/invitation/invitation.reference';
import {
  InvitationResolver,
  OrganizationInvitationsResolver,
  UserInvitationsResolver,
  ViewerInvitationsResolver,
} from './modules/invitation/invitation.resolver';
import {
  JoinRequestResolver,
  OrganizationJoinRequestsResolver,
  ViewerJoinRequestsResolver,
} from './modules/join-request/join-request.resolver';
import { membershipReference } from './modules/membership/membership.reference';
import { MembershipResolver } from './modules/membership/membership.resolver';
import { organizationReference } from './modules/organization/organization.reference';
import { MembershipRolesResolver, OrganizationRolesResolver, RoleResolver } from './modules/role/role.resolver';
import { AuthorizationResolver } from './modules/authorization/authorization.resolver';
import { OrganizationTokenResolver } from './modules/organization-token/organization-token.resolver';
import { OrganizationResolver } from './modules/organization/organization.resolver';
import { userReference } from './modules/user/user.reference';
import { ProvisionUserResolver, UserResolver, ViewerResolver } from './modules/user/user.resolver';
import { workspaceReference } from './modules/workspace/workspace.reference';
import {
  MembershipWorkspaceAccessResolver,
  OrganizationWorkspacesResolver,
  WorkspaceAccessResolver,
  WorkspaceResolver,
} from './modules/workspace/workspace.resolver';

const RESOLVERS = [
  OrganizationResolver,
  OrganizationTokenResolver,
  MembershipResolver,
  ViewerResolver,
  UserResolver,
  WorkspaceResolver,
  OrganizationWorkspacesResolver,
  MembershipWorkspaceAccessResolver,
  WorkspaceAccessResolver,
  ApiKeyResolver,
  OrganizationApiKeysResolver,
  OrganizationBillingResolver,
  BillingResolver,
  ByokResolver,
  OrganizationByokResolver,
  SsoResolver,
  OrganizationSsoResolver,
  ProvisionUserResolver,
  InvitationResolver,
  OrganizationInvitationsResolver,
  ViewerInvitationsResolver,
  UserInvitationsResolver,
  JoinRequestResolver,
  OrganizationJoinRequestsResolver,
  ViewerJoinRequestsResolver,
  OrganizationAuditResolver,
  OrganizationAuditIntegrityResolver,
  AuditEventResolver,
  EventResolver,
  WebhookEndpointResolver,
  WebhookDeliveryResolver,
  OrganizationWebhooksResolver,
  RoleResolver,
  OrganizationRolesResolver,
  MembershipRolesResolver,
  AuthorizationResolver,
  DomainResolver,
  OrganizationDomainsResolver,
  DirectoryResolver,
  OrganizationDirectoryResolver,
  ViewerSuggestionsResolver,
] as const;

const REFERENCE_RESOLVERS = [organizationReference, membershipReference, userReference, workspaceReference, invitationReference];

// The roots are named explicitly: API.md has an object type called `Subscription`, which an SDL
// without a schema definition would take for the subscription root.
const FEDERATION_LINK = `schema { query: Query mutation: Mutation }
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable", "@authenticated", "@requiresScopes"])`;

/** type-graphql classes → a Federation 2 subgraph schema, without authorization. */
export async function buildSubgraph(options: { authDirectives?: boolean } = {}): Promise<GraphQLSchema> {
  // Plain fields read their property through graphql's default resolver: type-graphql's
  // wrapper on each (for middlewares and auth checkers, which we do not use) showed in profiles.
  const wrapped = getMetadataStorage().objectTypes.filter((type) => !type.simpleResolvers);
  if (wrapped.length) throw new Error(`Declare @ObjectType({ simpleResolvers: true }) on ${wrapped.map((t) => t.name).join(', ')}`);
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    skipCheck: true,
    validate: false,
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
  });
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  for (const { type, field, resolve } of directFieldResolvers()) resolvers[type][field] = resolve;
  for (const reference of REFERENCE_RESOLVERS) {
    for (const [type, fields] of Object.entries(reference)) resolvers[type] = Object.assign({}, resolvers[type], fields);
  }
  const sdl = `${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`;
  return buildSubgraphSchema({
    typeDefs: gql(options.authDirectives === false ? withoutAuthDirectives(sdl) : sdl),
    resolvers: resolvers as never,
  });
}

type FieldResolve = (root: unknown, args: unknown, context: unknown) => unknown;
type Method = (...params: unknown[]) => unknown;
/** The parameter lists called directly, by their kinds in order. */
const SHAPES: Record<string, (method: Method) => FieldResolve> = {
  root: (method) => (root) => method(root),
  'root,ctx': (method) => (root, _args, context) => method(root, context),
};

/**
 * Field resolvers that take only an untyped `@Root()` and `@Ctx()`, called straight on an
 * instance of their resolver class (ours hold no state, and buildSchema above is given no
 * global middleware, auth checker or container). type-graphql's handler looks the instance up
 * and sorts and maps the parameters again on every call: a dashboard makes ~1,200 such calls.
 * Resolvers with arguments, a typed root (which type-graphql converts) or any middleware keep
 * type-graphql's handler.
 */
export function directFieldResolvers(): { type: string; field: string; resolve: FieldResolve }[] {
  const storage = getMetadataStorage();
  const guarded = storage.middlewares.length + storage.resolverMiddlewares.length + storage.authorizedFields.length + storage.authorizedResolver.length;
  if (guarded) return [];
  const instances = new Map<object, Record<string, Method>>();
  const direct = new Map<string, { type: string; field: string; resolve: FieldResolve }>();
  for (const resolver of storage.fieldResolvers) {
    const objectClass = resolver.kind === 'external' ? storage.resolverClasses.find((r) => r.target === resolver.target)?.getObjectType?.() : undefined;
    const type = storage.objectTypes.find((t) => t.target === objectClass)?.name;
    if (!type || !RESOLVERS.includes(resolver.target as never)) continue;
    const params = storage.params.filter((p) => p.target === resolver.target && p.methodName === resolver.methodName).sort((a, b) => a.index - b.index);
    const shape = params.map((p) => (p.kind === 'root' && !p.propertyName && !p.getType ? 'root' : p.kind === 'context' && !p.propertyName ? 'ctx' : 'other')).join(',');
    const call = SHAPES[shape];
    if (!call || params.some((p, i) => p.index !== i)) continue;
    const key = `${type}.${resolver.schemaName}`;
    // type-graphql would take the first of two resolvers for one field; refuse the ambiguity.
    if (direct.has(key)) throw new Error(`Two field resolvers for ${key}`);
    let instance = instances.get(resolver.target);
    if (!instance) instances.set(resolver.target, (instance = new (resolver.target as new () => Record<string, Method>)()));
    direct.set(key, { type, field: resolver.schemaName, resolve: call(instance[resolver.methodName].bind(instance)) });
  }
  return [...direct.values()];
}

/** The subgraph behind its permission map (src/authz/apply.ts): what the server executes. `unguarded` is the benchmark's variant only. */
export async function buildGuardedSchema(options: { unguarded?: boolean; authDirectives?: boolean } = {}): Promise<GraphQLSchema> {
  const schema = await buildSubgraph({ authDirectives: options.authDirectives });
  const entities = schema.getQueryType()!.getFields()._entities;
  entities.resolve = entitiesGuard(entities.resolve ?? defaultFieldResolver);
  return options.unguarded ? schema : applyPermissions(schema, permissions, PERMISSION_OPTIONS);
}

/** The SDL a router fetches through `_service { sdl }`: what schema.graphql holds. */
export async function subgraphSdl(schema?: GraphQLSchema): Promise<string> {
  const result = await execute({ schema: schema ?? (await buildSubgraph()), document: parse('{ _service { sdl } }') });
  const sdl = (result.data as { _service: { sdl: string } } | null)?._service.sdl;
  if (!sdl) throw new Error(`could not print the subgraph schema: ${JSON.stringify(result.errors)}`);
  return `${sdl.trim()}\n`;
}
