import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { OrganizationRole } from '../../authz/permissions';

export enum DomainStatus {
  PENDING = 'PENDING',
  VERIFIED = 'VERIFIED',
  FAILED = 'FAILED',
}

export enum EnrollmentMode {
  MANUAL_INVITATION = 'MANUAL_INVITATION',
  AUTOMATIC_INVITATION = 'AUTOMATIC_INVITATION',
  AUTOMATIC_SUGGESTION = 'AUTOMATIC_SUGGESTION',
}

registerEnumType(DomainStatus, {
  name: 'DomainStatus',
  description: 'PENDING: waiting for its TXT record; VERIFIED: the record was found; FAILED: not verified in time (add the domain again to restart).',
});
registerEnumType(EnrollmentMode, {
  name: 'EnrollmentMode',
  description:
    'What a person whose verified email is at a VERIFIED domain gets: nothing (MANUAL_INVITATION), a pending invitation with the default role (AUTOMATIC_INVITATION), or the organization among Viewer.suggestedOrganizations, where requestToJoin is approved at once (AUTOMATIC_SUGGESTION).',
});

@ObjectType({ simpleResolvers: true, description: 'A DNS record to publish, as it is typed into a DNS provider.' })
export class DnsRecord {
  @Field(() => String, { description: 'TXT.' })
  type!: string;

  @Field(() => String, { description: 'The full record name, e.g. _orgs-verification.acme.com.' })
  name!: string;

  @Field(() => String)
  value!: string;
}

@ObjectType({ simpleResolvers: true, description: 'A domain an organization claims, proven by a TXT record. Needs DOMAINS_MANAGE.' })
export class OrganizationDomain {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'Lower-case; covers addresses exactly at it, not its subdomains.' })
  domain!: string;

  @Field(() => Date, { nullable: true })
  verifiedAt!: Date | null;

  @Field(() => Date, { description: 'A PENDING domain not verified by then is FAILED.' })
  verificationExpiresAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the record was last looked up.' })
  lastCheckedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'Since when the TXT record of this VERIFIED domain is no longer found (it stays VERIFIED: put the record back); null while it is found.',
  })
  unverifiedSince!: Date | null;

  @Field(() => EnrollmentMode)
  enrollmentMode!: EnrollmentMode;

  @Field(() => OrganizationRole, { description: 'The role of automatic invitations and of join requests approved at once.' })
  defaultRole!: OrganizationRole;

  @Field(() => Date)
  createdAt!: Date;
}

@InputType()
export class AddDomainInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => String, { description: 'e.g. acme.com. Public suffixes, consumer and disposable mail domains are refused.' })
  domain!: string;
}

@InputType()
export class UpdateDomainInput {
  @Field(() => ID)
  id!: string;

  @Field(() => EnrollmentMode, { nullable: true, description: 'Automatic modes need a VERIFIED domain.' })
  enrollmentMode?: EnrollmentMode | null;

  @Field(() => OrganizationRole, { nullable: true, description: 'Not OWNER, and nothing above your own role.' })
  defaultRole?: OrganizationRole | null;
}
