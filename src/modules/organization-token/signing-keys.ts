import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { Config } from '../../config';
import type { Database } from '../../db/database';
import { failedPrecondition } from '../../errors';
import type { Logger } from '../../logger';
import { open, seal, sealingKeys } from '../../common/sealing';
import { SigningKeyEntity } from './signing-key.entity';

export const SIGNING_ALGORITHM = 'ES256';

/**
 * How long a process trusts its copy of the published keys. Every replica reads the keys from
 * the database, so a rotation made elsewhere (another replica, `npm run keys:rotate`) reaches it
 * within this time, without a restart; a key pre-published for its activation time is switched
 * to at that very time.
 */
export const KEY_CACHE_MS = 10_000;

/** Verifiers' clocks may run this far behind ours. */
const CLOCK_SKEW_SECONDS = 60;

/** pg_advisory_xact_lock key serializing the writers of signing_keys across replicas ('signkeys' in ASCII). */
const WRITE_LOCK = '7310593867129119091';

/** The key that signs at `now`: the latest activated and not yet retired. */
function signingKeyAt(rows: readonly SigningKeyEntity[], now: number): SigningKeyEntity | undefined {
  return rows
    .filter((row) => row.activatedAt.getTime() <= now && (!row.retiredAt || row.retiredAt.getTime() > now))
    .sort((a, b) => b.activatedAt.getTime() - a.activatedAt.getTime())[0];
}

export interface Rotation {
  kid: string;
  activatedAt: Date;
  /** False when a rotation was already on its way and nothing was written. */
  created: boolean;
}

/**
 * The ES256 keys of organization tokens: generated on first use, sealed with ENCRYPTION_KEY,
 * rotated by `npm run keys:rotate` and on ORGANIZATION_TOKEN_KEY_ROTATION_DAYS. One per process.
 */
export class SigningKeys {
  private published: { rows: Promise<SigningKeyEntity[]>; until: number } | undefined;
  /** Private keys, imported once per kid (a kid's key never changes). */
  private readonly privateKeys = new Map<string, Promise<CryptoKey>>();

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  /**
   * How long a retired key stays published: the last token it signed expires a lifetime after
   * its retirement, later by this process's cache of the keys, and verifiers' clocks may lag.
   */
  get publishedAfterRetirementSeconds(): number {
    return this.config.organizationTokens.ttlSeconds + KEY_CACHE_MS / 1000 + CLOCK_SKEW_SECONDS;
  }

  /** The keys published now (upcoming, signing, and retired ones whose tokens may still be valid), from a copy at most KEY_CACHE_MS old. */
  publishedKeys(db: Database): Promise<SigningKeyEntity[]> {
    if (this.published && this.published.until > Date.now()) return this.published.rows;
    const rows = db.select(
      SigningKeyEntity,
      `SELECT * FROM signing_keys WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1) ORDER BY activated_at`,
      [this.publishedAfterRetirementSeconds],
    );
    const entry = { rows, until: Date.now() + KEY_CACHE_MS };
    this.published = entry;
    // A failed read is not remembered.
    rows.catch(() => {
      if (this.published === entry) this.published = undefined;
    });
    return rows;
  }

  /** The public keys as a JWK Set: never a private member. */
  async jwks(db: Database): Promise<{ keys: JWK[] }> {
    const rows = await this.publishedKeys(db);
    return { keys: rows.map((row) => ({ kty: row.publicJwk.kty, crv: row.publicJwk.crv, x: row.publicJwk.x, y: row.publicJwk.y, kid: row.kid, alg: row.algorithm, use: 'sig' })) };
  }

