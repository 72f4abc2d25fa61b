import { childCountLoader, childPageLoader, rowLoader, type SqlParams } from '../../common/pagination';
import type { Database } from '../../db/database';
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

const INVITATIONS_OF_ORGANIZATION = {
  from: 'invitations t',
  parentColumn: 't.organization_id',
  parentType: 'uuid' as const,
  where: (filter: InvitationFilter, params: SqlParams) => (filter.status ? [invitationStatusCondition(filter.status, params)] : []),
};

export const invitationLoaders = (db: Database) => ({
  invitation: rowLoader(db, InvitationEntity, { table: 'invitations', column: 'id', type: 'uuid', property: 'id' }),
  invitationsPage: childPageLoader(db, InvitationEntity, Object.assign({}, INVITATIONS_OF_ORGANIZATION, { order: 'DESC' as const })),
  invitationsCount: childCountLoader(db, INVITATIONS_OF_ORGANIZATION),
});
