import { childCountsLoader, childPagesLoader, rowLoader, type ChildList } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import { entityReader } from '../../db/entity-rows';
import { JoinRequestEntity, type JoinRequestStatus } from './join-request.entity';

export interface JoinRequestFilter {
  status: JoinRequestStatus | null;
}

/** An organization's join requests, newest first. */
const REQUESTS_OF_ORGANIZATION: ChildList<JoinRequestFilter> = {
  from: 'join_requests t',
  parentColumn: 't.organization_id',
  parentType: 'uuid',
  order: 'DESC',
  where: (filter, params) => (filter.status ? [`t.status = ${params.add(filter.status)}`] : []),
};

export const joinRequestLoaders = (db: Database) => ({
  joinRequest: rowLoader(db, JoinRequestEntity, { table: 'join_requests', column: 'id', type: 'uuid', property: 'id' }),
  joinRequestsPage: childPagesLoader(db, REQUESTS_OF_ORGANIZATION, entityReader(JoinRequestEntity)),
  joinRequestsCount: childCountsLoader(db, REQUESTS_OF_ORGANIZATION),
});
