import { Directive, Arg, Args, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { sortKeys } from '../../authz/effective-permissions';
import { isBuiltInPermission, Permission } from '../../authz/permissions';
import { PageArgs } from '../../common/page';
import type { RequestContext } from '../../context';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import { User } from '../user/user.types';
import { Workspace } from '../workspace/workspace.types';
import type { ApiKeyEntity } from './api-key.entity';
import * as apiKeys from './api-key.service';
import { ApiKey, ApiKeyConnection, CreateApiKeyInput, CreatedApiKey } from './api-key.types';

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Directive('@authenticated')
  @Mutation(() => CreatedApiKey, { description: 'Needs API_KEYS_MANAGE. The secret is in the answer, this once.' })
  createApiKey(@Ctx() ctx: RequestContext, @Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput) {
    return apiKeys.createApiKey(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => CreatedApiKey, { description: 'A new secret for the key; the old one stops working at once.' })
  rotateApiKey(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return apiKeys.rotateApiKey(ctx, id);
  }

  @Directive('@authenticated')
  @Mutation(() => ApiKey)
  revokeApiKey(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return apiKeys.revokeApiKey(ctx, id);
  }

  @FieldResolver(() => Workspace, { nullable: true, description: 'The workspace it is bound to, if the viewer may see it.' })
  async workspace(@Root() key: ApiKeyEntity, @Ctx() ctx: RequestContext) {
    return key.workspaceId ? ((await ctx.loaders.workspaceView.load(key.workspaceId))?.workspace ?? null) : null;
  }

  @FieldResolver(() => [Permission])
  scopes(@Root() key: ApiKeyEntity): Permission[] {
    return sortKeys(key.scopes).filter(isBuiltInPermission);
  }

  @FieldResolver(() => [String])
  permissionKeys(@Root() key: ApiKeyEntity): string[] {
    return sortKeys(key.scopes);
  }

  @FieldResolver(() => User, { nullable: true })
  createdBy(@Root() key: ApiKeyEntity): User | null {
    return key.createdById ? { id: key.createdById } : null;
  }
}

@Resolver(() => Organization)
export class OrganizationApiKeysResolver {
  @FieldResolver(() => ApiKeyConnection, { description: 'Newest first, revoked ones included. Needs API_KEYS_MANAGE.' })
  apiKeys(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext, @Args() args: PageArgs) {
    return apiKeys.organizationApiKeys(ctx, organization.id, args);
  }
}
