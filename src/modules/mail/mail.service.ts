import type { RequestContext } from '../../context';
import type { Database } from '../../db/database';
import { seal } from '../../common/sealing';
import type { Mail } from './templates';

/** Writes a mail to the outbox inside the caller's transaction; the worker is nudged once it commits. */
export async function enqueueMail(tx: Database, ctx: RequestContext, mail: Mail, meta: { organizationId: string | null; topic: string }): Promise<void> {
  const sealed = seal(JSON.stringify(mail), ctx.config.encryptionKeys.current, 'mail');
  await tx.query(
    'INSERT INTO mail_outbox (organization_id, topic, key_version, payload) VALUES ($1, $2, $3, $4)',
    [meta.organizationId, meta.topic, sealed.keyVersion, sealed.box],
    { prepare: true },
  );
  ctx.afterCommit(() => ctx.app.mailer?.nudge());
}
