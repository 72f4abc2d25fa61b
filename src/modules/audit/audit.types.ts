import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { Connection } from '../../common/connection';
import { PageArgs } from '../../common/page';
import { AuditEventOrigin } from './audit-action';
import { ActorType } from './audit.entity';

registerEnumType(ActorType, { name: 'ActorType' });
registerEnumType(AuditEventOrigin, {
  name: 'AuditEventOrigin',
  description: 'Whose action an audit event records, read from the shape of its action.',
  valuesConfig: {
    CORE: { description: 'This service\'s own action, `<target>.<verb>`: a change it made, whoever asked for it.' },
    PARTNER: { description: 'A partner service\'s statement through recordAuditEvent, `<client id>.<target>.<verb>`: recorded as told, not a change made here.' },
  },
});

@ObjectType({ simpleResolvers: true })
export class AuditActor {
  @Field(() => ActorType)
  type!: ActorType;

  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  display!: string | null;
}

@ObjectType({ simpleResolvers: true })
export class AuditTarget {
  @Field(() => String)
  type!: string;

  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  display!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'One change in an organization, written in the same transaction as the change.' })
export class AuditEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => String, { description: '<target>.<verb> for a core action (member.role_changed), <client id>.<target>.<verb> for a partner\'s.' })
  action!: string;

  @Field(() => GraphQLJSON, { nullable: true })
  metadata!: Record<string, unknown> | null;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => String, { description: 'SHA-256 over the event and the previous event\'s hash: its link in the chain.' })
  hash!: string;
}

export const AuditEventConnection = Connection(AuditEvent, 'AuditEvent');

@ObjectType({ simpleResolvers: true, description: 'The result of recomputing the organization\'s audit hash chain.' })
export class AuditIntegrity {
  @Field(() => Boolean, { description: 'No event was edited, inserted or removed behind the application\'s back.' })
  verified!: boolean;

  @Field(() => Int)
  eventsChecked!: number;

  @Field(() => ID, { nullable: true, description: 'Where the chain breaks first.' })
  firstBrokenEventId!: string | null;
}

@InputType()
export class AuditEventFilter {
  @Field(() => [String], { nullable: true })
  actions?: string[] | null;

  @Field(() => ID, { nullable: true })
  actorId?: string | null;

  @Field(() => String, { nullable: true })
  targetType?: string | null;

  @Field(() => ID, { nullable: true })
  targetId?: string | null;

  @Field(() => Date, { nullable: true })
  since?: Date | null;

  @Field(() => Date, { nullable: true })
  until?: Date | null;
}

@ArgsType()
export class AuditEventsArgs extends PageArgs {
  @Field(() => AuditEventFilter, { nullable: true })
  filter?: AuditEventFilter | null;
}

@InputType()
export class AuditTargetInput {
  @Field(() => String)
  type!: string;

  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  display?: string | null;
}

@InputType()
export class RecordAuditEventInput {
  @Field(() => ID)
  organizationId!: string;

  @Field(() => String, { description: '<client id>.<target>.<verb>: the calling service\'s client id (its token\'s sub), then lower-case words, e.g. model-proxy.model.invoked.' })
  action!: string;

  @Field(() => AuditTargetInput, { nullable: true })
  target?: AuditTargetInput | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'An object, at most 16 KB of JSON. Never put a secret here.' })
  metadata?: unknown;

  @Field(() => String)
  idempotencyKey!: string;
}
