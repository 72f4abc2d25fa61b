import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../context';
import { notFound } from '../../errors';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import * as sso from './sso.service';
import { SetSsoConnectionInput, SsoConfiguration, SsoConnection, SsoRoute } from './sso.types';

@Resolver(() => SsoConnection)
export class SsoResolver {
  @FieldResolver(() => Organization)
  async organization(@Root() connection: SsoConnection, @Ctx() ctx: RequestContext): Promise<OrganizationEntity> {
    const organization = await ctx.loaders.organization.load(connection.organizationId);
    if (!organization) throw notFound('Organization');
    return organization;
  }

  @Directive('@authenticated')
  @Mutation(() => SsoConnection, {
    description: 'Needs SSO_MANAGE (OWNER). Creates or replaces the organization\'s one connection; the IdP is checked first (OIDC discovery, SAML metadata) and refused with the reason. The client secret is stored encrypted and never shown again.',
  })
  setSsoConnection(@Ctx() ctx: RequestContext, @Arg('input', () => SetSsoConnectionInput) input: SetSsoConnectionInput) {
    return sso.setSsoConnection(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => Boolean, { description: 'Needs SSO_MANAGE (OWNER). Enforcement goes with the connection. False when there was none.' })
  deleteSsoConnection(@Ctx() ctx: RequestContext, @Arg('organizationId', () => ID) organizationId: string): Promise<boolean> {
    return sso.deleteSsoConnection(ctx, organizationId);
  }

  @Directive('@requiresScopes(scopes: [["sso:read"]])')
  @Query(() => SsoConfiguration, { nullable: true, description: 'The accounts service, scope sso:read: the decrypted configuration, or null when the organization has no connection.' })
  ssoConnection(@Ctx() ctx: RequestContext, @Arg('organizationId', () => ID) organizationId: string) {
    return sso.ssoConnection(ctx, organizationId);
  }

  @Directive('@requiresScopes(scopes: [["sso:read"]])')
  @Query(() => SsoRoute, {
    nullable: true,
    description: 'The accounts service, scope sso:read: the organization holding this address\'s domain VERIFIED and its connection (decrypted), or null when none does or it has no connection.',
  })
  ssoRoute(@Ctx() ctx: RequestContext, @Arg('email', () => String) email: string) {
    return sso.ssoRoute(ctx, email);
  }
}

@Resolver(() => Organization)
export class OrganizationSsoResolver {
  @FieldResolver(() => SsoConnection, { nullable: true, description: 'Needs SSO_MANAGE (OWNER). Null when none is set.' })
  ssoConnection(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext) {
    return sso.organizationConnection(ctx, organization);
  }
}
