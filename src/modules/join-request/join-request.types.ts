import { ArgsType, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../../common/connection';
import { PageArgs } from '../../common/page';
import { JoinRequestStatus } from './join-request.entity';

registerEnumType(JoinRequestStatus, { name: 'JoinRequestStatus' });

@ObjectType({ simpleResolvers: true, description: 'Someone asking to join a discoverable organization.' })
export class JoinRequest {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => JoinRequestStatus)
  status!: JoinRequestStatus;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  decidedAt!: Date | null;
}

export const JoinRequestConnection = Connection(JoinRequest, 'JoinRequest');

@ArgsType()
export class JoinRequestsArgs extends PageArgs {
  @Field(() => JoinRequestStatus, { nullable: true })
  status?: JoinRequestStatus | null;
}

@ObjectType({ simpleResolvers: true, description: 'A discoverable organization as search shows it: id, slug and name, nothing else.' })
export class OrganizationSearchResult {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => String)
  name!: string;
}

@ArgsType()
export class SearchOrganizationsArgs {
  @Field(() => String, { description: 'At least 2 characters, matched in the name or slug, case-insensitively.' })
  query!: string;

  @Field(() => Int, { nullable: true, description: 'At most 20.' })
  first?: number | null;
}
