import { membershipHolds, unlessSuspended } from '../../authz/access';
import { isPermissionKey, workspaceKeysOf, workspaceKeysOfScopes } from '../../authz/effective-permissions';
import { workspaceRoleOf, type WorkspaceRole } from '../../authz/permissions';
import { isUuid } from '../../common/ids';
import type { RequestContext } from '../../context';
import { joinedEntity } from '../../db/entity-rows';
import { badInput } from '../../errors';
import { MembershipEntity } from '../membership/membership.entity';
import type { AuthorizationCheckInput, AuthorizationDecision } from './authorization.types';

/** Checks in one call: enough for a page of resources, few enough to answer in one round. */
export const MAX_CHECKS = 100;

export type Reason =
  | 'ALLOWED'
  | 'MISSING_PERMISSION'
  | 'NOT_A_MEMBER'
  | 'UNKNOWN_SUBJECT'
  | 'UNKNOWN_ORGANIZATION'
  | 'UNKNOWN_WORKSPACE'
  | 'NO_WORKSPACE_ACCESS'
  | 'KEY_REVOKED'
  | 'KEY_EXPIRED';

const decision = (reason: Reason): AuthorizationDecision => ({ allowed: reason === 'ALLOWED', reason });
const decide = (held: ReadonlySet<string>, permission: string) => decision(held.has(permission) ? 'ALLOWED' : 'MISSING_PERMISSION');

/** Built on first use: entity metadata is learnt when the database connects (cached by joinedEntity). */
const membership = () => joinedEntity(MembershipEntity, 'm', '__m');

interface Check {
  organizationId: string;
  workspaceId: string | null;
  subject: string;
  permission: string;
}

/** The input checked whole before anything is read: BAD_USER_INPUT names the check and the field. */
function validate(checks: readonly AuthorizationCheckInput[]): { users: Check[]; keys: Check[]; all: { kind: 'user' | 'key'; check: Check }[] } {
  if (checks.length > MAX_CHECKS) throw badInput('checks', `At most ${MAX_CHECKS} checks in one call, got ${checks.length}`);
  const all = checks.map((input, i) => {
    if (!isPermissionKey(input.permission)) {
      throw badInput('permission', `checks[${i}]: unknown permission key "${input.permission}": expected a built-in permission (MEMBERS_INVITE) or a catalog key (sandboxes:create)`);
    }
    if (!input.userId === !input.apiKeyId) throw badInput('userId', `checks[${i}]: give exactly one of userId and apiKeyId`);
    const check: Check = {
      organizationId: input.organizationId.toLowerCase(),
      workspaceId: input.workspaceId ? input.workspaceId.toLowerCase() : null,
      subject: input.userId ?? input.apiKeyId!.toLowerCase(),
      permission: input.permission,
    };
    return { kind: input.userId ? ('user' as const) : ('key' as const), check };
  });
  return { users: all.filter((c) => c.kind === 'user').map((c) => c.check), keys: all.filter((c) => c.kind === 'key').map((c) => c.check), all };
}

/** (organization, subject, workspace) once each: what the statements are asked for. */
const tupleKey = (c: Check) => `${c.organizationId} ${c.subject} ${c.workspaceId ?? ''}`;
function distinct(checks: Check[]): Check[] {
  const seen = new Map<string, Check>();
  for (const c of checks) if (isUuid(c.organizationId) && (!c.workspaceId || isUuid(c.workspaceId))) seen.set(tupleKey(c), c);
  return [...seen.values()];
}

interface UserRow {
  t: string;
  organization_found: boolean;
  user_found: boolean;
  workspace_organization_id: string | null;
  has_assignment: boolean;
  role_override: WorkspaceRole | null;
  [column: string]: unknown;
}

/**
 * What each person holds: ONE statement for every user check of the call, whatever their number
 * — the organization, the user, its membership (custom roles included: role_permissions), the
 * workspace and its assignment there. Keys are answered from the same rules as the service's own
 * checks (membershipHolds, workspaceRoleOf, workspaceKeysOf).
 */
async function userDecisions(ctx: RequestContext, checks: Check[]): Promise<Map<string, (permission: string) => AuthorizationDecision>> {
  const tuples = distinct(checks);
  const answers = new Map<string, (permission: string) => AuthorizationDecision>();
  if (!tuples.length) return answers;
  const rows = await ctx.db.query<UserRow>(
    `SELECT c.t, o.id IS NOT NULL AS organization_found, u.id IS NOT NULL AS user_found, w.organization_id AS workspace_organization_id,
            wa.id IS NOT NULL AS has_assignment, wa.role_override, ${membership().select}
     FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[]) AS c(t, organization_id, user_id, workspace_id)
     LEFT JOIN organizations o ON o.id = c.organization_id
     LEFT JOIN users u ON u.id = c.user_id
     LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = c.user_id
     LEFT JOIN workspaces w ON w.id = c.workspace_id
     LEFT JOIN workspace_access wa ON wa.workspace_id = w.id AND wa.membership_id = m.id`,
    [tuples.map(tupleKey), tuples.map((c) => c.organizationId), tuples.map((c) => c.subject), tuples.map((c) => c.workspaceId)],
  );
  const byTuple = new Map(tuples.map((c) => [tupleKey(c), c]));
  for (const row of rows) {
    const check = byTuple.get(row.t)!;
    answers.set(row.t, answerForMember(check, row));
  }
  return answers;
}

