import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../context';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import { Viewer } from '../user/user.types';
import type { OrganizationDomainEntity } from './domain.entity';
import * as domains from './domain.service';
import { AddDomainInput, DnsRecord, DomainStatus, OrganizationDomain, UpdateDomainInput } from './domain.types';
import { suggestedOrganizations } from './enrollment';

@Resolver(() => OrganizationDomain)
export class DomainResolver {
  @Directive('@authenticated')
  @Mutation(() => OrganizationDomain, { description: 'Needs DOMAINS_MANAGE. PENDING, with the TXT record to publish; adding a PENDING or FAILED domain again restarts its verification window.' })
  addDomain(@Ctx() ctx: RequestContext, @Arg('input', () => AddDomainInput) input: AddDomainInput) {
    return domains.addDomain(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => OrganizationDomain, {
    description: 'Needs DOMAINS_MANAGE. Looks the TXT record up now: VERIFIED, or FAILED_PRECONDITION (extensions.reason DNS_RECORD_NOT_FOUND, DNS_LOOKUP_FAILED, VERIFICATION_EXPIRED); CONFLICT (DOMAIN_ALREADY_VERIFIED) when another organization verified it.',
  })
  verifyDomain(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return domains.verifyDomain(ctx, id);
  }

  @Directive('@authenticated')
  @Mutation(() => OrganizationDomain, { description: 'Needs DOMAINS_MANAGE.' })
  updateDomain(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateDomainInput) input: UpdateDomainInput) {
    return domains.updateDomain(ctx, input);
  }

  @Directive('@authenticated')
  @Mutation(() => Boolean, { description: 'Needs DOMAINS_MANAGE. Invitations it already made stay.' })
  removeDomain(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return domains.removeDomain(ctx, id);
  }

  @FieldResolver(() => DomainStatus)
  status(@Root() domain: OrganizationDomainEntity): DomainStatus {
    return domains.statusOf(domain);
  }

  @FieldResolver(() => DnsRecord, { description: 'The TXT record to publish (and to keep: a verified domain is checked again periodically).' })
  verificationRecord(@Root() domain: OrganizationDomainEntity): DnsRecord {
    return domains.verificationRecord(domain);
  }
}

@Resolver(() => Organization)
export class OrganizationDomainsResolver {
  @FieldResolver(() => [OrganizationDomain], { description: 'Needs DOMAINS_MANAGE. By domain name.' })
  domains(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext) {
    return domains.organizationDomains(ctx, organization.id);
  }
}

@Resolver(() => Viewer)
export class ViewerSuggestionsResolver {
  @FieldResolver(() => [Organization], {
    description: 'Organizations whose VERIFIED domain in AUTOMATIC_SUGGESTION mode is that of the viewer\'s verified email, and which the viewer is not in: requestToJoin there is approved at once. Their id, slug and name.',
  })
  suggestedOrganizations(@Root() viewer: Viewer, @Ctx() ctx: RequestContext) {
    return suggestedOrganizations(ctx, viewer.id);
  }
}
