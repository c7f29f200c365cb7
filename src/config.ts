// The only module that reads process.env. Everything else receives a frozen Config.
import { availableParallelism } from 'node:os';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import type { CountryCode } from 'libphonenumber-js';
import { getCountries } from 'libphonenumber-js/max';
import type { RedisTarget } from './kv/redis-connection.js';

/** Which proxies' X-Forwarded-For to believe: none, a hop count, or addresses/CIDRs (never "any client"). */
export type TrustProxy = false | string | string[] | number;

export interface Config {
  readonly nodeEnv: string;
  /** Set by the cluster primary in each worker's environment (GATEHOUSE_WORKER_INDEX). */
  readonly workerIndex: number | undefined;
  /** What a process forked by the cluster primary does (GATEHOUSE_ROLE): serve HTTP, or run tasks. */
  readonly role: 'http' | 'tasks';
  readonly port: number;
  readonly host: string;
  readonly workers: number;
  readonly dataDir: string;
  /** The durable store: a SQLite file path (embedded mode) or a postgres:// URL. */
  readonly databaseUrl: string;
  readonly databaseDialect: 'sqlite' | 'postgres';
  /** PostgreSQL connections per process. */
  readonly databasePoolSize: number;
  /**
   * A PostgreSQL read replica (postgres:// URL) for reads that may be a moment old: the admin
   * console's lists and searches. Unset: every read goes to DATABASE_URL.
   */
  readonly databaseReplica: { readonly url: string; readonly maxLagSeconds: number } | undefined;
  /** Redis for the shared ephemeral store and the task queue (REDIS_URL or REDIS_SENTINELS); unset: embedded. */
  readonly redis: RedisTarget | undefined;
  readonly redisKeyPrefix: string;
  readonly logLevel: string;
  /** Who may read /metrics: a port of its own (served by the primary, or the single process), and/or a bearer token. Neither: the service's port, open. */
  readonly metrics: { readonly port: number | undefined; readonly token: string | undefined };
  /**
   * The public base URL the service is reached at (PUBLIC_URL), as an origin without a trailing
   * slash, e.g. https://id.school.cn. When it is https, cookies are Secure with the __Host- prefix and
   * answers carry HSTS.
   */
  readonly publicUrl: string | undefined;
  readonly trustProxy: TrustProxy;
  readonly defaultRegion: CountryCode;
  /** Key for HMACs of captcha answers; shared by every worker and server. Unset: a file in DATA_DIR. */
  readonly secretKey: string | undefined;
  readonly testCaptcha: string | undefined;
  readonly captcha: {
    readonly ttlSeconds: number;
    readonly length: number;
    /** CAPTCHA_MODE: which captcha the protected routes take: the picture, the proof of work, or either. */
    readonly mode: CaptchaMode;
    /** CAPTCHA_POW_FREE_PER_ADDRESS: proof-of-work challenges per 10 minutes an address fetches before they get harder. */
    readonly powFreePerAddress: number;
  };
  readonly session: {
    readonly ttlSeconds: number;
    readonly maxAgeSeconds: number;
    /**
     * The name the session cookie is set under: SESSION_COOKIE_NAME, with the __Host- prefix when the
     * cookie is Secure — or __Secure- when it carries COOKIE_DOMAIN, which a __Host- cookie cannot.
     */
    readonly cookieName: string;
    readonly secureCookie: boolean;
    /** COOKIE_DOMAIN: the parent domain the session cookie is scoped to, so that its sub-domains (forward auth) share it; unset: this host only. */
    readonly cookieDomain: string | undefined;
  };
  /** Send Strict-Transport-Security: the service is served over https (PUBLIC_URL). */
  readonly hsts: boolean;
  readonly rateLimits: RateLimitConfig;
  /** security/lockout.ts: failures per window, the first lock for unknown clients, the first wait of a known device, the longest either grows to. */
  readonly lockout: { readonly maxFailures: number; readonly windowSeconds: number; readonly lockSeconds: number; readonly knownDeviceSeconds: number; readonly maxLockSeconds: number };
  /** Administrators use the console (and the admin API, by session) only in a session that passed a second factor. API keys are not affected. */
  readonly adminRequiresTwoFactor: boolean;
  /** Sensitive actions (an API key, a role, two-factor off or reset) need a session whose holder proved themselves within this many seconds. */
  readonly reauthMaxAgeSeconds: number;
  /** A new API key's lifetime unless its creator chooses another. */
  readonly apiKeyDefaultTtlDays: number;
  /** Requests admitted to password hashing per process; past this, 503 OVERLOADED at once. */
  readonly hashQueueMax: number;
  /** argon2id's cost for new password hashes; older hashes are re-made at their next login. */
  readonly passwordHash: { readonly memoryKib: number; readonly timeCost: number };
  /** Threads of the machine's password-hashing pool (the cluster primary's, or a single process's); default: the core count. */
  readonly hashThreads: number;
  readonly bodyLimitBytes: number;
  readonly shutdownTimeoutMs: number;
  /** After SIGTERM: how long readiness fails while requests are still accepted and served, before the server stops accepting. */
  readonly shutdownDelayMs: number;
  readonly tasks: TaskConfig;
  readonly sms: SmsConfig;
  /** Roster imports: the largest file accepted, the most rows in one file, and how long the file and per-row report are kept. */
  readonly imports: { readonly maxBytes: number; readonly maxRows: number; readonly retentionDays: number };
  /** Audit events older than this are deleted. */
  readonly auditRetentionDays: number;
  /** A finished member export can be downloaded for this long; then its CSV is deleted. */
  readonly exportRetentionHours: number;
  readonly oidc: OidcConfig;
  /** Sign-in through upstream providers (WeChat, WeCom, DingTalk, Feishu, OpenID Connect): how long Gatehouse waits for one to answer. */
  readonly signInProviders: { readonly timeoutMs: number };
}

