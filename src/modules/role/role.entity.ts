import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { OrganizationEntity } from '../organization/organization.entity';

/**
 * An organization's custom role (API.md, "Product permissions"): a named set of permission keys,
 * built-in and product, held by members on top of their base role and assignments. Its holders
 * are memberships.role_ids; the union of their roles' keys is kept in memberships.role_permissions
 * in the same transaction as every change (src/modules/role/role.service.ts).
 */
@Entity('roles')
@Unique('roles_organization_key_key', ['organizationId', 'key'])
export class RoleEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'roles_organization_fk' })
  organization?: OrganizationEntity;

  /** Unique in its organization: `sandbox-operators`. */
  @Column({ type: 'text' })
  key!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  /** Permission keys, sorted (sortKeys). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  permissions!: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
