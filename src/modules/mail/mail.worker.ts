import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../config';
import type { Database } from '../../db/database';
import type { Logger } from '../../logger';
import { open } from '../byok/encryption';
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

/**
 * Sends the outbox. Each mail is claimed in its own transaction with FOR UPDATE SKIP LOCKED,
 * so any number of workers (one per replica) never send one mail twice; a failure schedules a
 * retry with exponential backoff (capped at an hour) and never drops the mail. Once sent, its
 * sealed payload is erased. With SMTP_URL unset, mails go to the log.
 */
export class MailWorker implements Mailer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly transport: Transporter | undefined;

  constructor(
    private readonly db: Database,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    const url = config.env.SMTP_URL;
    // Timeouts keep a hung mail server from holding a claimed row for long.
    this.transport = url ? nodemailer.createTransport(`${url}${url.includes('?') ? '&' : '?'}connectionTimeout=10000&greetingTimeout=10000&socketTimeout=20000`) : undefined;
  }

  start(): void {
    this.timer = setInterval(() => this.nudge(), this.config.env.MAIL_POLL_INTERVAL_MS);
    this.timer.unref();
    this.nudge();
  }

  /** Drain the outbox now (and again after the current pass, if one is running). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error) => this.logger.error({ err: error }, 'mail worker pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.nudge();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    this.transport?.close();
  }

  private async drain(): Promise<void> {
    while (!this.stopped && (await this.sendOne())) {
      // one mail per transaction, until none is due
    }
  }

  /** Claims one due mail and tries it; false when none is due. */
  private async sendOne(): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [mail] = await tx.query<Claimed>(
        `SELECT id, topic, key_version, payload, attempts FROM mail_outbox
         WHERE sent_at IS NULL AND next_attempt_at <= now()
         ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      );
      if (!mail) return false;
      try {
        const keys = [this.config.encryptionKeys.current, ...(this.config.encryptionKeys.previous ? [this.config.encryptionKeys.previous] : [])];
        const content = JSON.parse(open({ keyVersion: mail.key_version, box: mail.payload }, keys, 'mail')) as Mail;
        await this.deliver(content);
        await tx.query('UPDATE mail_outbox SET sent_at = now(), attempts = attempts + 1, payload = NULL, key_version = NULL, last_error = NULL WHERE id = $1', [mail.id]);
        this.logger.info({ mailId: mail.id, topic: mail.topic }, 'mail sent');
      } catch (error) {
        const delayMs = Math.min(this.config.env.MAIL_RETRY_BASE_MS * 2 ** mail.attempts, 3_600_000);
        const reason = error instanceof Error ? error.message.slice(0, 500) : 'unknown error';
        await tx.query(
          `UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + ($3 || ' milliseconds')::interval WHERE id = $1`,
          [mail.id, reason, String(delayMs)],
        );
        this.logger.warn({ mailId: mail.id, topic: mail.topic, attempts: mail.attempts + 1, retryInMs: delayMs, reason }, 'mail not sent; will retry');
      }
      return true;
    });
  }

  private async deliver(mail: Mail): Promise<void> {
    if (!this.transport) {
      this.logger.info({ to: mail.to, subject: mail.subject, text: mail.text }, 'mail (SMTP_URL is unset: written to the log instead of sent)');
      return;
    }
    await this.transport.sendMail({ from: this.config.env.MAIL_FROM, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
  }
}
