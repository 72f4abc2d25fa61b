import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../config';
import type { Database } from '../../db/database';
import type { Logger } from '../../logger';
import { claimDue, OutboxWorker, releaseLeases, retryDelay, type OutboxTable } from '../../common/outbox';
import { open, sealingKeys } from '../../common/sealing';
import type { Mail } from './templates';

export interface Mailer {
  nudge(): void;
  stop(): Promise<void>;
}

interface Claimed {
  id: string;
  topic: string;
  key_version: string;
  payload: string;
  attempts: number;
}

const MAIL_OUTBOX: OutboxTable = { table: 'mail_outbox', pending: 'sent_at IS NULL', leaseMs: 120_000 };

/**
 * Sends the mail outbox through the shared outbox worker (src/common/outbox.ts): any number of
 * workers (one per replica) claim each mail once; a failure schedules a retry with exponential
 * backoff (capped at an hour) and never drops the mail. Once sent, its sealed payload is
 * erased. With SMTP_URL unset, mails go to the log.
 */
export class MailWorker implements Mailer {
  private readonly worker: OutboxWorker<Claimed>;
  private readonly transport: Transporter | undefined;
  /** MAIL_RETRY_BASE_MS doubled at each failure, an hour at most. */
  private readonly schedule: number[];

  constructor(
    private readonly db: Database,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    const url = config.env.SMTP_URL;
    // Timeouts keep a hung mail server from holding a claimed row for long.
    this.transport = url ? nodemailer.createTransport(`${url}${url.includes('?') ? '&' : '?'}connectionTimeout=10000&greetingTimeout=10000&socketTimeout=20000`) : undefined;
    this.schedule = Array.from({ length: 24 }, (_, i) => Math.min(config.env.MAIL_RETRY_BASE_MS * 2 ** i, 3_600_000));
    this.worker = new OutboxWorker<Claimed>({
      name: 'mail',
      logger,
      pollIntervalMs: config.env.MAIL_POLL_INTERVAL_MS,
      // One at a time: a mail server throttles a burst from one sender.
      concurrency: 1,
      claim: (limit) => claimDue<Claimed>(db, MAIL_OUTBOX, { limit }),
      send: (mail) => this.send(mail),
      release: (mails) => releaseLeases(db, MAIL_OUTBOX, mails),
    });
  }

  start(): void {
    this.worker.start();
  }

  nudge(): void {
    this.worker.nudge();
  }

  async stop(): Promise<void> {
    await this.worker.stop();
    this.transport?.close();
  }

  private async send(mail: Claimed): Promise<void> {
    try {
      const content = JSON.parse(open({ keyVersion: mail.key_version, box: mail.payload }, sealingKeys(this.config), 'mail')) as Mail;
      await this.deliver(content);
      await this.db.query('UPDATE mail_outbox SET sent_at = now(), payload = NULL, key_version = NULL, last_error = NULL WHERE id = $1', [mail.id]);
      this.logger.info({ mailId: mail.id, topic: mail.topic }, 'mail sent');
    } catch (error) {
      // The claim counted this attempt.
      const delayMs = retryDelay(this.schedule, mail.attempts);
      const reason = error instanceof Error ? error.message.slice(0, 500) : 'unknown error';
      await this.db.query(
        `UPDATE mail_outbox SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3::double precision / 1000) WHERE id = $1`,
        [mail.id, reason, delayMs],
      );
      this.logger.warn({ mailId: mail.id, topic: mail.topic, attempts: mail.attempts, retryInMs: delayMs, reason }, 'mail not sent; will retry');
    }
  }

  private async deliver(mail: Mail): Promise<void> {
    if (!this.transport) {
      this.logger.info({ to: mail.to, subject: mail.subject, text: mail.text, ...mail.development }, 'mail (SMTP_URL is unset: written to the log instead of sent)');
      return;
    }
    await this.transport.sendMail({ from: this.config.env.MAIL_FROM, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
  }
}