/** The OpenID Connect provider (src/oidc/). */
export interface OidcConfig {
  /**
   * The issuer: PUBLIC_URL; without it, outside production, http://localhost:PORT (trying it out on
   * one machine). Undefined: the provider is off (production without PUBLIC_URL).
   */
  readonly issuer: string | undefined;
  readonly accessTokenTtlSeconds: number;
  readonly idTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  /** A rotated refresh token still works this long, so that two parallel refreshes do not sign the user out; reuse after it revokes the whole grant. */
  readonly refreshTokenReuseSeconds: number;
  /** How often each process looks for new or retired signing keys (`gatehouse keys rotate`). */
  readonly keyRefreshSeconds: number;
}

export type SmsProviderName = 'console' | 'webhook' | 'tencent';

export interface SmsConfig {
  readonly provider: SmsProviderName;
  readonly codeTtlSeconds: number;
  /** Wrong codes a code survives; the next wrong one destroys it. */
  readonly maxTries: number;
  /** Per phone number and purpose. */
  readonly resendSeconds: number;
  /** Messages actually sent to one phone number per day, all purposes. */
  readonly dailyCap: number;
  /** The regions (ISO 3166 codes) whose numbers are sent messages; others are refused. */
  readonly allowedRegions: readonly CountryCode[];
  /** Registration codes an invitation code may have sent per place of its quota. */
  readonly sendsPerPlace: number;
  /** Messages per hour and per day, in all and per region: past them every send is refused (429) until the window ends. */
  readonly caps: { readonly globalHourly: number; readonly globalDaily: number; readonly regionHourly: number; readonly regionDaily: number };
  /** A provider call slower than this is a failed attempt (retried). */
  readonly timeoutMs: number;
  /** The console provider's outbox keeps a message this long. */
  readonly outboxRetentionHours: number;
  readonly webhook: { readonly url: string | undefined; readonly secret: string | undefined };
  readonly tencent: {
    readonly secretId: string | undefined;
    readonly secretKey: string | undefined;
    readonly sdkAppId: string | undefined;
    readonly signName: string | undefined;
    readonly templateId: string | undefined;
    /** The template of the notice that someone tried to register a number that has an account (optional). */
    readonly noticeTemplateId: string | undefined;
    readonly region: string;
    /** https://sms.tencentcloudapi.com; another URL only for a test double or a proxy. */
    readonly endpoint: string;
  };
}

