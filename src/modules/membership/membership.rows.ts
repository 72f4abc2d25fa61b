import { OrganizationRole } from '../../authz/permissions';
import type { Database } from '../../db/database';
import { columnList } from '../../db/entity-rows';
import { failedPrecondition } from '../../errors';
import { MembershipEntity } from './membership.entity';

/* Writes of a membership row that several services share (organizations, invitations, join requests, removals). */

/** Refuses a change that would leave the organization without an OWNER. */
export async function assertAnotherOwner(tx: Database, organizationId: string, leaving: MembershipEntity): Promise<void> {
  if (leaving.role !== OrganizationRole.OWNER) return;
  const [{ owners }] = await tx.query<{ owners: number }>(
    // A suspended OWNER (SCIM active: false) holds nothing: it does not count.
    `SELECT count(*)::int AS owners FROM memberships WHERE organization_id = $1 AND role = 'OWNER' AND id <> $2 AND suspended_at IS NULL`,
    [organizationId, leaving.id],
  );
  if (owners === 0) throw failedPrecondition('An organization must keep at least one OWNER: make someone else OWNER first');
}

export async function insertMembership(
  tx: Database,
  fields: { organizationId: string; userId: string; role: OrganizationRole; assignments?: string[]; invitedById?: string | null; roleIds?: string[]; rolePermissions?: string[] },
): Promise<MembershipEntity> {
  const [row] = await tx.select(
    MembershipEntity,
    `INSERT INTO memberships (organization_id, user_id, role, assignments, invited_by_id, role_ids, role_permissions)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${columnList(MembershipEntity)}`,
    [fields.organizationId, fields.userId, fields.role, fields.assignments ?? [], fields.invitedById ?? null, fields.roleIds ?? [], fields.rolePermissions ?? []],
    { prepare: true },
  );
  return row;
}

