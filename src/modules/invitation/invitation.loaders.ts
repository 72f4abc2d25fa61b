import { childCountsLoader, childPagesLoader, rowLoader, type ChildList } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { entityReader } from '../../db/entity-rows';
import type { SqlParams } from '../../db/sql-params';
import { InvitationEntity, InvitationStatus } from './invitation.entity';

export interface InvitationFilter {
  status: InvitationStatus | null;
}

/** EXPIRED is read from the clock: a PENDING invitation past its expiry. */
export function invitationStatusCondition(status: InvitationStatus, params: SqlParams): string {
  if (status === InvitationStatus.PENDING) return `(t.status = 'PENDING' AND t.expires_at > now())`;
  if (status === InvitationStatus.EXPIRED) return `(t.status = 'EXPIRED' OR (t.status = 'PENDING' AND t.expires_at <= now()))`;
  return `t.status = ${params.add(status)}`;
}

/** An organization's invitations, newest first. */
const INVITATIONS_OF_ORGANIZATION: ChildList<InvitationFilter> = {
  from: 'invitations t',
  parentColumn: 't.organization_id',
  parentType: 'uuid',
  order: 'DESC',
  where: (filter, params) => (filter.status ? [invitationStatusCondition(filter.status, params)] : []),
};

export const invitationLoaders = (db: Database) => ({
  invitation: rowLoader(db, InvitationEntity, { table: 'invitations', column: 'id', type: 'uuid', property: 'id' }),
  invitationsPage: childPagesLoader(db, INVITATIONS_OF_ORGANIZATION, entityReader(InvitationEntity)),
  invitationsCount: childCountsLoader(db, INVITATIONS_OF_ORGANIZATION),
});
