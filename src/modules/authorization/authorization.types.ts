import { Field, ID, InputType, ObjectType } from 'type-graphql';

@InputType({ description: 'May this person (userId) or API key (apiKeyId) do `permission` in the organization (and workspace)? Exactly one subject.' })
export class AuthorizationCheckInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => ID, { nullable: true, description: 'Inside this workspace: the subject\'s workspace role counts, and it must be able to enter the workspace.' })
  workspaceId?: string | null;

  @Field(() => ID, { nullable: true })
  userId?: string | null;

  @Field(() => ID, { nullable: true })
  apiKeyId?: string | null;

  @Field(() => String, { description: 'A permission key: a built-in name (MEMBERS_INVITE) or a catalog key (sandboxes:create).' })
  permission!: string;
}

@ObjectType({ simpleResolvers: true })
export class AuthorizationDecision {
  @Field(() => Boolean)
  allowed!: boolean;

  @Field(() => String, {
    description:
      'ALLOWED; MISSING_PERMISSION; NOT_A_MEMBER (the user is not a member, the key is another organization\'s); UNKNOWN_SUBJECT (no such user or key); UNKNOWN_ORGANIZATION; UNKNOWN_WORKSPACE (none, or another organization\'s); NO_WORKSPACE_ACCESS (the subject cannot enter the workspace); KEY_REVOKED; KEY_EXPIRED.',
  })
  reason!: string;
}
