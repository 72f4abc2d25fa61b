import type { GraphQLResolveInfo } from 'graphql';
import { Directive, Arg, Args, Ctx, FieldResolver, Info, Mutation, Resolver, Root } from 'type-graphql';
import { toConnection } from '../../common/connection';
import { toPage } from '../../common/page';
import { propertiesRead } from '../../db/selection';
import type { RequestContext } from '../../context';
import type { OrganizationEntity } from '../organization/organization.entity';
import { Organization } from '../organization/organization.types';
import type { AuditEventEntity } from './audit.entity';
import { auditOrigin, AuditEventOrigin } from './audit-action';
import { AUDIT_EVENT_READS, auditFilter } from './audit.loaders';
import { recordPartnerEvent, verifyChain } from './audit.service';
import { AuditActor, AuditEvent, AuditEventConnection, AuditEventsArgs, AuditIntegrity, AuditTarget, RecordAuditEventInput } from './audit.types';

@Resolver(() => Organization)
export class OrganizationAuditResolver {
  @FieldResolver(() => AuditEventConnection, { description: 'Newest first. Needs AUDIT_READ.' })
  async auditEvents(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext, @Args() args: AuditEventsArgs, @Info() info: GraphQLResolveInfo) {
    const page = toPage(args);
    const filter = auditFilter(args.filter ?? {});
    const rows = await ctx.loaders.auditPage.load({ parentId: organization.id, page, filter, properties: propertiesRead(info, AUDIT_EVENT_READS) });
    return toConnection(rows, page, () => ctx.loaders.auditCount.load({ parentId: organization.id, filter }));
  }
}

@Resolver(() => Organization)
export class OrganizationAuditIntegrityResolver {
  @FieldResolver(() => AuditIntegrity, { description: 'Recomputes the audit hash chain. Needs AUDIT_READ.' })
  auditIntegrity(@Root() organization: OrganizationEntity, @Ctx() ctx: RequestContext) {
    return verifyChain(ctx.db, organization.id);
  }
}

@Resolver(() => AuditEvent)
export class AuditEventResolver {
  @Directive('@requiresScopes(scopes: [["audit:write"]])')
  @Mutation(() => AuditEvent, { description: 'Partner services, scope audit:write: append to an organization\'s log. Idempotent under retry.' })
  async recordAuditEvent(@Ctx() ctx: RequestContext, @Arg('input', () => RecordAuditEventInput) input: RecordAuditEventInput) {
    const id = await recordPartnerEvent(ctx, input);
    return ctx.loaders.auditEvent.load(id);
  }

  @FieldResolver(() => Organization, { nullable: true, description: 'Null once the organization is deleted.' })
  organization(@Root() event: AuditEventEntity, @Ctx() ctx: RequestContext) {
    return ctx.loaders.organization.load(event.organizationId);
  }

  @FieldResolver(() => AuditEventOrigin, { description: 'CORE for this service\'s own actions, PARTNER for what a partner service recorded.' })
  origin(@Root() event: AuditEventEntity): AuditEventOrigin {
    return auditOrigin(event.action);
  }

  @FieldResolver(() => AuditActor)
  actor(@Root() event: AuditEventEntity): AuditActor {
    return { type: event.actorType, id: event.actorId, display: event.actorDisplay };
  }

  @FieldResolver(() => AuditTarget, { nullable: true })
  target(@Root() event: AuditEventEntity): AuditTarget | null {
    return event.targetType && event.targetId ? { type: event.targetType, id: event.targetId, display: event.targetDisplay } : null;
  }
}
