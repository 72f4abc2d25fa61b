import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A key that signs organization tokens (ES256). Its private half is sealed with ENCRYPTION_KEY
 * (src/common/sealing.ts, its kid as associated data); its public half is published at
 * /.well-known/jwks.json from `created_at` until `retired_at` plus a token's lifetime.
 */
@Entity('signing_keys')
export class SigningKeyEntity {
  /** The JWK thumbprint (RFC 7638) of the public key: the tokens' `kid` header. */
  @PrimaryColumn({ type: 'text' })
  kid!: string;

  @Column({ type: 'text', default: 'ES256' })
  algorithm!: string;

  /** The public JWK (kty, crv, x, y). */
  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: Record<string, string>;

  /** Which ENCRYPTION_KEY sealed `privateKey`. */
  @Column({ name: 'key_version', type: 'text' })
  keyVersion!: string;

  /** The private JWK, sealed (AES-256-GCM, iv · ciphertext · tag in base64). */
  @Column({ name: 'private_key', type: 'text' })
  privateKey!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** From when it signs (published before, so that verifiers' cached key sets already hold it). */
  @Column({ name: 'activated_at', type: 'timestamptz' })
  activatedAt!: Date;

  /** From when it signs no more: its successor's activation. Null while it has none. */
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;
}
