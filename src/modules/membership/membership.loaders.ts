import DataLoader from 'dataloader';
import type { Principal } from '../../auth/principal';
import type { OrganizationRole } from '../../authz/permissions';
import { childCountLoader, childPageLoader, rowLoader, type SqlParams } from '../../common/pagination';
import type { Database } from '../../db/database';
import { joinedEntity } from '../../db/entity-rows';
import { OrganizationEntity } from '../organization/organization.entity';
import { MembershipEntity } from './membership.entity';

export interface MemberFilter {
  role: OrganizationRole | null;
  /** Lower-case text searched in the member's email and name. */
  search: string | null;
}

const MEMBERS_OF_ORGANIZATION = {
  from: 'memberships t JOIN users u ON u.id = t.user_id',
  // A members page shows who they are: read it with the page instead of a user per member.
  joined: {
    columns: 'u.email AS member_email, u.email_verified AS member_email_verified, u.name AS member_name',
    attach: (member: MembershipEntity, row: Record<string, unknown>) => {
      member.profile = { email: row.member_email as string | null, emailVerified: row.member_email_verified === true, name: row.member_name as string | null };
    },
  },
  parentColumn: 't.organization_id',
  parentType: 'uuid' as const,
  planEachFilter: true,
  // Who the members are and their roles, as lists of members show them.
  lean: { columns: 't.id, t.organization_id AS "organizationId", t.user_id AS "userId", t.role', fields: new Set(['__typename', 'id', 'role', 'email', 'emailVerified', 'displayName', 'user', 'organization']) },
  where: (filter: MemberFilter, params: SqlParams) => {
    const conditions: string[] = [];
    if (filter.role) conditions.push(`t.role = ${params.add(filter.role)}`);
    if (filter.search) {
      const pattern = params.add(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      conditions.push(`(u.email ILIKE ${pattern} OR u.name ILIKE ${pattern})`);
    }
    return conditions;
  },
};

/** A user's memberships; `sharedWith` keeps those in organizations where that viewer can read members. */
export interface UserMembershipFilter {
  sharedWith: string | null;
}

const MEMBERSHIPS_OF_USER = {
  from: 'memberships t',
  parentColumn: 't.user_id',
  parentType: 'text' as const,
  // MEMBERS_READ is held by every role but GUEST, and assignments never reach a GUEST.
  where: (filter: UserMembershipFilter, params: SqlParams) =>
    filter.sharedWith
      ? [
          `EXISTS (SELECT 1 FROM memberships v WHERE v.organization_id = t.organization_id AND v.user_id = ${params.add(filter.sharedWith)} AND v.role <> 'GUEST')`,
        ]
      : [],
};

/**
 * A user's memberships with their organizations, which lists of memberships show (a dashboard,
 * an organization switcher): one statement instead of a second round for the organizations.
 */
function membershipsOfUserWithOrganizations(organization: DataLoader<string, OrganizationEntity | null>) {
  const joined = joinedEntity(OrganizationEntity, 'o', '__o');
  return Object.assign({}, MEMBERSHIPS_OF_USER, {
    from: 'memberships t LEFT JOIN organizations o ON o.id = t.organization_id',
    joined: {
      columns: joined.select,
      attach: (_member: MembershipEntity, row: Record<string, unknown>) => {
        const found = joined.from(row);
        if (found) organization.prime(found.id, found);
      },
    },
    order: 'ASC' as const,
  });
}

export const membershipLoaders = (db: Database, principal: Principal | null, organization: DataLoader<string, OrganizationEntity | null>) => ({
  membership: rowLoader(db, MembershipEntity, { table: 'memberships', column: 'id', type: 'uuid', property: 'id' }),
  /**
   * The asking user's own membership, by organization id, uncached: the access loader
   * (src/authz/access.ts) reads it and is the one place its answer is kept.
   */
  viewerMembership:
    principal?.kind === 'user'
      ? rowLoader(db, MembershipEntity, {
          table: 'memberships',
          column: 'organization_id',
          type: 'uuid',
          property: 'organizationId',
          where: 'user_id = $2',
          params: [principal.userId],
          cache: false,
        })
      : new DataLoader<string, MembershipEntity | null>(async (keys) => keys.map(() => null)),
  membersPage: childPageLoader(db, MembershipEntity, Object.assign({}, MEMBERS_OF_ORGANIZATION, { order: 'ASC' as const })),
  membersCount: childCountLoader(db, MEMBERS_OF_ORGANIZATION),
  userMembershipsPage: childPageLoader(db, MembershipEntity, membershipsOfUserWithOrganizations(organization)),
  userMembershipsCount: childCountLoader(db, MEMBERSHIPS_OF_USER),
});
