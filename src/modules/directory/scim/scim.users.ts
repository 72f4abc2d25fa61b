import { scimPatch, ScimError as PatchError } from 'scim-patch';
import { lockOrganization } from '../../../authz/locks';
import { OrganizationRole } from '../../../authz/permissions';
import { cleanEmail } from '../../../common/email';
import { isUuid } from '../../../common/ids';
import type { RequestContext } from '../../../context';
import { isUniqueViolation, type Database } from '../../../db/database';
import { SqlParams } from '../../../db/sql-params';
import { failedPrecondition } from '../../../errors';
import { changes, recordAudit } from '../../audit/audit.service';
import { assertSeats } from '../../billing/subscription.service';
import { withdrawWhatMemberNoLongerGrants } from '../../membership/member-grants';
import { MembershipEntity } from '../../membership/membership.entity';
import { assertAnotherOwner } from '../../membership/membership.rows';
import { OrganizationKind } from '../../organization/organization.entity';
import { UserEntity } from '../../user/user.entity';
import { applyActive, bindToPerson } from '../directory.grants';
import { DirectoryUserEntity, type DirectoryEmail } from '../directory.entity';
import { compileFilter, type FilterSchema } from './scim.filter';
import { invalidValue, ScimError, scimNotFound } from './scim.errors';
import { directoryOf, field, patchOperations, scimBoolean, text, USER_SCHEMA, type Page } from './scim.request';

/** What a User's filter may name, and the column each is. */
export const USER_FILTER: FilterSchema = {
  urn: USER_SCHEMA,
  attributes: {
    id: { sql: 'd.id', kind: 'uuid' },
    username: { sql: 'd.user_name', kind: 'email' },
    externalid: { sql: 'd.external_id', kind: 'text' },
    displayname: { sql: 'd.display_name', kind: 'caseless' },
    'name.givenname': { sql: 'd.given_name', kind: 'caseless' },
    'name.familyname': { sql: 'd.family_name', kind: 'caseless' },
    active: { sql: 'd.active', kind: 'boolean' },
  },
  arrays: {
    emails: { sql: 'd.emails', sub: { value: { key: 'value', kind: 'caseless' }, type: { key: 'type', kind: 'caseless' }, primary: { key: 'primary', kind: 'text' } } },
  },
};

/** A SCIM User as RFC 7643 §4.1 writes it. */
export interface ScimUser {
  schemas: string[];
  id: string;
  externalId?: string;
  userName: string;
  name?: { givenName?: string; familyName?: string; formatted?: string };
  displayName?: string;
  emails: DirectoryEmail[];
  active: boolean;
  meta: { resourceType: 'User'; created: string; lastModified: string; location: string };
}

export function toScimUser(user: DirectoryUserEntity, base: string): ScimUser {
  const name = user.givenName || user.familyName ? { givenName: user.givenName ?? undefined, familyName: user.familyName ?? undefined } : undefined;
  return {
    schemas: [USER_SCHEMA],
    id: user.id,
    ...(user.externalId !== null ? { externalId: user.externalId } : {}),
    userName: user.userName,
    ...(name ? { name } : {}),
    ...(user.displayName !== null ? { displayName: user.displayName } : {}),
    emails: user.emails,
    active: user.active,
    meta: { resourceType: 'User', created: user.createdAt.toISOString(), lastModified: user.updatedAt.toISOString(), location: `${base}/Users/${user.id}` },
  };
}

/** The fields a SCIM User writes, validated. */
interface UserFields {
  userName: string;
  externalId: string | null;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  emails: DirectoryEmail[];
  active: boolean;
}

function userFields(body: unknown): UserFields {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ScimError(400, 'The body must be a SCIM User', 'invalidSyntax');
  const b = body as Record<string, unknown>;
  const userName = field(b, 'userName');
  if (typeof userName !== 'string' || !userName.trim()) throw invalidValue('userName is required');
  let email: string;
  try {
    email = cleanEmail('userName', userName);
  } catch {
    throw invalidValue('userName must be the person\'s email address: it is what their membership binds to when they sign in');
  }
  const name = (field(b, 'name') ?? {}) as Record<string, unknown>;
  if (typeof name !== 'object' || Array.isArray(name)) throw invalidValue('name must be an object');
  const rawEmails = field(b, 'emails') ?? [];
  if (!Array.isArray(rawEmails) || rawEmails.length > 20) throw invalidValue('emails must be a list of at most 20');
  const emails = rawEmails.map((e: unknown): DirectoryEmail => {
    if (!e || typeof e !== 'object') throw invalidValue('emails holds objects with a value');
    const o = e as Record<string, unknown>;
    const value = text('emails.value', field(o, 'value'), false);
    if (!value) throw invalidValue('emails.value is required');
    const type = text('emails.type', field(o, 'type'), false);
    const primary = field(o, 'primary');
    return Object.assign({ value }, type ? { type } : {}, primary !== undefined ? { primary: scimBoolean('emails.primary', primary, false) } : {});
  });
  return {
    userName: email,
    externalId: text('externalId', field(b, 'externalId'), false),
    displayName: text('displayName', field(b, 'displayName'), false),
    givenName: text('name.givenName', field(name, 'givenName'), false),
    familyName: text('name.familyName', field(name, 'familyName'), false),
    emails,
    active: scimBoolean('active', field(b, 'active'), true),
  };
}

