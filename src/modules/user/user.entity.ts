import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { OrganizationEntity } from '../organization/organization.entity';

/** This subgraph's copy of a user of the accounts subgraph, refreshed from token claims. */
@Entity('users')
export class UserEntity {
  /** The `sub` claim: the accounts subgraph owns this id. */
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text', nullable: true })
  email!: string | null;

  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified!: boolean;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  /** `iat` of the token the claims came from: an older token never overwrites newer claims. */
  @Column({ name: 'claims_issued_at', type: 'timestamptz', nullable: true })
  claimsIssuedAt!: Date | null;

  @Column({ name: 'active_organization_id', type: 'uuid', nullable: true })
  activeOrganizationId!: string | null;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'active_organization_id', foreignKeyConstraintName: 'users_active_organization_fk' })
  activeOrganization?: OrganizationEntity | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