export interface TaskConfig {
  /** Task-worker processes that `gatehouse serve` forks beside its HTTP workers (0: run `gatehouse worker` yourself). */
  readonly workers: number;
  /** Tasks one worker process runs at a time. */
  readonly concurrency: number;
  /** How long a claimed task stays with a worker that stops renewing its lease (a dead one). */
  readonly leaseMs: number;
  /** How often an idle worker looks for work (embedded queue). */
  readonly pollMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/** A limit of `points` requests per `seconds`. */
export interface RateLimit {
  readonly points: number;
  readonly seconds: number;
}

export interface RateLimitConfig {
  readonly captchaPerIp: RateLimit;
  /** Looks at a registration link's invitation code (GET /api/auth/invitations/:code). */
  readonly invitationPerIp: RateLimit;
  readonly registerPerIp: RateLimit;
  readonly loginPerIp: RateLimit;
  readonly loginPerAccount: RateLimit;
  readonly loginPerAccountIp: RateLimit;
  readonly apiKey: RateLimit;
  readonly smsPerIp: RateLimit;
  /** Codes tried to turn an account's two-factor sign-in off (per account). */
  readonly twoFactorDisable: RateLimit;
  /** The per-address limits count an IPv6 client by its network of this prefix length (128: each address). */
  readonly ipv6Prefix: number;
  /** Networks (CIDRs) that the per-address limits do not count: a school's own NAT address, say. */
  readonly exempt: readonly string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function lockoutSettings(env: Env): Config['lockout'] {
  const lockSeconds = int(env, 'LOCKOUT_SECONDS', 900, 1, 30 * 86_400);
  const knownDeviceSeconds = int(env, 'LOCKOUT_KNOWN_DEVICE_SECONDS', 30, 1, 30 * 86_400);
  return {
    maxFailures: int(env, 'LOCKOUT_MAX_FAILURES', 5, 1, 1000),
    windowSeconds: int(env, 'LOCKOUT_WINDOW_SECONDS', 900, 1, 30 * 86_400),
    lockSeconds,
    knownDeviceSeconds,
    // Never shorter than a first lock: the backoff only lengthens them.
    maxLockSeconds: int(env, 'LOCKOUT_MAX_SECONDS', Math.max(86_400, lockSeconds, knownDeviceSeconds), Math.max(lockSeconds, knownDeviceSeconds), 30 * 86_400),
  };
}

/** "POINTS/SECONDS", e.g. 1500/60. */
function rateLimit(env: Env, name: string, fallback: RateLimit): RateLimit {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const match = /^(\d+)\s*\/\s*(\d+)$/.exec(raw);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) throw new ConfigError(`${name} must look like POINTS/SECONDS (e.g. 1500/60), got "${raw}"`);
  return { points: Number(match[1]), seconds: Number(match[2]) };
}

/** Comma-separated addresses and CIDRs, as CIDRs (an address is a network of one). */
export function parseAddressRanges(name: string, raw: string | undefined): string[] {
  const parts = (raw ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return parts.map((part) => {
    if (ipaddr.isValidCIDR(part)) return part;
    if (ipaddr.IPv4.isValidFourPartDecimal(part)) return `${part}/32`;
    if (ipaddr.IPv6.isValid(part)) return `${part}/128`;
    throw new ConfigError(`${name}: "${part}" is not an address or CIDR`);
  });
}

/**
 * TRUST_PROXY: a hop count or addresses/CIDRs of the proxies in front of the service. `true` (trust
 * every hop) is refused: any client could then write its own X-Forwarded-For and pick the address
 * that per-address limits count.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const value = raw?.trim() ?? '';
  if (value === '' || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true') {
    throw new ConfigError('TRUST_PROXY=true would believe any client\'s X-Forwarded-For (anyone could pick the address that rate limits count): give your proxies\' addresses or CIDRs (e.g. TRUST_PROXY=10.0.0.0/8) or the number of proxies in front of the service (e.g. TRUST_PROXY=1)');
  }
  if (/^\d+$/.test(value)) return Number(value);
  const parts = value.split(',').map((p) => p.trim()).filter(Boolean);
  const named = /^(loopback|linklocal|uniquelocal)$/;
  for (const part of parts) {
    if (!named.test(part) && !ipaddr.isValidCIDR(part) && !ipaddr.isValid(part)) throw new ConfigError(`TRUST_PROXY: "${part}" is not an address, CIDR or hop count`);
  }
  return parts.length === 1 ? parts[0]! : parts;
}

/** PUBLIC_URL: an absolute http(s) URL with no path but '/', no query and no fragment; as an origin. */
export function parsePublicUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute URL such as https://id.school.cn, got "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`PUBLIC_URL must start with https:// or http://, got "${value}"`);
  if (url.username || url.password) throw new ConfigError('PUBLIC_URL must not carry a user name or password');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || /[?#]/.test(value)) {
    throw new ConfigError(`PUBLIC_URL must be the service's base URL, without a path, query or fragment (e.g. https://id.school.cn), got "${value}"`);
  }
  return url.origin;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The provider's issuer. An issuer is what every relying party pins: it must be the https address
 * people reach, except on a loopback address where a machine tries it out.
 */
function oidcIssuer(nodeEnv: string, publicUrl: string | undefined, port: number): string | undefined {
  if (publicUrl) {
    const url = new URL(publicUrl);
    if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && nodeEnv === 'production') {
      throw new ConfigError(`PUBLIC_URL must be https in production: it is the OpenID Connect issuer that other systems trust (http is allowed only on localhost), got "${publicUrl}"`);
    }
    return publicUrl;
  }
  return nodeEnv === 'production' ? undefined : `http://localhost:${port}`;
}

/**
 * Secure cookies when the public URL is https (or, without PUBLIC_URL, in production, or as
 * SECURE_COOKIES says). A Secure session cookie gets the __Host- prefix, so that the browser refuses it
 * from plain http and from other subdomains — unless it is scoped to COOKIE_DOMAIN: a __Host- cookie
 * cannot carry a Domain, so it is __Secure- then (still refused from plain http).
 */
function sessionCookie(env: Env, nodeEnv: string, publicUrl: string | undefined): { cookieName: string; secureCookie: boolean; cookieDomain: string | undefined } {
  const https = publicUrl?.startsWith('https:') ?? false;
  const secureCookie = bool(env, 'SECURE_COOKIES', publicUrl ? https : nodeEnv === 'production');
  if (https && !secureCookie) throw new ConfigError('SECURE_COOKIES=false contradicts an https PUBLIC_URL: cookies of an https service are always Secure');
  const base = env.SESSION_COOKIE_NAME?.trim() || 'gatehouse_session';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(base)) throw new ConfigError(`SESSION_COOKIE_NAME must be 1-64 letters, digits, '_', '.' or '-', got "${base}"`);
  if (/^__(host|secure)-/i.test(base)) throw new ConfigError('SESSION_COOKIE_NAME must not start with __Host- or __Secure-: Gatehouse adds the prefix itself when the cookie is Secure');
  const cookieDomain = parseCookieDomain(env.COOKIE_DOMAIN, publicUrl);
  const prefix = !secureCookie ? '' : cookieDomain ? '__Secure-' : '__Host-';
  return { cookieName: `${prefix}${base}`, secureCookie, cookieDomain };
}