  /** A compact JWS of `claims` under the key that signs now, its kid in the header; the first key is generated here, once across replicas. */
  async sign(db: Database, claims: JWTPayload): Promise<string> {
    let row = signingKeyAt(await this.publishedKeys(db), Date.now());
    if (!row) {
      row = await this.firstKey(db);
      this.published = undefined;
    }
    return new SignJWT(claims).setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: row.kid, typ: 'JWT' }).sign(await this.privateKey(row));
  }

  /**
   * A new key: signing `publishAheadSeconds` from now (published meanwhile), or at once with
   * `immediately` (a key that may have leaked). Its predecessors retire when it activates. A
   * rotation already on its way is kept rather than stacked, unless `immediately`.
   */
  async rotate(db: Database, options: { immediately?: boolean } = {}): Promise<Rotation> {
    const rotation = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      const unretired = await tx.select(SigningKeyEntity, 'SELECT * FROM signing_keys WHERE retired_at IS NULL OR retired_at > now()');
      const pending = unretired.find((row) => row.activatedAt.getTime() > Date.now() && !row.retiredAt);
      if (pending && !options.immediately) return { kid: pending.kid, activatedAt: pending.activatedAt, created: false };
      // With no key signing yet there is no one to hand over from: the new key signs at once.
      const signing = signingKeyAt(unretired, Date.now());
      const ahead = options.immediately || !signing ? 0 : this.config.organizationTokens.publishAheadSeconds;
      const [{ at }] = await tx.query<{ at: Date }>('SELECT now() + make_interval(secs => $1) AS at', [ahead]);
      return rotationTo(await this.replaceWith(tx, at));
    });
    this.published = undefined;
    if (rotation.created) this.logger.info({ kid: rotation.kid, activatedAt: rotation.activatedAt }, 'organization token signing key rotated');
    return rotation;
  }

  /**
   * The scheduled rotation (ORGANIZATION_TOKEN_KEY_ROTATION_DAYS): once the signing key is
   * within `publishAheadSeconds` of its age limit, its successor is made to activate at that
   * limit. Any replica may run it: the lock and the check make one rotation.
   */
  async rotateIfDue(db: Database): Promise<Rotation | null> {
    const { rotationDays, publishAheadSeconds } = this.config.organizationTokens;
    if (rotationDays === 0) return null;
    const rotation = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      // The key signing now, once it is within the lead of its age limit and has no successor on its way (no key yet: the first request makes it).
      const [due] = await tx.query<{ at: Date }>(
        `SELECT greatest(activated_at + make_interval(days => $1), now() + make_interval(secs => $2)) AS at FROM signing_keys
          WHERE retired_at IS NULL AND activated_at <= now() AND activated_at + make_interval(days => $1) <= now() + make_interval(secs => $2)
            AND NOT EXISTS (SELECT 1 FROM signing_keys WHERE activated_at > now() AND retired_at IS NULL)
          ORDER BY activated_at DESC LIMIT 1`,
        [rotationDays, publishAheadSeconds],
      );
      return due ? rotationTo(await this.replaceWith(tx, due.at)) : null;
    });
    if (rotation) {
      this.published = undefined;
      this.logger.info({ kid: rotation.kid, activatedAt: rotation.activatedAt, rotationDays }, 'organization token signing key rotated on schedule');
    }
    return rotation;
  }

  /**
   * Runs rotateIfDue now and then every 5 minutes, or a third of the lead when that is shorter,
   * so that a successor is always published a full lead ahead; the timer does not hold the process.
   */
  schedule(db: Database): NodeJS.Timeout | undefined {
    const { rotationDays, publishAheadSeconds } = this.config.organizationTokens;
    if (rotationDays === 0) return undefined;
    const run = () => void this.rotateIfDue(db).catch((error) => this.logger.error({ err: error }, 'scheduled signing key rotation failed'));
    run();
    const seconds = publishAheadSeconds === 0 ? 300 : Math.min(300, Math.max(1, publishAheadSeconds / 3));
    const timer = setInterval(run, seconds * 1000);
    timer.unref();
    return timer;
  }

  /** The first key, signing at once; another replica may have made it meanwhile (the lock orders them). */
  private async firstKey(db: Database): Promise<SigningKeyEntity> {
    return db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      const existing = signingKeyAt(await tx.select(SigningKeyEntity, 'SELECT * FROM signing_keys WHERE activated_at <= now() AND (retired_at IS NULL OR retired_at > now())'), Date.now());
      if (existing) return existing;
      const [{ at }] = await tx.query<{ at: Date }>('SELECT now() AS at');
      const row = await this.replaceWith(tx, at);
      this.logger.info({ kid: row.kid }, 'organization token signing key generated');
      return row;
    });
  }

  /** Inserts a key activating at `at` and retires every other key at that time (earlier retirements stand). */
  private async replaceWith(tx: Database, at: Date): Promise<SigningKeyEntity> {
    const row = await this.insertKey(tx, at);
    await tx.query('UPDATE signing_keys SET retired_at = $1 WHERE kid <> $2 AND (retired_at IS NULL OR retired_at > $1)', [at, row.kid]);
    return row;
  }

  private async insertKey(tx: Database, activatedAt: Date): Promise<SigningKeyEntity> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const sealed = seal(JSON.stringify(await exportJWK(privateKey)), this.config.encryptionKeys.current, sealingContext(kid));
    const row = await tx.selectOne(
      SigningKeyEntity,
      `INSERT INTO signing_keys (kid, algorithm, public_jwk, key_version, private_key, activated_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [kid, SIGNING_ALGORITHM, { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y }, sealed.keyVersion, sealed.box, activatedAt],
    );
    return row!;
  }

  private privateKey(row: SigningKeyEntity): Promise<CryptoKey> {
    let key = this.privateKeys.get(row.kid);
    if (!key) {
      key = this.openPrivateKey(row);
      this.privateKeys.set(row.kid, key);
      key.catch(() => this.privateKeys.delete(row.kid));
    }
    return key;
  }

  private async openPrivateKey(row: SigningKeyEntity): Promise<CryptoKey> {
    let jwk: JWK;
    try {
      jwk = JSON.parse(open({ keyVersion: row.keyVersion, box: row.privateKey }, sealingKeys(this.config), sealingContext(row.kid))) as JWK;
    } catch {
      this.logger.error({ kid: row.kid, keyVersion: row.keyVersion }, 'the signing key cannot be opened with ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS');
      throw failedPrecondition('The signing key was sealed with an encryption key this server does not have: run npm run keys:rotate -- --now');
    }
    return (await importJWK(jwk, SIGNING_ALGORITHM)) as CryptoKey;
  }
}

const rotationTo = (row: SigningKeyEntity): Rotation => ({ kid: row.kid, activatedAt: row.activatedAt, created: true });

/** The associated data of a private key's box: it opens only as the key of its own kid. */
const sealingContext = (kid: string) => `signing_key:${kid}`;
