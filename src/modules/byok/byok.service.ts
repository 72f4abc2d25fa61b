import { Permission } from '../../authz/permissions';
import { isUuid } from '../../common/ids';
import type { RequestContext } from '../../context';
import { badInput, failedPrecondition, notFound } from '../../errors';
import { recordAudit } from '../audit/audit.service';
import { OrganizationEntity } from '../organization/organization.entity';
import { lockOrganization } from '../../authz/locks';
import { ByokCredentialsEntity } from './byok.entity';
import { ByokCredentials, ByokProvider, ByokStatus, SetByokCredentialsInput } from './byok.types';
import { keyVersion, open, seal } from '../../common/sealing';

// Messages name the field, never the value: a secret must not come back in an error.
const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{16}$/;
const SECRET_ACCESS_KEY = /^[A-Za-z0-9/+=]{40}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

export function statusOf(row: ByokCredentialsEntity | null): ByokStatus {
  return row
    ? { configured: true, provider: row.provider as ByokProvider, accessKeyIdLast4: row.accessKeyIdLast4, region: row.region, updatedAt: row.updatedAt }
    : { configured: false, provider: null, accessKeyIdLast4: null, region: null, updatedAt: null };
}

const keysOf = (ctx: RequestContext) => [ctx.config.encryptionKeys.current, ...(ctx.config.encryptionKeys.previous ? [ctx.config.encryptionKeys.previous] : [])];

export async function setByokCredentials(ctx: RequestContext, input: SetByokCredentialsInput): Promise<ByokStatus> {
  const accessKeyId = input.accessKeyId.trim();
  const secretAccessKey = input.secretAccessKey.trim();
  const region = input.region.trim();
  if (!ACCESS_KEY_ID.test(accessKeyId)) throw badInput('accessKeyId', 'accessKeyId is not an AWS access key id (AKIA or ASIA and 16 more capitals or digits)');
  if (!SECRET_ACCESS_KEY.test(secretAccessKey)) throw badInput('secretAccessKey', 'secretAccessKey is not an AWS secret access key (40 characters)');
  if (!REGION.test(region)) throw badInput('region', 'region is not an AWS region such as us-east-1');
  return ctx.write(async (tx) => {
    const { organization } = await lockOrganization(tx, ctx, input.organizationId, Permission.BYOK_MANAGE);
    const sealed = seal(JSON.stringify({ accessKeyId, secretAccessKey }), ctx.config.encryptionKeys.current, organization.id);
    const [previous] = await tx.query('SELECT 1 FROM byok_credentials WHERE organization_id = $1', [organization.id]);
    const row = await tx.selectOne(
      ByokCredentialsEntity,
      `INSERT INTO byok_credentials (organization_id, provider, access_key_id_last4, region, key_version, box, updated_by_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (organization_id) DO UPDATE SET provider = excluded.provider, access_key_id_last4 = excluded.access_key_id_last4,
         region = excluded.region, key_version = excluded.key_version, box = excluded.box, updated_by_id = excluded.updated_by_id, updated_at = now()
       RETURNING *`,
      [organization.id, input.provider, accessKeyId.slice(-4), region, sealed.keyVersion, sealed.box, ctx.principal?.kind === 'user' ? ctx.principal.userId : null],
    );
    await recordAudit(tx, ctx, {
      organizationId: organization.id,
      action: previous ? 'byok.credentials_replaced' : 'byok.credentials_set',
      target: { type: 'Organization', id: organization.id, display: organization.name },
      metadata: { provider: input.provider, accessKeyIdLast4: accessKeyId.slice(-4), region },
    });
    return statusOf(row!);
  });
}

export async function clearByokCredentials(ctx: RequestContext, organizationId: string): Promise<boolean> {
  return ctx.write(async (tx) => {
    const { organization } = await lockOrganization(tx, ctx, organizationId, Permission.BYOK_MANAGE);
    const removed = await tx.query<{ provider: string; access_key_id_last4: string }>(
      'DELETE FROM byok_credentials WHERE organization_id = $1 RETURNING provider, access_key_id_last4',
      [organization.id],
    );
    if (removed.length) {
      await recordAudit(tx, ctx, {
        organizationId: organization.id,
        action: 'byok.credentials_cleared',
        target: { type: 'Organization', id: organization.id, display: organization.name },
        metadata: { provider: removed[0].provider, accessKeyIdLast4: removed[0].access_key_id_last4 },
      });
    }
    return true;
  });
}

/** byok:read. Null when the organization has none; NOT_FOUND when there is no such organization. */
export async function byokCredentials(ctx: RequestContext, organizationId: string): Promise<ByokCredentials | null> {
  const organization = isUuid(organizationId) ? await ctx.db.selectOne(OrganizationEntity, 'SELECT * FROM organizations WHERE id = $1', [organizationId]) : undefined;
  if (!organization) throw notFound('Organization');
  const row = await ctx.db.selectOne(ByokCredentialsEntity, 'SELECT * FROM byok_credentials WHERE organization_id = $1', [organization.id]);
  if (!row) return null;
  const keys = keysOf(ctx);
  if (!keys.some((key) => keyVersion(key) === row.keyVersion)) {
    throw failedPrecondition('These credentials were encrypted with a key this server no longer has: set ENCRYPTION_KEY_PREVIOUS to it, or set them again');
  }
  const { accessKeyId, secretAccessKey } = JSON.parse(open({ keyVersion: row.keyVersion, box: row.box }, keys, organization.id));
  return { organizationId: organization.id, provider: row.provider as ByokProvider, accessKeyId, secretAccessKey, region: row.region, updatedAt: row.updatedAt };
}