function answerForMember(check: Check, row: UserRow): (permission: string) => AuthorizationDecision {
  if (!row.organization_found) return () => decision('UNKNOWN_ORGANIZATION');
  if (!row.user_found) return () => decision('UNKNOWN_SUBJECT');
  // A member suspended by the directory (SCIM) holds nothing: as good as not a member.
  const member = unlessSuspended(membership().from(row));
  if (!member) return () => decision('NOT_A_MEMBER');
  const access = membershipHolds(member);
  if (!check.workspaceId) return (permission) => decide(access.keys, permission);
  if (row.workspace_organization_id !== check.organizationId) return () => decision('UNKNOWN_WORKSPACE');
  const role = workspaceRoleOf(member.role, access.permissions, row.has_assignment ? { roleOverride: row.role_override } : null);
  if (!role) return () => decision('NO_WORKSPACE_ACCESS');
  const held = new Set([...access.keys, ...workspaceKeysOf(access.keys, role)]);
  return (permission) => decide(held, permission);
}

interface KeyRow {
  t: string;
  organization_id: string | null;
  workspace_id: string | null;
  scopes: string[] | null;
  revoked_at: Date | null;
  expires_at: Date | null;
  asked_workspace_organization_id: string | null;
}

/** What each API key holds: ONE statement for every key check of the call. */
async function keyDecisions(ctx: RequestContext, checks: Check[]): Promise<Map<string, (permission: string) => AuthorizationDecision>> {
  const tuples = distinct(checks).filter((c) => isUuid(c.subject));
  const answers = new Map<string, (permission: string) => AuthorizationDecision>();
  if (!tuples.length) return answers;
  const rows = await ctx.db.query<KeyRow>(
    `SELECT c.t, k.organization_id, k.workspace_id, k.scopes, k.revoked_at, k.expires_at, w.organization_id AS asked_workspace_organization_id
     FROM unnest($1::text[], $2::uuid[], $3::uuid[]) AS c(t, key_id, workspace_id)
     LEFT JOIN api_keys k ON k.id = c.key_id
     LEFT JOIN workspaces w ON w.id = c.workspace_id`,
    [tuples.map(tupleKey), tuples.map((c) => c.subject), tuples.map((c) => c.workspaceId)],
  );
  const byTuple = new Map(tuples.map((c) => [tupleKey(c), c]));
  for (const row of rows) answers.set(row.t, answerForKey(byTuple.get(row.t)!, row));
  return answers;
}

function answerForKey(check: Check, row: KeyRow): (permission: string) => AuthorizationDecision {
  if (!row.organization_id) return () => decision('UNKNOWN_SUBJECT');
  if (row.organization_id !== check.organizationId) return () => decision('NOT_A_MEMBER');
  if (row.revoked_at) return () => decision('KEY_REVOKED');
  if (row.expires_at && row.expires_at.getTime() <= Date.now()) return () => decision('KEY_EXPIRED');
  const scopes = new Set(row.scopes ?? []);
  if (!check.workspaceId) return (permission) => decide(row.workspace_id ? new Set() : scopes, permission);
  if (row.asked_workspace_organization_id !== check.organizationId) return () => decision('UNKNOWN_WORKSPACE');
  if (row.workspace_id && row.workspace_id !== check.workspaceId) return () => decision('NO_WORKSPACE_ACCESS');
  const held = row.workspace_id ? workspaceKeysOfScopes(scopes) : scopes;
  return (permission) => decide(held, permission);
}

/**
 * `authorize` (API.md, "Checks for services"): each check answered in input order, from one
 * statement per kind of subject (people, API keys) for the whole call, never one per check.
 */
export async function authorize(ctx: RequestContext, checks: readonly AuthorizationCheckInput[]): Promise<AuthorizationDecision[]> {
  const { users, keys, all } = validate(checks);
  const [forUsers, forKeys] = await Promise.all([userDecisions(ctx, users), keyDecisions(ctx, keys)]);
  return all.map(({ kind, check }) => {
    const answer = (kind === 'user' ? forUsers : forKeys).get(tupleKey(check));
    if (answer) return answer(check.permission);
    // Not asked of the database: an id that cannot exist.
    if (!isUuid(check.organizationId)) return decision('UNKNOWN_ORGANIZATION');
    if (check.workspaceId && !isUuid(check.workspaceId)) return decision('UNKNOWN_WORKSPACE');
    return decision('UNKNOWN_SUBJECT');
  });
}