export async function getUser(ctx: RequestContext, id: string): Promise<DirectoryUserEntity> {
  const user = isUuid(id)
    ? await ctx.db.selectOne(DirectoryUserEntity, 'SELECT * FROM directory_users WHERE id = $1 AND organization_id = $2', [id, directoryOf(ctx).organizationId])
    : undefined;
  if (!user) throw scimNotFound('User');
  return user;
}

export async function listUsers(ctx: RequestContext, filter: string | undefined, startIndex: number, count: number): Promise<Page<DirectoryUserEntity>> {
  const params = new SqlParams();
  const conditions = [`d.organization_id = ${params.add(directoryOf(ctx).organizationId)}::uuid`];
  if (filter) conditions.push(compileFilter(filter, USER_FILTER, params));
  const where = conditions.join(' AND ');
  const [{ total }] = await ctx.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM directory_users d WHERE ${where}`, params.values);
  const rows =
    count > 0 && total >= startIndex
      ? await ctx.db.select(DirectoryUserEntity, `SELECT d.* FROM directory_users d WHERE ${where} ORDER BY d.id LIMIT ${count} OFFSET ${startIndex - 1}`, params.values)
      : [];
  return { total, startIndex, rows };
}

/** The person who signed in with this verified address, if any: the user binds to them at once. */
async function personOf(tx: Database, email: string): Promise<UserEntity | undefined> {
  return tx.selectOne(UserEntity, 'SELECT * FROM users WHERE email = $1 AND email_verified', [email]);
}

/** The SCIM User's row with `fields`; a taken userName is 409 uniqueness. */
async function writeUser(work: () => Promise<DirectoryUserEntity>): Promise<DirectoryUserEntity> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error, 'directory_users_organization_user_name_key')) throw new ScimError(409, 'A User with this userName exists', 'uniqueness');
    if (isUniqueViolation(error, 'directory_users_membership_key')) throw new ScimError(409, 'This person is already another User of this directory', 'uniqueness');
    throw error;
  }
}

/** Binds a directory user to the person who already signed in with its address, inside the change's transaction (bindToPerson). */
async function bindNow(tx: Database, ctx: RequestContext, user: DirectoryUserEntity): Promise<DirectoryUserEntity> {
  const person = await personOf(tx, user.userName);
  if (!person) return user;
  const bound = await bindToPerson(tx, ctx, user, person.id);
  if (!bound) throw new ScimError(409, 'This person is already another User of this directory', 'uniqueness');
  return bound;
}

/**
 * POST /Users. Pending until the person signs in with that verified address (then bound:
 * directory.grants.ts bindDirectoryUsers), or bound at once when they already have. An active
 * user takes a seat from creation: past the plan's seats it is refused.
 */
export async function createUser(ctx: RequestContext, body: unknown): Promise<DirectoryUserEntity> {
  const fields = userFields(body);
  const { organizationId } = directoryOf(ctx);
  return ctx.write(async (tx) => {
    const { organization } = await lockOrganization(tx, ctx, organizationId);
    if (organization.kind === OrganizationKind.PERSONAL) throw failedPrecondition('A personal organization has exactly one member, its OWNER');
    const person = await personOf(tx, fields.userName);
    const alreadyMember = person
      ? await tx.selectOne(MembershipEntity, 'SELECT * FROM memberships WHERE organization_id = $1 AND user_id = $2', [organizationId, person.id])
      : undefined;
    // A new seat: a pending user, or a new membership (VIEWER until groups say otherwise).
    if (fields.active && !alreadyMember) await assertSeats(tx, organizationId);
    let user = await writeUser(async () =>
      (await tx.selectOne(
        DirectoryUserEntity,
        `INSERT INTO directory_users (organization_id, user_name, external_id, display_name, given_name, family_name, emails, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [organizationId, fields.userName, fields.externalId, fields.displayName, fields.givenName, fields.familyName, JSON.stringify(fields.emails), fields.active],
      ))!,
    );
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'directory_user.created',
      target: { type: 'DirectoryUser', id: user.id, display: user.userName },
      metadata: { userName: user.userName, externalId: user.externalId, active: user.active },
    });
    user = await bindNow(tx, ctx, user);
    return user;
  });
}

