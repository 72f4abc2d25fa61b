import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../context';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import * as directory from './directory.service';
import { CreatedDirectoryToken, DirectoryGroup, DirectoryToken, SetDirectoryGroupMappingInput } from './directory.types';

@Resolver(() => DirectoryToken)
export class DirectoryResolver {
  @Directive('@authenticated')
  @Mutation(() => CreatedDirectoryToken, { description: 'Needs SSO_MANAGE. A token for the organization\'s directory at /scim/v2; the secret is shown once. FAILED_PRECONDITION for a personal organization.' })
  createDirectoryToken(
    @Ctx() ctx: RequestContext,
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('name', () => String, { nullable: true, description: 'What the audit log names as the actor; "SCIM" when omitted.' }) name?: string | null,
  ) {
    return directory.createDirectoryToken(ctx, organizationId, name);
  }

  @Directive('@authenticated')
  @Mutation(() => DirectoryToken, { description: 'Needs SSO_MANAGE. Refused from the next request on.' })
  revokeDirectoryToken(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return directory.revokeDirectoryToken(ctx, id);
  }

  @Directive('@authenticated')
  @Mutation(() => DirectoryGroup, { description: 'Needs SSO_MANAGE. What the group\'s members get here; applied to them at once.' })
  setDirectoryGroupMapping(@Ctx() ctx: RequestContext, @Arg('input', () => SetDirectoryGroupMappingInput) input: SetDirectoryGroupMappingInput) {
    return directory.setDirectoryGroupMapping(ctx, input);
  }
}

@Resolver(() => Organization)
export class OrganizationDirectoryResolver {
  @FieldResolver(() => [DirectoryToken], { description: 'Needs SSO_MANAGE. Oldest first, revoked ones included.' })
  directoryTokens(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext) {
    return directory.organizationDirectoryTokens(ctx, organization.id);
  }

  @FieldResolver(() => [DirectoryGroup], { description: 'Needs SSO_MANAGE. The groups the directory provisioned, by name.' })
  directoryGroups(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext) {
    return directory.organizationDirectoryGroups(ctx, organization.id);
  }
}
