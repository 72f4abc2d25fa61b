import 'reflect-metadata';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { defaultFieldResolver, execute, parse, type GraphQLSchema } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import gql from 'graphql-tag';
import { buildSchema, createResolversMap, getMetadataStorage } from 'type-graphql';
import { applyPermissions } from './authz/apply';
import { PERMISSION_OPTIONS, permissions } from './authz/permissions-map';
import { entitiesGuard } from './input-guard';
import { ApiKeyResolver, OrganizationApiKeysResolver } from './modules/api-key/api-key.resolver';
import { AuditEventResolver, OrganizationAuditIntegrityResolver, OrganizationAuditResolver } from './modules/audit/audit.resolver';
import { BillingResolver, OrganizationBillingResolver } from './modules/billing/billing.resolver';
import { ByokResolver, OrganizationByokResolver } from './modules/byok/byok.resolver';
import { EventResolver } from './modules/event/event.resolver';
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
] as const;

const REFERENCE_RESOLVERS = [organizationReference, membershipReference, userReference, workspaceReference, invitationReference];

// The roots are named explicitly: API.md has an object type called `Subscription`, which an SDL
// without a schema definition would take for the subscription root.
const FEDERATION_LINK = `schema { query: Query mutation: Mutation }
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable", "@authenticated", "@requiresScopes"])`;

/** type-graphql classes → a Federation 2 subgraph schema, without authorization. */
export async function buildSubgraph(): Promise<GraphQLSchema> {
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
  for (const reference of REFERENCE_RESOLVERS) {
    for (const [type, fields] of Object.entries(reference)) resolvers[type] = Object.assign({}, resolvers[type], fields);
  }
  return buildSubgraphSchema({
    typeDefs: gql`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`,
    resolvers: resolvers as never,
  });
}

/** The subgraph behind its permission map (src/authz/apply.ts): what the server executes. `unguarded` is the benchmark's variant only. */
export async function buildGuardedSchema(options: { unguarded?: boolean } = {}): Promise<GraphQLSchema> {
  const schema = await buildSubgraph();
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