/** PUT and PATCH: the User becomes `fields`; `active` applies to its membership, in the same transaction. */
async function replaceUser(ctx: RequestContext, id: string, next: (current: DirectoryUserEntity) => UserFields): Promise<DirectoryUserEntity> {
  const { organizationId } = directoryOf(ctx);
  return ctx.write(async (tx) => {
    await lockOrganization(tx, ctx, organizationId);
    const current = isUuid(id)
      ? await tx.selectOne(DirectoryUserEntity, 'SELECT * FROM directory_users WHERE id = $1 AND organization_id = $2 FOR UPDATE', [id, organizationId])
      : undefined;
    if (!current) throw scimNotFound('User');
    const fields = next(current);
    const before = { userName: current.userName, externalId: current.externalId, displayName: current.displayName, givenName: current.givenName, familyName: current.familyName, emails: current.emails, active: current.active };
    const diff = changes(before, fields);
    if (Object.keys(diff).length === 0) return current;
    // Reactivating a pending user takes its seat back.
    if (fields.active && !current.active && !current.membershipId) await assertSeats(tx, organizationId);
    let user = await writeUser(async () =>
      (await tx.selectOne(
        DirectoryUserEntity,
        `UPDATE directory_users SET user_name = $2, external_id = $3, display_name = $4, given_name = $5, family_name = $6, emails = $7, active = $8, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [current.id, fields.userName, fields.externalId, fields.displayName, fields.givenName, fields.familyName, JSON.stringify(fields.emails), fields.active],
      ))!,
    );
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'directory_user.updated',
      target: { type: 'DirectoryUser', id: user.id, display: user.userName },
      metadata: { changes: diff },
    });
    if (user.membershipId) {
      const member = await tx.selectOne(MembershipEntity, 'SELECT * FROM memberships WHERE id = $1 FOR UPDATE', [user.membershipId]);
      if (member) await applyActive(tx, ctx, member, user.active);
    } else if (diff.userName) {
      user = await bindNow(tx, ctx, user);
    }
    return user;
  });
}

export function putUser(ctx: RequestContext, id: string, body: unknown): Promise<DirectoryUserEntity> {
  const fields = userFields(body);
  return replaceUser(ctx, id, () => fields);
}

/** What scim-patch works on: the User as its representation has it, without meta. */
function patchable(user: DirectoryUserEntity) {
  const { meta: _meta, ...resource } = toScimUser(user, '');
  return resource;
}

/** RFC 7644 §3.5.2. The operations apply in order to the User (scim-patch), then the result is validated as a PUT would be. */
export function patchUser(ctx: RequestContext, id: string, body: unknown): Promise<DirectoryUserEntity> {
  const operations = patchOperations(body);
  return replaceUser(ctx, id, (current) => {
    let patched: Record<string, unknown>;
    try {
      patched = scimPatch(patchable(current) as never, operations, { mutateDocument: false, treatMissingAsAdd: true }) as unknown as Record<string, unknown>;
    } catch (error) {
      if (error instanceof PatchError) throw new ScimError(400, error.message, (error.scimCode as never) ?? 'invalidValue');
      throw error;
    }
    return userFields(patched);
  });
}

/**
 * DELETE /Users/{id}: a bound user's membership goes (as removeMember: never the last OWNER,
 * and what it made with its authority is withdrawn), taking the User with it.
 */
export async function deleteUser(ctx: RequestContext, id: string): Promise<void> {
  const { organizationId } = directoryOf(ctx);
  await ctx.write(async (tx) => {
    await lockOrganization(tx, ctx, organizationId);
    const user = isUuid(id)
      ? await tx.selectOne(DirectoryUserEntity, 'SELECT * FROM directory_users WHERE id = $1 AND organization_id = $2 FOR UPDATE', [id, organizationId])
      : undefined;
    if (!user) throw scimNotFound('User');
    const member = user.membershipId ? await tx.selectOne(MembershipEntity, 'SELECT * FROM memberships WHERE id = $1 FOR UPDATE', [user.membershipId]) : undefined;
    await recordAudit(tx, ctx, {
      organizationId,
      action: 'directory_user.deleted',
      target: { type: 'DirectoryUser', id: user.id, display: user.userName },
      metadata: { userName: user.userName, externalId: user.externalId, membershipId: user.membershipId },
    });
    if (member) {
      if (member.role === OrganizationRole.OWNER) await assertAnotherOwner(tx, organizationId, member);
      await recordAudit(tx, ctx, {
        organizationId,
        action: 'member.removed',
        target: { type: 'Membership', id: member.id },
        metadata: { userId: member.userId, role: member.role, assignments: member.assignments, source: 'directory' },
      });
      await withdrawWhatMemberNoLongerGrants(tx, ctx, organizationId, member.userId, null);
      await tx.query('DELETE FROM memberships WHERE id = $1', [member.id]);
    }
    await tx.query('DELETE FROM directory_users WHERE id = $1', [user.id]);
  });
}
