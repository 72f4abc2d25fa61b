import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The transactional outbox: a mail is written here in the same transaction as what caused it,
 * and a worker sends it. The payload (recipient, subject, bodies — an invitation link among
 * them) is sealed with ENCRYPTION_KEY and dropped once sent, so no token rests in clear.
 */
@Entity('mail_outbox')
@Index('mail_outbox_due_idx', ['nextAttemptAt'], { where: '"sent_at" IS NULL' })
export class MailEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid', nullable: true })
  organizationId!: string | null;

  /** What the mail is about, e.g. invitation:<id>; never a secret. */
  @Column({ type: 'text' })
  topic!: string;

  @Column({ name: 'key_version', type: 'text', nullable: true })
  keyVersion!: string | null;

  @Column({ type: 'text', nullable: true })
  payload!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;
}
