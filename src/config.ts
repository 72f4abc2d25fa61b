import path from 'node:path';
import { z } from 'zod';
import { CatalogError, loadCatalog, useCatalog, type Catalog } from './authz/catalog';
import { PROJECT_ROOT } from './paths';
import { parseDnsServers } from './modules/domain/dns';
import { parseSchedule } from './common/durations';

/** The development secret documented in README.md; refused in production. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me-0123456789';

/** The development encryption key documented in README.md (32 bytes, base64); refused in production. */
export const DEVELOPMENT_ENCRYPTION_KEY = 'ZGV2ZWxvcG1lbnQtb25seS1lbmNyeXB0aW9uLWtleSE=';

const PLANS = ['STARTER', 'PRO', 'TEAM', 'BUSINESS', 'ENTERPRISE'] as const;

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const encryptionKey = optionalText.refine((v) => v === undefined || Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(v), {
  message: 'expected 32 bytes in base64 (openssl rand -base64 32)',
});

/** true, false, or unset (undefined): for a default that depends on other settings. */
const optionalFlag = z
  .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
  .optional()
  .transform((value) => (value === undefined ? undefined : value === 'true' || value === '1'));

const flag = (defaultValue: boolean) => optionalFlag.transform((value) => value ?? defaultValue);

const integer = (min: number, max: number, defaultValue: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return defaultValue;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `expected an integer from ${min} to ${max}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

const url = (protocols: string[]) =>
  optionalText.refine(
    (value) => {
      if (value === undefined) return true;
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test'], { message: 'expected development, production or test' }).default('development'),
    PORT: integer(0, 65535, 4001),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'expected fatal, error, warn, info, debug, trace or silent' }).default('info'),
    DATABASE_URL: url(['postgres:', 'postgresql:']),
    DATABASE_POOL_SIZE: integer(1, 500, 20),
    DATABASE_POOL_TIMEOUT_MS: integer(100, 600_000, 10_000),
    /** GraphQL operations run at once; 0: as many as DATABASE_POOL_SIZE. */
    GRAPHQL_CONCURRENCY: integer(0, 100_000, 0),
    DATA_DIR: optionalText,
    EMBEDDED_POSTGRES_PORT: integer(1, 65535, 5433),
    MIGRATIONS_RUN: flag(true),
    BASE_DOMAIN: optionalText.refine((v) => v === undefined || /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(v), {
      message: 'expected a domain name such as example.com',
    }),
    SMTP_URL: url(['smtp:', 'smtps:']),
    MAIL_FROM: optionalText.default('Organizations <no-reply@localhost>'),
    PUBLIC_URL: url(['http:', 'https:']).default('http://localhost:3000'),
    JWT_SECRET: optionalText.refine((v) => v === undefined || v.length >= 32, { message: 'expected at least 32 characters' }),
    JWKS_URL: url(['http:', 'https:']),
    JWT_ISSUER: optionalText,
    JWT_AUDIENCE: optionalText,
    /** 0 (the default): every token must carry `exp`. Else a token without `exp` is accepted while its `iat` is younger than this many seconds, and no token older. */
    JWT_MAX_AGE_SECONDS: integer(0, 31_536_000, 0),
    ROUTER_SECRET: optionalText,
    /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
    METRICS_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 16, { message: 'expected at least 16 characters' }),
    /** When set (not 0), /metrics is served on a listener of its own on METRICS_HOST:METRICS_PORT. */
    METRICS_PORT: integer(0, 65535, 0),
    METRICS_HOST: optionalText.default('127.0.0.1'),
    /** Operation names that get a label of their own (comma-separated); unset: the first 100 that ran without errors. */
    METRICS_OPERATION_NAMES: optionalText,
    INTROSPECTION: flag(false),
    /** GraphiQL at /graphiql, from node_modules (no CDN); unset: on outside production only. */
    GRAPHIQL: optionalFlag,
    /** false: `_service { sdl }` without @authenticated / @requiresScopes, for gateways that refuse `for: SECURITY` links. */
    FEDERATION_AUTH_DIRECTIVES: flag(true),
    DEFAULT_TEAM_PLAN: z.enum(PLANS, { message: `expected one of ${PLANS.join(', ')}` }).default('TEAM'),
    DEFAULT_TEAM_SEATS: integer(1, 1_000_000, 5),
    EXPOSE_SQL_COUNT: flag(false),
    INVITATION_TTL_DAYS: integer(1, 30, 7),
    AUDIT_RETENTION_DAYS: integer(1, 36_500, 365),
    AUDIT_PURGE_INTERVAL_MINUTES: integer(0, 100_000, 360),
    MAIL_WORKER: flag(true),
    MAIL_POLL_INTERVAL_MS: integer(50, 600_000, 1000),
    MAIL_RETRY_BASE_MS: integer(10, 3_600_000, 2000),
    /** Deliver webhooks from this process (every replica may: deliveries are claimed with FOR UPDATE SKIP LOCKED). */
    WEBHOOK_WORKER: flag(true),
    WEBHOOK_POLL_INTERVAL_MS: integer(50, 600_000, 1000),
    /** Deliveries this process sends at once, and to one endpoint at once (so that a slow endpoint never delays the others). */
    WEBHOOK_CONCURRENCY: integer(1, 1000, 32),
    WEBHOOK_ENDPOINT_CONCURRENCY: integer(1, 100, 4),
    /** How long a receiver has to answer (Standard Webhooks: 15 s). */
    WEBHOOK_TIMEOUT_MS: integer(100, 120_000, 15_000),
    /** The waits before each retry (Standard Webhooks: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), comma-separated, each a number with ms, s, m or h. */
    WEBHOOK_RETRY_SCHEDULE: optionalText.default('5s,5m,30m,2h,5h,10h,10h').refine((v) => parseSchedule(v) !== null, {
      message: 'expected comma-separated durations such as 5s,5m,30m,2h (ms, s, m or h)',
    }),
    /** An endpoint whose deliveries have all failed for this long is disabled. */
    WEBHOOK_DISABLE_AFTER_HOURS: integer(1, 10_000, 120),
    /** Delivered and failed deliveries (and events) are purged after this many days. */
    WEBHOOK_RETENTION_DAYS: integer(1, 3650, 30),
    /** Allow endpoints on loopback, private, link-local and metadata addresses: the default outside production only. */
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: optionalFlag,
    /** What an identity provider is told about the accounts service, shown on each SSO connection; `{organizationId}` is replaced. Unset: under PUBLIC_URL. */
    SSO_SP_ENTITY_ID: optionalText,
    SSO_ACS_URL: url(['http:', 'https:']),
    SSO_OIDC_REDIRECT_URI: url(['http:', 'https:']),
    /** How long an OpenID provider has to serve its discovery document when a connection is saved. */
    SSO_DISCOVERY_TIMEOUT_MS: integer(100, 60_000, 5000),
    ENCRYPTION_KEY: encryptionKey,
    ENCRYPTION_KEY_PREVIOUS: encryptionKey,
    /** Lifetime of an organization token (issueOrganizationToken). */
    ORGANIZATION_TOKEN_TTL_SECONDS: integer(30, 3600, 300),
    /** `iss` of organization tokens; unset: PUBLIC_URL. */
    ORGANIZATION_TOKEN_ISSUER: optionalText,
    /** A new signing key every this many days (0: only by `npm run keys:rotate`). */
    ORGANIZATION_TOKEN_KEY_ROTATION_DAYS: integer(0, 3650, 30),
    /** How long a new signing key is published before it signs, so that verifiers' cached key sets hold it (jose caches 10 minutes). */
    ORGANIZATION_TOKEN_KEY_PUBLISH_AHEAD_SECONDS: integer(0, 86_400, 900),
    /** The product catalog (JSON or YAML); unset: catalog/example.yaml. */
    AUTHZ_CATALOG: optionalText,
    /** Resolvers that verify domains (comma-separated IP addresses, each with an optional port); unset: the system's. */
    DNS_SERVERS: optionalText.refine(
      (v) => {
        try {
          parseDnsServers(v);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'expected comma-separated IP addresses, each with an optional port (1.1.1.1, 127.0.0.1:5353, [::1]:53)' },
    ),
    /** A domain not verified this many hours after it was added reads as FAILED (add it again to restart). */
    DOMAIN_VERIFICATION_HOURS: integer(1, 720, 72),
    /** How often a VERIFIED domain's record is looked up again (a duration: ms, s, m or h). */
    DOMAIN_RECHECK_INTERVAL: optionalText.default('24h').refine((v) => parseSchedule(v)?.length === 1, {
      message: 'expected one duration such as 24h, 30m or 500ms',
    }),
    /** Re-check verified domains from this process (any number of replicas may: each domain is claimed by one). */
    DOMAIN_WORKER: flag(true),
    /** The benchmark's "authorization off" variant; refused in production. */
    BENCH_UNGUARDED: flag(false),
    /** The benchmark's "tenant wall off" variant: requests run as the owner, whom row-level security does not bind; refused in production. */
    BENCH_UNWALLED: flag(false),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    if (!env.JWT_SECRET && !env.JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'JWT_SECRET or JWKS_URL is required when NODE_ENV=production' });
    }
    if (env.JWT_SECRET === DEVELOPMENT_JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'the documented development secret cannot be used in production' });
    }
    for (const name of ['BENCH_UNGUARDED', 'BENCH_UNWALLED'] as const) {
      if (env[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'the benchmark switch cannot be used in production' });
    }
    if (!env.ENCRYPTION_KEY) {
      ctx.addIssue({ code: 'custom', path: ['ENCRYPTION_KEY'], message: 'ENCRYPTION_KEY is required when NODE_ENV=production' });
    } else if (env.ENCRYPTION_KEY === DEVELOPMENT_ENCRYPTION_KEY) {
      ctx.addIssue({ code: 'custom', path: ['ENCRYPTION_KEY'], message: 'the documented development key cannot be used in production' });
    }
  });

export type Env = z.output<typeof schema>;

export interface Config {
  env: Env;
  isProduction: boolean;
  /** Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset. */
  dataDir: string;
  jwtSecret: string | undefined;
  /** Introspection and the Sandbox landing page. */
  introspection: boolean;
  /** Serve GraphiQL at /graphiql (GRAPHIQL; outside production by default). */
  graphiql: boolean;
  /** Send the number of SQL statements of each request in the X-SQL-Statements header. */
  exposeSqlCount: boolean;
  /** Encrypts BYOK credentials; `previous` still decrypts what it encrypted, during a rotation. */
  encryptionKeys: { current: Buffer; previous: Buffer | null };
  /** Webhook delivery (API.md, Events): the retry schedule in ms, and whether private addresses may receive. */
  webhooks: { retrySchedule: number[]; allowPrivateNetworks: boolean; requireHttps: boolean };
  /** What each SSO connection tells the admin to paste into the IdP (`{organizationId}` replaced), and the discovery fetch's timeout. */
  sso: { spEntityId: string; acsUrl: string; oidcRedirectUri: string; discoveryTimeoutMs: number };
  /** GraphQL operations this process runs at once (OperationGate). */
  graphqlConcurrency: number;
  /** Verified domains: the resolvers (null: the system's) and how often a verified one is looked up again. */
  domains: { dnsServers: string[] | null; recheckIntervalMs: number; verificationHours: number };
  /** Organization tokens (issueOrganizationToken) and their signing keys. */
  organizationTokens: { ttlSeconds: number; issuer: string; rotationDays: number; publishAheadSeconds: number };
  /**
   * Who reads GET /metrics: bearers of `token` when set; a listener of its own when `port` is set;
   * on the main port only with a token, or in development when neither is set.
   */
  metrics: { token: string | undefined; port: number | undefined; host: string; onMainPort: boolean; operationNames: ReadonlySet<string> | undefined };
  /**
   * The router's views of the subgraph, `_service { sdl }` and inline traces (ftv1): in
   * development, or in production when ROUTER_SECRET proves every request came through the router.
   */
  routerViews: boolean;
  /** The product permissions (AUTHZ_CATALOG), validated. */
  catalog: Catalog;
}

export class ConfigError extends Error {}

/** Parses the environment once; the only place that reads process.env. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(source);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue.path[0] ?? 'environment');
    const got = source[name] === undefined ? '' : ` (got "${source[name]}")`;
    throw new ConfigError(`Invalid configuration: ${name}: ${issue.message}${issue.message.includes('got') ? '' : got}`);
  }
  const env = result.data;
  let catalog: Catalog;
  try {
    catalog = loadCatalog(env.AUTHZ_CATALOG);
  } catch (error) {
    if (error instanceof CatalogError) throw new ConfigError(error.message);
    throw error;
  }
  // The process's one catalog: what every permission check reads.
  useCatalog(catalog);
  const isProduction = env.NODE_ENV === 'production';
  return {
    env,
    isProduction,
    dataDir: path.resolve(env.DATA_DIR ?? path.join(PROJECT_ROOT, '.data')),
    jwtSecret: env.JWT_SECRET ?? (env.JWKS_URL || isProduction ? undefined : DEVELOPMENT_JWT_SECRET),
    introspection: !isProduction || env.INTROSPECTION,
    graphiql: env.GRAPHIQL ?? !isProduction,
    exposeSqlCount: !isProduction || env.EXPOSE_SQL_COUNT,
    graphqlConcurrency: env.GRAPHQL_CONCURRENCY || env.DATABASE_POOL_SIZE,
    domains: {
      dnsServers: parseDnsServers(env.DNS_SERVERS),
      recheckIntervalMs: parseSchedule(env.DOMAIN_RECHECK_INTERVAL)![0],
      verificationHours: env.DOMAIN_VERIFICATION_HOURS,
    },
    organizationTokens: {
      ttlSeconds: env.ORGANIZATION_TOKEN_TTL_SECONDS,
      issuer: env.ORGANIZATION_TOKEN_ISSUER ?? env.PUBLIC_URL,
      rotationDays: env.ORGANIZATION_TOKEN_KEY_ROTATION_DAYS,
      publishAheadSeconds: env.ORGANIZATION_TOKEN_KEY_PUBLISH_AHEAD_SECONDS,
    },
    metrics: {
      token: env.METRICS_TOKEN,
      port: env.METRICS_PORT || undefined,
      // Never all interfaces by accident (an empty METRICS_HOST).
      host: env.METRICS_HOST ?? '127.0.0.1',
      onMainPort: env.METRICS_TOKEN !== undefined || (!env.METRICS_PORT && !isProduction),
      operationNames: env.METRICS_OPERATION_NAMES ? new Set(env.METRICS_OPERATION_NAMES.split(',').map((name) => name.trim()).filter(Boolean)) : undefined,
    },
    routerViews: !isProduction || env.ROUTER_SECRET !== undefined,
    catalog,
    webhooks: {
      retrySchedule: parseSchedule(env.WEBHOOK_RETRY_SCHEDULE)!,
      allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? !isProduction,
      requireHttps: isProduction,
    },
    sso: {
      spEntityId: env.SSO_SP_ENTITY_ID ?? `${env.PUBLIC_URL.replace(/\/$/, '')}/sso/saml/{organizationId}`,
      acsUrl: env.SSO_ACS_URL ?? `${env.PUBLIC_URL.replace(/\/$/, '')}/sso/saml/{organizationId}/acs`,
      oidcRedirectUri: env.SSO_OIDC_REDIRECT_URI ?? `${env.PUBLIC_URL.replace(/\/$/, '')}/sso/oidc/callback`,
      discoveryTimeoutMs: env.SSO_DISCOVERY_TIMEOUT_MS,
    },
    encryptionKeys: {
      current: Buffer.from(env.ENCRYPTION_KEY ?? DEVELOPMENT_ENCRYPTION_KEY, 'base64'),
      previous: env.ENCRYPTION_KEY_PREVIOUS ? Buffer.from(env.ENCRYPTION_KEY_PREVIOUS, 'base64') : null,
    },
  };
}