const DOMAIN_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * COOKIE_DOMAIN: a parent domain of PUBLIC_URL's host (a leading dot is dropped), e.g. school.cn for
 * https://id.school.cn. A browser refuses a cookie whose Domain does not contain the host that sets it,
 * so a PUBLIC_URL outside it (or none) is refused here rather than by every browser in silence.
 */
export function parseCookieDomain(raw: string | undefined, publicUrl: string | undefined): string | undefined {
  const value = raw?.trim().toLowerCase().replace(/^\./, '');
  if (!value) return undefined;
  if (!DOMAIN_NAME.test(value) || /^[\d.]+$/.test(value)) {
    throw new ConfigError(`COOKIE_DOMAIN must be a domain name with at least two labels, such as school.cn (no scheme, port, path or address), got "${raw}"`);
  }
  if (!publicUrl) throw new ConfigError(`COOKIE_DOMAIN needs PUBLIC_URL: the service's own address must lie within ${value} (e.g. PUBLIC_URL=https://id.${value})`);
  const host = new URL(publicUrl).hostname;
  if (host !== value && !host.endsWith(`.${value}`)) {
    throw new ConfigError(`PUBLIC_URL's host ${host} is not within COOKIE_DOMAIN ${value}: browsers refuse a cookie for a domain that does not contain the host setting it (e.g. PUBLIC_URL=https://id.${value} with COOKIE_DOMAIN=${value})`);
  }
  return value;
}

