import DataLoader from 'dataloader';
import type { Principal } from '../../auth/principal';
import type { OrganizationRole } from '../../authz/permissions';
import { childCountsLoader, childPagesLoader, rowLoader, type ChildList } from '../../db/batch-loaders';
import type { Database } from '../../db/database';
import type { FieldReads } from '../../db/selection';
import { columnList, entitiesOf, entityReader, joinedEntity, type RowReader } from '../../db/entity-rows';
import { isUuid } from '../../common/ids';
import { OrganizationEntity } from '../organization/organization.entity';
import { MembershipEntity } from './membership.entity';

export interface MemberFilter {
  role: OrganizationRole | null;
  /** Lower-case text searched in the member's email and name. */
  search: string | null;
}

/** An organization's members, oldest first, by role or searched by email and name. */
const MEMBERS_OF_ORGANIZATION: ChildList<MemberFilter> = {
  from: 'memberships t JOIN users u ON u.id = t.user_id',
  parentColumn: 't.organization_id',
  parentType: 'uuid',
  order: 'ASC',
  // A search may match nearly no one or nearly everyone.
  planEachFilter: true,
  where: (filter, params) => {
    const conditions: string[] = [];
    if (filter.role) conditions.push(`t.role = ${params.add(filter.role)}`);
    if (filter.search) {
      const pattern = params.add(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      conditions.push(`(u.email ILIKE ${pattern} OR u.name ILIKE ${pattern})`);
    }
    return conditions;
  },
};

/**
 * What each Membership field reads of its row (db/selection.ts): a page whose fields read less
 * reads less. Side by side (npm run bench -- --baseline), a dashboard's twenty members pages
 * reading four columns instead of nine answered 7% (1 connection) to 12% (10) faster: no
 * timestamps and arrays parsed for rows that show a role and a name.
 */
export const MEMBERSHIP_READS: FieldReads = {
  always: ['id', 'organizationId', 'userId', 'role'],
  byField: {
    id: [],
    role: [],
    organization: [],
    user: [],
    email: [],
    emailVerified: [],
    displayName: [],
    assignments: ['assignments'],
    permissions: ['assignments', 'rolePermissions'],
    workspaceAccess: ['assignments', 'rolePermissions'],
    roles: ['roleIds'],
    joinedAt: ['joinedAt'],
    invitedBy: ['invitedById'],
  },
};

/** Members with who they are: a members page shows it, read with the page instead of a user per member. */
function membersWithProfiles(members: RowReader<MembershipEntity> = entityReader(MembershipEntity)): RowReader<MembershipEntity> {
  return {
    columns: `${members.columns}, u.email AS member_email, u.email_verified AS member_email_verified, u.name AS member_name`,
    read: (raw) => {
      const [email, emailVerified, name] = ['member_email', 'member_email_verified', 'member_name'].map((column) => raw.names.indexOf(column));
      return members.read(raw).map((member, i) => {
        const row = raw.rows[i];
        member.profile = { email: row[email] as string | null, emailVerified: row[emailVerified] === true, name: row[name] as string | null };
        return member;
      });
    },
    narrowTo: (properties) => membersWithProfiles(entityReader(MembershipEntity, properties)),
  };
}

/**
 * A user's memberships; `sharedWith` keeps those in organizations where that viewer can read
 * members: not a GUEST there, and let in by SSO enforcement (memberAccess in src/authz/access.ts)
 * — through its token's `sso_org_id`. An OWNER's break-glass is for the organization's own
 * fields, which audit it; another member's memberships are not listed to it without the claim.
 */
export interface UserMembershipFilter {
  sharedWith: { userId: string; ssoOrgId: string | null } | null;
}

/** A user's memberships, oldest first. */
const MEMBERSHIPS_OF_USER: ChildList<UserMembershipFilter> = {
  from: 'memberships t',
  parentColumn: 't.user_id',
  parentType: 'text',
  order: 'ASC',
  // MEMBERS_READ is held by every role but GUEST, and assignments never reach a GUEST.
  where: (filter, params) =>
    filter.sharedWith
      ? [
          `EXISTS (SELECT 1 FROM memberships v JOIN organizations vo ON vo.id = v.organization_id
                   WHERE v.organization_id = t.organization_id AND v.user_id = ${params.add(filter.sharedWith.userId)} AND v.role <> 'GUEST'
                     AND (NOT vo.sso_enforced OR vo.id::text = ${params.add(filter.sharedWith.ssoOrgId)}))`,
        ]
      : [],
};

/** The same with each membership's organization joined, as `o`, for membershipsWithOrganizations. */
const MEMBERSHIPS_OF_USER_WITH_ORGANIZATIONS: ChildList<UserMembershipFilter> = Object.assign({}, MEMBERSHIPS_OF_USER, {
  from: 'memberships t LEFT JOIN organizations o ON o.id = t.organization_id',
});

/**
 * A user's memberships with their organizations, which lists of memberships show (a dashboard,
 * an organization switcher): one statement instead of a second round for the organizations,
 * which go to the organization loader.
 */
function membershipsWithOrganizations(organization: DataLoader<string, OrganizationEntity | null>): RowReader<MembershipEntity> {
  const members = entityReader(MembershipEntity);
  const joined = joinedEntity(OrganizationEntity, 'o', '__o');
  return {
    columns: `${members.columns}, ${joined.select}`,
    read: (raw) => {
      const memberships = members.read(raw);
      const organizationOf = joined.reader(raw.names);
      raw.rows.forEach((row, i) => {
        const found = organizationOf(row);
        if (!found) return;
        organization.prime(found.id, found);
        // What the asker's access in it is computed from (src/authz/access.ts).
        memberships[i].organizationSsoEnforced = found.ssoEnforced;
      });
      return memberships;
    },
  };
}

/**
 * The asking user's own memberships by organization id, each with its organization's SSO
 * enforcement (MembershipEntity.organizationSsoEnforced): what access is computed from
 * (src/authz/access.ts), in the one statement it always took.
 */
function viewerMembershipLoader(db: Database, userId: string): DataLoader<string, MembershipEntity | null> {
  return new DataLoader(
    async (keys) => {
      const wanted = keys.filter(isUuid);
      if (!wanted.length) return keys.map(() => null);
      const raw = await db.queryRows(
        `SELECT ${columnList(MembershipEntity, 'm.')}, o.sso_enforced AS "__sso_enforced" FROM memberships m JOIN organizations o ON o.id = m.organization_id
         WHERE m.organization_id = ANY($1::uuid[]) AND m.user_id = $2`,
        [wanted, userId],
        { prepare: true },
      );
      const rows = entitiesOf(MembershipEntity, raw);
      const ssoEnforced = raw.names.indexOf('__sso_enforced');
      rows.forEach((row, i) => (row.organizationSsoEnforced = raw.rows[i][ssoEnforced] === true));
      const byKey = new Map(rows.map((row) => [row.organizationId, row]));
      return keys.map((key) => byKey.get(key) ?? null);
    },
    { cache: false },
  );
}

export const membershipLoaders = (db: Database, principal: Principal | null, organization: DataLoader<string, OrganizationEntity | null>) => ({
  membership: rowLoader(db, MembershipEntity, { table: 'memberships', column: 'id', type: 'uuid', property: 'id' }),
  /**
   * The asking user's own membership, by organization id, uncached: the access loader
   * (src/authz/access.ts) reads it and is the one place its answer is kept.
   */
  viewerMembership:
    principal?.kind === 'user'
      ? viewerMembershipLoader(db, principal.userId)
      : new DataLoader<string, MembershipEntity | null>(async (keys) => keys.map(() => null)),
  membersPage: childPagesLoader(db, MEMBERS_OF_ORGANIZATION, membersWithProfiles()),
  membersCount: childCountsLoader(db, MEMBERS_OF_ORGANIZATION),
  userMembershipsPage: childPagesLoader(db, MEMBERSHIPS_OF_USER_WITH_ORGANIZATIONS, membershipsWithOrganizations(organization)),
  userMembershipsCount: childCountsLoader(db, MEMBERSHIPS_OF_USER),
});
