import { Field, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'A short-lived ES256 JWT stating what its holder may do in an organization (and a workspace), for services that check without calling: verify it against /.well-known/jwks.json.' })
export class OrganizationToken {
  @Field(() => String, { description: 'claims: sub, iss, aud "organization-token", iat, exp, org_id, org_role, org_permissions, and ws_id, ws_permissions when a workspace was named.' })
  token!: string;

  @Field(() => Date)
  expiresAt!: Date;
}
