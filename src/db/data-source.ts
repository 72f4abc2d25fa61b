import path from 'node:path';
import { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { PROJECT_ROOT } from '../paths';
import { SLOW_STATEMENT_MS } from './database';
import { ApiKeyEntity } from '../modules/api-key/api-key.entity';
import { AuditChainHeadEntity, AuditEventEntity } from '../modules/audit/audit.entity';
import { IdempotencyKeyEntity, UsagePeriodEntity } from '../modules/billing/billing.entity';
import { SubscriptionEntity } from '../modules/billing/subscription.entity';
import { ByokCredentialsEntity } from '../modules/byok/byok.entity';
import { OrganizationDomainEntity } from '../modules/domain/domain.entity';
import { DirectoryGroupEntity, DirectoryGroupMemberEntity, DirectoryTokenEntity, DirectoryUserEntity } from '../modules/directory/directory.entity';
import { SsoConnectionEntity } from '../modules/sso/sso.entity';
import { InvitationEntity } from '../modules/invitation/invitation.entity';
import { JoinRequestEntity } from '../modules/join-request/join-request.entity';
import { MailEntity } from '../modules/mail/mail.entity';
import { MembershipEntity } from '../modules/membership/membership.entity';
import { OrganizationEntity } from '../modules/organization/organization.entity';
import { EventEntity } from '../modules/event/event.entity';
import { RoleEntity } from '../modules/role/role.entity';
import { SigningKeyEntity } from '../modules/organization-token/signing-key.entity';
import { WebhookDeliveryEntity, WebhookEndpointEntity } from '../modules/webhook/webhook.entity';
import { UserEntity } from '../modules/user/user.entity';
import { WorkspaceAccessEntity, WorkspaceEntity } from '../modules/workspace/workspace.entity';
import { SqlLogger } from './sql-logger';

export const ENTITIES = [
  UserEntity,
  OrganizationEntity,
  MembershipEntity,
  AuditEventEntity,
  AuditChainHeadEntity,
  SubscriptionEntity,
  WorkspaceEntity,
  WorkspaceAccessEntity,
  ApiKeyEntity,
  UsagePeriodEntity,
  IdempotencyKeyEntity,
  ByokCredentialsEntity,
  SsoConnectionEntity,
  InvitationEntity,
  JoinRequestEntity,
  MailEntity,
  EventEntity,
  WebhookEndpointEntity,
  WebhookDeliveryEntity,
  SigningKeyEntity,
  RoleEntity,
  OrganizationDomainEntity,
  DirectoryTokenEntity,
  DirectoryUserEntity,
  DirectoryGroupEntity,
  DirectoryGroupMemberEntity,
];

/** Migrations load from the TypeScript sources under ts-node and from dist/ when compiled. */
const MIGRATIONS = __filename.endsWith('.ts')
  ? [path.join(PROJECT_ROOT, 'migrations', '*.ts')]
  : [path.join(__dirname, '..', '..', 'migrations', '*.js')];

/** The role the application's requests run as: it owns nothing and cannot bypass row-level security. */
export const APP_ROLE = 'organizations_app';

/** Applies pending migrations, each in its own transaction, and says which. */
export async function runMigrations(owner: DataSource, logger: Logger): Promise<void> {
  const applied = await owner.runMigrations({ transaction: 'each' });
  if (applied.length) logger.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
}

/** TypeORM's data source: the owner's connection, for the migrations and the CLI (requests go through `Database`). */
export function createDataSource(options: { url: string; poolSize: number; logger: Logger; applicationName?: string }): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logger: new SqlLogger(options.logger),
    maxQueryExecutionTime: SLOW_STATEMENT_MS,
    extra: {
      max: options.poolSize,
      connectionTimeoutMillis: 10_000,
      application_name: options.applicationName ?? 'organizations-subgraph-cli',
    },
  });
}
