/** Sealing secrets at rest under ENCRYPTION_KEY (BYOK credentials, queued mail, webhook secrets). */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A key's version: the first 8 bytes of its SHA-256, so that rows say which key sealed them. */
export const keyVersion = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

export interface Sealed {
  keyVersion: string;
  /** base64 of iv (12 bytes) · ciphertext · tag (16 bytes). */
  box: string;
}

/** AES-256-GCM with `context` (what the box belongs to: an organization id, "mail", a webhook endpoint) as associated data: a box moved to another row does not open. */
export function seal(plaintext: string, key: Buffer, context: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyVersion: keyVersion(key), box: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64') };
}

export function open(sealed: Sealed, keys: readonly Buffer[], context: string): string {
  const key = keys.find((k) => keyVersion(k) === sealed.keyVersion);
  if (!key) throw new Error(`no configured encryption key has version ${sealed.keyVersion}`);
  const raw = Buffer.from(sealed.box, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
}

/** The keys that open what was sealed: ENCRYPTION_KEY, and ENCRYPTION_KEY_PREVIOUS during a rotation. */
export function sealingKeys(config: { encryptionKeys: { current: Buffer; previous: Buffer | null } }): Buffer[] {
  const { current, previous } = config.encryptionKeys;
  return previous ? [current, previous] : [current];
}