/** Reads KEY=VALUE lines of an optional .env file; real environment variables win. */
function readDotEnv(file: string): Env {
  if (!existsSync(file)) return {};
  const out: Env = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trim().startsWith('#')) continue;
    out[match[1]!] = match[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//;

export function loadConfig(overrides: Env = {}, env: Env = process.env): Config {
  const merged: Env = { ...readDotEnv(path.resolve('.env')), ...env, ...overrides };
  const nodeEnv = merged.NODE_ENV?.trim() || 'development';
  const dataDir = path.resolve(merged.DATA_DIR?.trim() || './data');

  const region = (merged.DEFAULT_REGION?.trim() || 'CN').toUpperCase();
  if (!(getCountries() as string[]).includes(region)) throw new ConfigError(`DEFAULT_REGION "${region}" is not a known region code`);

  const testCaptcha = merged.GATEHOUSE_TEST_CAPTCHA?.trim() || undefined;
  if (testCaptcha && nodeEnv === 'production') {
    throw new ConfigError('GATEHOUSE_TEST_CAPTCHA is refused when NODE_ENV=production');
  }
  if (testCaptcha && !/^[A-Za-z0-9]{1,16}$/.test(testCaptcha)) {
    throw new ConfigError('GATEHOUSE_TEST_CAPTCHA must be 1-16 letters or digits');
  }

  const databaseUrl = merged.DATABASE_URL?.trim() || path.join(dataDir, 'gatehouse.sqlite');
  const databaseDialect = POSTGRES_URL.test(databaseUrl) ? 'postgres' : 'sqlite';
  if (databaseDialect === 'sqlite' && /^[a-z][a-z0-9+.-]*:\/\//i.test(databaseUrl) && !databaseUrl.startsWith('sqlite:')) {
    throw new ConfigError(`DATABASE_URL must be a postgres:// URL or a SQLite file path, got "${databaseUrl.replace(/\/\/[^@/]*@/, '//…@')}"`);
  }
  const replicaUrl = merged.DATABASE_REPLICA_URL?.trim() || undefined;
  if (replicaUrl && databaseDialect !== 'postgres') throw new ConfigError('DATABASE_REPLICA_URL needs DATABASE_URL to be a postgres:// URL (a replica of that database)');
  if (replicaUrl && !POSTGRES_URL.test(replicaUrl)) throw new ConfigError('DATABASE_REPLICA_URL must be a postgres:// URL');
  const redis = redisTarget(merged);

  const secretKey = merged.SECRET_KEY?.trim() || undefined;
  if (secretKey !== undefined && secretKey.length < 32) throw new ConfigError('SECRET_KEY must be at least 32 characters');
  // A key generated on each server would make captchas and codes from one server fail on another.
  if (secretKey === undefined && (databaseDialect === 'postgres' || redis)) {
    throw new ConfigError(
      'SECRET_KEY is required when DATABASE_URL is a postgres:// URL or REDIS_URL is set (scale-out): set the same 32+ random characters on every server and task worker, e.g. SECRET_KEY=$(openssl rand -base64 48)',
    );
  }

  const publicUrl = parsePublicUrl(merged.PUBLIC_URL);
  const port = int(merged, 'PORT', 9527, 0, 65535);
  const sessionTtl = int(merged, 'SESSION_TTL_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600);
  const config: Config = {
    nodeEnv,
    workerIndex: merged.GATEHOUSE_WORKER_INDEX ? int(merged, 'GATEHOUSE_WORKER_INDEX', 0, 0, 1024) : undefined,
    role: merged.GATEHOUSE_ROLE?.trim() === 'tasks' ? 'tasks' : 'http',
    port,
    host: merged.HOST?.trim() || '127.0.0.1',
    workers: int(merged, 'WORKERS', availableParallelism(), 0, 256),
    dataDir,
    databaseUrl: databaseDialect === 'postgres' ? databaseUrl : path.resolve(databaseUrl.replace(/^sqlite:(\/\/)?/, '')),
    databaseDialect,
    databasePoolSize: int(merged, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    databaseReplica: replicaUrl ? { url: replicaUrl, maxLagSeconds: int(merged, 'DATABASE_REPLICA_MAX_LAG_SECONDS', 5, 1, 3600) } : undefined,
    redis,
    redisKeyPrefix: merged.REDIS_KEY_PREFIX?.trim() || 'gatehouse:',
    logLevel: merged.LOG_LEVEL?.trim() || 'info',
    metrics: metricsAccess(merged),
    publicUrl,
    trustProxy: parseTrustProxy(merged.TRUST_PROXY),
    defaultRegion: region as CountryCode,
    secretKey,
    testCaptcha,
    captcha: {
      ttlSeconds: int(merged, 'CAPTCHA_TTL_SECONDS', 300, 1, 3600),
      length: int(merged, 'CAPTCHA_LENGTH', 4, 4, 8),
      mode: captchaMode(merged.CAPTCHA_MODE),
      powFreePerAddress: int(merged, 'CAPTCHA_POW_FREE_PER_ADDRESS', 100, 1, 1_000_000),
    },
    session: {
      ttlSeconds: sessionTtl,
      maxAgeSeconds: int(merged, 'SESSION_MAX_AGE_SECONDS', 30 * 24 * 3600, sessionTtl, 10 * 365 * 24 * 3600),
      ...sessionCookie(merged, nodeEnv, publicUrl),
    },
    hsts: publicUrl?.startsWith('https:') ?? false,
    // Defaults let a 500-person workshop behind one NAT address through (a few captchas and one
    // registration each) while a single client hammering one account is stopped quickly.
    rateLimits: {
      captchaPerIp: rateLimit(merged, 'RATE_LIMIT_CAPTCHA_PER_IP', { points: 1500, seconds: 60 }),
      invitationPerIp: rateLimit(merged, 'RATE_LIMIT_INVITATION_PER_IP', { points: 1500, seconds: 60 }),
      registerPerIp: rateLimit(merged, 'RATE_LIMIT_REGISTER_PER_IP', { points: 1000, seconds: 600 }),
      loginPerIp: rateLimit(merged, 'RATE_LIMIT_LOGIN_PER_IP', { points: 3000, seconds: 600 }),
      loginPerAccount: rateLimit(merged, 'RATE_LIMIT_LOGIN_PER_ACCOUNT', { points: 30, seconds: 600 }),
      loginPerAccountIp: rateLimit(merged, 'RATE_LIMIT_LOGIN_PER_ACCOUNT_IP', { points: 10, seconds: 300 }),
      apiKey: rateLimit(merged, 'RATE_LIMIT_API_KEY', { points: 600, seconds: 60 }),
      // A /64 is the smallest network a provider normally gives an IPv6 client.
      smsPerIp: rateLimit(merged, 'RATE_LIMIT_SMS_PER_IP', { points: 1000, seconds: 3600 }),
      twoFactorDisable: rateLimit(merged, 'RATE_LIMIT_TWO_FACTOR_DISABLE', { points: 5, seconds: 3600 }),
      ipv6Prefix: int(merged, 'RATE_LIMIT_IPV6_PREFIX', 64, 32, 128),
      exempt: parseAddressRanges('RATE_LIMIT_EXEMPT', merged.RATE_LIMIT_EXEMPT),
    },
    lockout: lockoutSettings(merged),
    adminRequiresTwoFactor: bool(merged, 'ADMIN_REQUIRE_TWO_FACTOR', true),
    reauthMaxAgeSeconds: int(merged, 'REAUTH_MAX_AGE_SECONDS', 300, 10, 86_400),
    apiKeyDefaultTtlDays: int(merged, 'API_KEY_DEFAULT_TTL_DAYS', 90, 1, 3650),
    hashQueueMax: int(merged, 'HASH_QUEUE_MAX', 400, 1, 100_000),
    passwordHash: passwordHashParams(merged),
    hashThreads: 0, // set below, from the worker count
    bodyLimitBytes: int(merged, 'BODY_LIMIT_BYTES', 64 * 1024, 1024, 64 * 1024 * 1024),
    shutdownDelayMs: int(merged, 'SHUTDOWN_DELAY_MS', 0, 0, 600_000),
    shutdownTimeoutMs: int(merged, 'SHUTDOWN_TIMEOUT_MS', 15_000, 100, 600_000),
    tasks: {
      workers: int(merged, 'TASK_WORKERS', 1, 0, 64),
      concurrency: int(merged, 'TASK_CONCURRENCY', 4, 1, 1000),
      leaseMs: int(merged, 'TASK_LEASE_SECONDS', 30, 1, 3600) * 1000,
      pollMs: int(merged, 'TASK_POLL_MS', 500, 10, 60_000),
      backoffBaseMs: int(merged, 'TASK_BACKOFF_BASE_MS', 1_000, 1, 3_600_000),
      backoffMaxMs: int(merged, 'TASK_BACKOFF_MAX_MS', 300_000, 1, 86_400_000),
    },
    auditRetentionDays: int(merged, 'AUDIT_RETENTION_DAYS', 180, 1, 36_500),
    exportRetentionHours: int(merged, 'EXPORT_RETENTION_HOURS', 24, 1, 24 * 365),
    sms: smsConfig(merged, region as CountryCode, nodeEnv),
    imports: {
      maxBytes: int(merged, 'IMPORT_MAX_BYTES', 10 * 1024 * 1024, 1024, 512 * 1024 * 1024),
      maxRows: int(merged, 'IMPORT_MAX_ROWS', 50_000, 1, 1_000_000),
      retentionDays: int(merged, 'IMPORT_RETENTION_DAYS', 30, 1, 36_500),
    },
    oidc: {
      issuer: oidcIssuer(nodeEnv, publicUrl, port),
      accessTokenTtlSeconds: int(merged, 'OIDC_ACCESS_TOKEN_TTL_SECONDS', 600, 30, 86_400),
      idTokenTtlSeconds: int(merged, 'OIDC_ID_TOKEN_TTL_SECONDS', 3600, 30, 86_400),
      refreshTokenTtlSeconds: int(merged, 'OIDC_REFRESH_TOKEN_TTL_SECONDS', 30 * 86_400, 60, 365 * 86_400),
      refreshTokenReuseSeconds: int(merged, 'OIDC_REFRESH_TOKEN_REUSE_SECONDS', 10, 0, 300),
      keyRefreshSeconds: int(merged, 'OIDC_KEY_REFRESH_SECONDS', 10, 1, 3600),
    },
    signInProviders: { timeoutMs: int(merged, 'SIGN_IN_PROVIDER_TIMEOUT_SECONDS', 10, 1, 60) * 1000 },
  };
  const cores = availableParallelism();
  // argon2id is memory-hard: more hashing threads than cores only thrash the caches. One pool per
  // machine (the cluster primary's, or the single process's).
  (config as { hashThreads: number }).hashThreads = int(merged, 'HASH_THREADS', cores, 1, 256);
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${config.logLevel}"`);
  }
  return deepFreeze(config);
}

// OWASP's argon2id rows (m=47104 t=1, 19456 t=2, 12288 t=3, 9216 t=4, 7168 t=5) all cost at least
// 35,840 KiB-passes with at least 7 MiB: weaker settings are refused, stronger ones are the operator's call.
const MIN_ARGON2_MEMORY_KIB = 7168;
const MIN_ARGON2_MEMORY_PASSES = 35_840;

function passwordHashParams(env: Env): Config['passwordHash'] {
  const memoryKib = int(env, 'PASSWORD_HASH_MEMORY_KIB', 19_456, MIN_ARGON2_MEMORY_KIB, 4 * 1024 * 1024);
  const timeCost = int(env, 'PASSWORD_HASH_TIME_COST', 2, 1, 20);
  if (memoryKib * timeCost < MIN_ARGON2_MEMORY_PASSES) {
    throw new ConfigError(`PASSWORD_HASH_MEMORY_KIB × PASSWORD_HASH_TIME_COST is ${memoryKib * timeCost}; OWASP's weakest argon2id setting is ${MIN_ARGON2_MEMORY_PASSES} (e.g. 19456 × 2, 47104 × 1, 7168 × 5)`);
  }
  return { memoryKib, timeCost };
}

function metricsAccess(env: Env): Config['metrics'] {
  const port = env.METRICS_PORT?.trim() ? int(env, 'METRICS_PORT', 0, 1, 65535) : undefined;
  if (port !== undefined && port === int(env, 'PORT', 9527, 0, 65535)) throw new ConfigError(`METRICS_PORT must differ from PORT (${port}): it is a port of its own for /metrics`);
  const token = env.METRICS_TOKEN?.trim() || undefined;
  if (token !== undefined && !/^[\x21-\x7e]{24,256}$/.test(token)) throw new ConfigError('METRICS_TOKEN must be 24-256 printable characters without spaces, e.g. METRICS_TOKEN=$(openssl rand -hex 24)');
  return { port, token };
}

/** Where the embedded store's files live: beside the SQLite database, or DATA_DIR. */
export function storageDirectory(config: Pick<Config, 'databaseDialect' | 'databaseUrl' | 'dataDir'>): string {
  return config.databaseDialect === 'sqlite' ? path.dirname(config.databaseUrl) : config.dataDir;
}

function redisTarget(env: Env): RedisTarget | undefined {
  const url = env.REDIS_URL?.trim() || undefined;
  if (url && !/^rediss?:\/\//.test(url)) throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${url.replace(/\/\/[^@/]*@/, '//…@')}"`);
  const sentinelList = env.REDIS_SENTINELS?.trim();
  if (!sentinelList) return url ? { url } : undefined;
  const sentinels = sentinelList.split(',').map((entry) => {
    const match = /^\s*([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})\s*$/.exec(entry);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) throw new ConfigError(`REDIS_SENTINELS must be host:port pairs separated by commas, got "${entry.trim()}"`);
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
  });
  const sentinelPassword = env.REDIS_SENTINEL_PASSWORD?.trim() || undefined;
  return { sentinels, name: env.REDIS_SENTINEL_NAME?.trim() || 'mymaster', ...(url ? { url } : {}), ...(sentinelPassword ? { sentinelPassword } : {}) };
}

/** SMS_ALLOWED_REGIONS: region codes separated by commas; the default region alone by default. */
function smsRegions(env: Env, defaultRegion: CountryCode): CountryCode[] {
  const list = env.SMS_ALLOWED_REGIONS?.trim();
  if (!list) return [defaultRegion];
  const regions = [...new Set(list.split(',').map((r) => r.trim().toUpperCase()).filter(Boolean))];
  for (const region of regions) {
    if (!(getCountries() as string[]).includes(region)) throw new ConfigError(`SMS_ALLOWED_REGIONS: "${region}" is not a known region code`);
  }
  if (regions.length === 0) throw new ConfigError('SMS_ALLOWED_REGIONS must name at least one region');
  return regions as CountryCode[];
}

function smsConfig(env: Env, defaultRegion: CountryCode, nodeEnv: string): SmsConfig {
  const provider = (env.SMS_PROVIDER?.trim() || 'console') as SmsProviderName;
  if (!['console', 'webhook', 'tencent'].includes(provider)) throw new ConfigError(`SMS_PROVIDER must be console, webhook or tencent; got "${provider}"`);
  // The console provider delivers nothing: it keeps the codes readable in the admin console.
  if (provider === 'console' && nodeEnv === 'production') {
    throw new ConfigError('SMS_PROVIDER=console (the default) is refused when NODE_ENV=production: it sends no message and keeps the codes readable in the admin console. Set SMS_PROVIDER=tencent or SMS_PROVIDER=webhook');
  }
  const text = (name: string) => env[name]?.trim() || undefined;
  const sms: SmsConfig = {
    provider,
    codeTtlSeconds: int(env, 'SMS_CODE_TTL_SECONDS', 300, 30, 3600),
    maxTries: int(env, 'SMS_CODE_MAX_TRIES', 5, 1, 20),
    resendSeconds: int(env, 'SMS_RESEND_SECONDS', 60, 1, 3600),
    dailyCap: int(env, 'SMS_DAILY_CAP', 10, 1, 1000),
    allowedRegions: smsRegions(env, defaultRegion),
    sendsPerPlace: int(env, 'SMS_SENDS_PER_PLACE', 3, 1, 20),
    caps: {
      globalHourly: int(env, 'SMS_CAP_HOURLY', 3_000, 1, 10_000_000),
      globalDaily: int(env, 'SMS_CAP_DAILY', 20_000, 1, 100_000_000),
      regionHourly: int(env, 'SMS_CAP_REGION_HOURLY', 2_000, 1, 10_000_000),
      regionDaily: int(env, 'SMS_CAP_REGION_DAILY', 10_000, 1, 100_000_000),
    },
    timeoutMs: int(env, 'SMS_TIMEOUT_MS', 5_000, 100, 120_000),
    outboxRetentionHours: int(env, 'SMS_OUTBOX_RETENTION_HOURS', 24, 1, 24 * 30),
    webhook: { url: text('SMS_WEBHOOK_URL'), secret: text('SMS_WEBHOOK_SECRET') },
    tencent: {
      secretId: text('TENCENT_SMS_SECRET_ID'),
      secretKey: text('TENCENT_SMS_SECRET_KEY'),
      sdkAppId: text('TENCENT_SMS_SDK_APP_ID'),
      signName: text('TENCENT_SMS_SIGN_NAME'),
      templateId: text('TENCENT_SMS_TEMPLATE_ID'),
      noticeTemplateId: text('TENCENT_SMS_NOTICE_TEMPLATE_ID'),
      region: text('TENCENT_SMS_REGION') ?? 'ap-guangzhou',
      endpoint: text('TENCENT_SMS_ENDPOINT') ?? 'https://sms.tencentcloudapi.com',
    },
  };
  if (provider === 'webhook') {
    if (!sms.webhook.url || !/^https?:\/\//.test(sms.webhook.url)) throw new ConfigError('SMS_PROVIDER=webhook needs SMS_WEBHOOK_URL (http:// or https://)');
    if (!sms.webhook.secret || sms.webhook.secret.length < 16) throw new ConfigError('SMS_PROVIDER=webhook needs SMS_WEBHOOK_SECRET (at least 16 characters) to sign its requests');
  }
  if (provider === 'tencent') {
    const missing = (['TENCENT_SMS_SECRET_ID', 'TENCENT_SMS_SECRET_KEY', 'TENCENT_SMS_SDK_APP_ID', 'TENCENT_SMS_SIGN_NAME', 'TENCENT_SMS_TEMPLATE_ID'] as const).filter((n) => !text(n));
    if (missing.length) throw new ConfigError(`SMS_PROVIDER=tencent needs ${missing.join(', ')}`);
  }
  return sms;
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}

/** CAPTCHA_MODE: which captcha the protected routes take — the picture, the proof of work, or either. */
export const CAPTCHA_MODES = ['image', 'pow', 'either'] as const;
export type CaptchaMode = (typeof CAPTCHA_MODES)[number];

function captchaMode(raw: string | undefined): CaptchaMode {
  const mode = raw?.trim() || 'either';
  if (!(CAPTCHA_MODES as readonly string[]).includes(mode)) throw new ConfigError(`CAPTCHA_MODE must be image, pow or either; got "${mode}"`);
  return mode as CaptchaMode;
}
