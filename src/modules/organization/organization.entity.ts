import { Check, Column, CreateDateColumn, Entity, JoinColumn, OneToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { UserEntity } from '../user/user.entity';

export enum OrganizationKind {
  PERSONAL = 'PERSONAL',
  TEAM = 'TEAM',
}

@Entity('organizations')
@Unique('organizations_slug_key', ['slug'])
@Unique('organizations_personal_owner_key', ['personalOwnerId'])
@Check('organizations_kind_check', `"kind" IN ('PERSONAL', 'TEAM')`)
@Check('organizations_personal_owner_check', `("kind" = 'PERSONAL') = ("personal_owner_id" IS NOT NULL)`)
export class OrganizationEntity {
  // Defaults to uuid_generate_v7() (see the Init migration), which TypeORM reads as a generated uuid.
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Always stored lower-case, so that uniqueness is case-insensitive. */
  @Column({ type: 'text' })
  slug!: string;

  @Column({ type: 'text' })
  kind!: OrganizationKind;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'boolean', default: false })
  discoverable!: boolean;

  /** Set only on a PERSONAL organization; unique, so each user has exactly one. */
  @Column({ name: 'personal_owner_id', type: 'text', nullable: true })
  personalOwnerId!: string | null;

  @OneToOne(() => UserEntity, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'personal_owner_id', foreignKeyConstraintName: 'organizations_personal_owner_fk' })
  personalOwner?: UserEntity | null;

  /**
   * Whether members must come through the organization's SSO connection (src/modules/sso). On
   * the organization row, not the connection's, so that every read of a member's access (which
   * reads this row or joins it) knows it without another statement: src/authz/access.ts.
   */
  @Column({ name: 'sso_enforced', type: 'boolean', default: false })
  ssoEnforced!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
