import type { PageInfo } from '../../common/connection';
import { isUuid } from '../../common/ids';
import { pageSize } from '../../common/page';
import { SqlParams } from '../../db/sql-params';
import type { Database } from '../../db/database';
import { badInput } from '../../errors';
import { entitiesOf } from '../../db/entity-rows';
import { EventEntity } from './event.entity';
import { likePrefix, parseTypeFilter } from './event-types';
import type { EventsArgs } from './event.types';

/** A place in the feed: after the event of this (xid, position). */
interface FeedCursor {
  xid: string;
  position: string;
}

const CURSOR = /^(\d{1,20}):(\d{1,20})$/;

const encode = (event: { xid: string; position: string }): string => Buffer.from(`${event.xid}:${event.position}`, 'utf8').toString('base64url');

function decode(after: string): FeedCursor {
  const match = CURSOR.exec(Buffer.from(after, 'base64url').toString('utf8'));
  if (!match) throw badInput('after', 'after is not a cursor this feed returned');
  return { xid: match[1], position: match[2] };
}

export interface FeedPage {
  edges: { cursor: string; node: EventEntity }[];
  nodes: EventEntity[];
  pageInfo: PageInfo;
}

/**
 * A page of the event feed, oldest first, in one statement.
 *
 * Transactions commit out of the order they wrote in, so an id or a sequence alone would let a
 * cursor pass an event whose transaction was still running and lose it when it commits. Each
 * event carries its transaction's id (xid8, at least its organization's previous event's:
 * migrations/1764600000000-Events.ts), and the feed shows only events of transactions older
 * than the oldest one still running, `pg_snapshot_xmin(pg_current_snapshot())`: every
 * transaction below that horizon has ended, and any that commits later has an id at or above it,
 * so it sorts after every event already shown. A long transaction anywhere on the server holds
 * the horizon (and the feed) back until it ends: late, never lost. The same pattern as Emmett's
 * and SQLStreamStore's PostgreSQL event stores.
 *
 * A cursor at or past `pg_snapshot_xmax` (beyond every transaction begun so far) was never
 * issued here, by this database at least (a restore, another cluster): answering it with
 * nothing would leave its consumer waiting forever, so it is BAD_USER_INPUT. The same statement
 * reads the horizon, so that a page stays one statement.
 */
export async function eventFeed(db: Database, args: EventsArgs): Promise<FeedPage> {
  const first = pageSize(args.first);
  const after = args.after ? decode(args.after) : null;
  const filter = parseTypeFilter('types', args.types);
  const params = new SqlParams();
  const conditions = ['xid < horizon.xmin'];
  if (after) conditions.push(`(xid, position) > (${params.add(after.xid)}::bigint, ${params.add(after.position)}::bigint)`);
  if (args.organizationId !== null && args.organizationId !== undefined) {
    // An id that is no organization's matches nothing, as a deleted organization's does.
    if (!isUuid(args.organizationId)) throw badInput('organizationId', 'organizationId is not an organization id');
    conditions.push(`organization_id = ${params.add(args.organizationId)}::uuid`);
  }
  if (filter.exact.length || filter.prefixes.length) {
    conditions.push(`(type = ANY(${params.add(filter.exact)}::text[]) OR type LIKE ANY(${params.add(filter.prefixes.map(likePrefix))}::text[]))`);
  }
  const found = await db.queryRows(
    `WITH horizon AS (
       SELECT pg_snapshot_xmin(s)::text::bigint AS xmin, pg_snapshot_xmax(s)::text::bigint AS xmax FROM pg_current_snapshot() AS s
     )
     SELECT horizon.xmax::text AS horizon_xmax, page.* FROM horizon LEFT JOIN LATERAL (
       SELECT id, organization_id, type, occurred_at, data, xid, position FROM events
       WHERE ${conditions.join(' AND ')} ORDER BY xid, position LIMIT ${params.add(first + 1)}
     ) AS page ON true
     ORDER BY page.xid, page.position`,
    params.values,
  );
  const horizonXmax = String(found.rows[0][found.names.indexOf('horizon_xmax')]);
  if (after && BigInt(after.xid) >= BigInt(horizonXmax)) throw badInput('after', 'after is not a cursor this feed returned: it is past every transaction of this database');
  const id = found.names.indexOf('id');
  const rows = entitiesOf(EventEntity, { names: found.names, rows: found.rows.filter((row) => row[id] !== null) });
  const nodes = rows.slice(0, first);
  const last = nodes.at(-1);
  return {
    nodes,
    edges: nodes.map((node) => ({ cursor: encode(node), node })),
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: after !== null,
      startCursor: nodes.length ? encode(nodes[0]) : null,
      // Nothing new: the same cursor again, so that a consumer polling with it misses nothing.
      endCursor: last ? encode(last) : (args.after ?? null),
    },
  };
}
