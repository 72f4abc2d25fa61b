import { Directive, Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../context';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import * as byok from './byok.service';
import { ByokCredentials, ByokStatus, SetByokCredentialsInput } from './byok.types';

@Resolver(() => ByokStatus)
export class ByokResolver {
  @Directive('@authenticated')
  @Mutation(() => ByokStatus, { description: 'Needs BYOK_MANAGE (OWNER). The secret is stored encrypted and never shown again.' })
  setByokCredentials(@Ctx() ctx: RequestContext, @Arg('input', () => SetByokCredentialsInput) input: SetByokCredentialsInput) {
    return byok.setByokCredentials(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => Boolean)
  clearByokCredentials(@Ctx() ctx: RequestContext, @Arg('organizationId', () => ID) organizationId: string): Promise<boolean> {
    return byok.clearByokCredentials(ctx, organizationId);
  }

  @Directive('@requiresScopes(scopes: [["byok:read"]])')
  @Query(() => ByokCredentials, { nullable: true, description: 'Partner services, scope byok:read: the decrypted credentials, or null when none are set.' })
  byokCredentials(@Ctx() ctx: RequestContext, @Arg('organizationId', () => ID) organizationId: string) {
    return byok.byokCredentials(ctx, organizationId);
  }
}

@Resolver(() => Organization)
export class OrganizationByokResolver {
  @FieldResolver(() => ByokStatus, { description: 'Needs BYOK_MANAGE.' })
  async byok(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext): Promise<ByokStatus> {
    return byok.statusOf(await ctx.loaders.byokStatus.load(organization.id));
  }
}
