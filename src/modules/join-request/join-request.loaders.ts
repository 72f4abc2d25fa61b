import { childCountLoader, childPageLoader, rowLoader, type SqlParams } from '../../common/pagination';
import type { Database } from '../../db/database';
import { JoinRequestEntity, type JoinRequestStatus } from './join-request.entity';

export interface JoinRequestFilter {
  status: JoinRequestStatus | null;
}

const REQUESTS_OF_ORGANIZATION = {
  from: 'join_requests t',
  parentColumn: 't.organization_id',
  parentType: 'uuid' as const,
  where: (filter: JoinRequestFilter, params: SqlParams) => (filter.status ? [`t.status = ${params.add(filter.status)}`] : []),
};

export const joinRequestLoaders = (db: Database) => ({
  joinRequest: rowLoader(db, JoinRequestEntity, { table: 'join_requests', column: 'id', type: 'uuid', property: 'id' }),
  joinRequestsPage: childPageLoader(db, JoinRequestEntity, Object.assign({}, REQUESTS_OF_ORGANIZATION, { order: 'DESC' as const })),
  joinRequestsCount: childCountLoader(db, REQUESTS_OF_ORGANIZATION),
});
