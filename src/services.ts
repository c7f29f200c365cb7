// The product's services wired from config, without the HTTP stack: the server's workers build them
// under Fastify (src/app.ts), and the command line builds them alone, so that `gatehouse org list`
// does not load Fastify, its plugins and every route to print a table.
import type { Logger } from 'pino';
import { Passwords } from './accounts/passwords.js';
import { Profile } from './accounts/profile.js';
import { Reauthentication } from './accounts/reauthentication.js';
import { Registration } from './accounts/registration.js';
import { AccountService } from './accounts/service.js';
import { SignIn } from './accounts/sign-in.js';
import { TwoFactorSettings } from './accounts/two-factor-settings.js';
import { OrganizationAdmin } from './admin/organizations.js';
import { RateLimitAdmin } from './admin/rate-limits.js';
import { UserAdmin } from './admin/users.js';
import { TwoFactor } from './accounts/two-factor.js';
import { ApiKeyService } from './apikeys/service.js';
import { AuditLog } from './audit/service.js';
import { ForwardAuthRules } from './authz/rules.js';
import { CaptchaGate } from './captcha/gate.js';
import { ProofOfWork } from './captcha/pow.js';
import { CaptchaService } from './captcha/service.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { ExportService } from './exports/service.js';
import { Identities } from './federation/identities.js';
import { SignInProviders } from './federation/registry.js';
import { SignInFlow } from './federation/sign-in-flow.js';
import { createUpstreams } from './federation/upstreams.js';
import { ImportService } from './imports/service.js';
import { instrumentStore } from './kv/instrumented.js';
import { ClientRegistry } from './oidc/clients/service.js';
import { OidcGrants } from './oidc/grants.js';
import { SigningKeys } from './oidc/signing-keys.js';
import type { KeyValueStore } from './kv/store.js';
import type { Metrics } from './observability/metrics.js';
import { OrgService } from './orgs/service.js';
import { HashAdmission } from './security/hash-admission.js';
import { KnownDevices } from './security/known-devices.js';
import { Lockout } from './security/lockout.js';
import type { PasswordHasher } from './security/password.js';
import { RateLimits } from './security/rate-limits.js';
import { OwnSessions } from './sessions/own-sessions.js';
import { Passkeys, relyingPartyOf } from './passkeys/service.js';
import { SessionService } from './sessions/service.js';
import { SmsCodes } from './sms/codes.js';
import { SmsOutbox } from './sms/outbox.js';
import { SmsService } from './sms/service.js';
import { createTaskRegistry } from './task-handlers.js';
import { TaskService } from './tasks/service.js';
import type { TaskQueue } from './tasks/types.js';

export interface ServiceDeps {
  config: Config;
  database: Database;
  kv: KeyValueStore;
  /** Key for captcha and code HMACs, the same on every worker and server. */
  secret: string;
  metrics?: Metrics | undefined;
  hasher: PasswordHasher;
  tasks: TaskQueue;
  /** Where task handlers log; silent when absent. */
  log?: Pick<Logger, 'info'>;
}

export interface Services {
  /** Both kinds of captcha, as CAPTCHA_MODE allows. */
  captcha: CaptchaGate;
  orgs: OrgService;
  accounts: AccountService;
  registration: Registration;
  signIn: SignIn;
  profile: Profile;
  twoFactor: TwoFactorSettings;
  reauthentication: Reauthentication;
  sessions: SessionService;
  /** A user's own sessions: sign out, revoke, revoke the others; audited. */
  ownSessions: OwnSessions;
  rateLimits: RateLimits;
  lockout: Lockout;
  knownDevices: KnownDevices;
  hashing: HashAdmission;
  audit: AuditLog;
  apiKeys: ApiKeyService;
  tasks: TaskService;
  smsCodes: SmsCodes;
  sms: SmsService;
  /** The console provider's outbox: reads audited, rows expiring. */
  smsOutbox: SmsOutbox;
  imports: ImportService;
  exports: ExportService;
  /** The apps (OpenID Connect clients) that sign people in through Gatehouse. */
  clients: ClientRegistry;
  /** What users allowed the apps: grants and refresh tokens. */
  oidcGrants: OidcGrants;
  /** The provider's signing keys, sealed in the database. */
  signingKeys: SigningKeys;
  /** What administrators do, from the console or the command line: each action once, audited. */
  admin: { organizations: OrganizationAdmin; users: UserAdmin; rateLimits: RateLimitAdmin };
  /** Which organizations and roles may pass forward auth into each protected host. */
  forwardAuthRules: ForwardAuthRules;
  /** The upstream sign-in providers (WeChat, WeCom, DingTalk, Feishu, OpenID Connect) as administrators set them up. */
  signInProviders: SignInProviders;
  /** External identities linked to accounts. */
  identities: Identities;
  /** Signing in through those providers: start, callback, and a first sign-in's phone and registration. */
  signInFlow: SignInFlow;
  /** Passkeys (WebAuthn): adding them to an account, and signing in with one. */
  passkeys: Passkeys;
}

const SILENT_LOG = { info: () => undefined };

export function createServices(deps: ServiceDeps): Services {
  const { config, database, secret, metrics } = deps;
  const audit = new AuditLog(database);
  const apiKeys = new ApiKeyService(database, { audit, defaultTtlDays: config.apiKeyDefaultTtlDays });
  const kv = metrics ? instrumentStore(deps.kv, metrics) : deps.kv;
  const tasks = new TaskService(deps.tasks, createTaskRegistry({ config, database, kv, secret, log: deps.log ?? SILENT_LOG }), { metrics, audit });
  const rateLimits = new RateLimits(kv, config.rateLimits, metrics);
  const knownDevices = new KnownDevices(secret);
  const lockout = new Lockout(kv, config.lockout, knownDevices, metrics);
  const hashing = new HashAdmission(config.hashQueueMax, metrics);
  const imageCaptcha = new CaptchaService({
    kv,
    secret,
    ttlSeconds: config.captcha.ttlSeconds,
    length: config.captcha.length,
    testAnswer: config.testCaptcha,
    rateLimits,
    metrics,
  });
  const pow = new ProofOfWork({ kv, secret, ttlSeconds: config.captcha.ttlSeconds, freePerAddress: config.captcha.powFreePerAddress, rateLimits });
  const captcha = new CaptchaGate({ mode: config.captcha.mode, image: imageCaptcha, pow, defaultRegion: config.defaultRegion });
  const orgs = new OrgService(database, { metrics });
  const sessions = new SessionService(database, { ttlSeconds: config.session.ttlSeconds, maxAgeSeconds: config.session.maxAgeSeconds });
  const smsCodes = new SmsCodes(kv, secret, { ttlSeconds: config.sms.codeTtlSeconds, maxTries: config.sms.maxTries });
  const twoFactor = new TwoFactor({ database, kv, secret });
  const defaultRegion = config.defaultRegion;
  const now = Date.now;
  const accounts = new AccountService({ database, sessions, lockout, defaultRegion });
  const passwords = new Passwords({ database, hasher: deps.hasher, hashing, lockout, sessions, metrics, now });
  const registration = new Registration({ database, captcha, orgs, sessions, rateLimits, hashing, passwords, audit, smsCodes, metrics, defaultRegion, now });
  const signIn = new SignIn({ database, captcha, sessions, rateLimits, lockout, hashing, passwords, twoFactor, audit, smsCodes, metrics, defaultRegion });
  // The passkeys are made further down; the download asks for them only once a request comes.
  const profile = new Profile({ database, accounts, orgs, sessions, rateLimits, lockout, hashing, passwords, audit, smsCodes, defaultRegion, now, passkeysOf: (userId) => passkeys.list(userId) });
  const twoFactorSettings = new TwoFactorSettings({ twoFactor, passwords, sessions, rateLimits, audit });
  const reauthentication = new Reauthentication({ passwords, twoFactor, sessions, lockout, hashing, rateLimits, audit });
  const sms = new SmsService({ kv, secret, config: config.sms, codes: smsCodes, captcha, accounts, invitations: orgs, tasks, rateLimits, audit });
  metrics?.watchSmsCaps(() => sms.capUse());
  const ownSessions = new OwnSessions({ sessions, audit });
  const smsOutbox = new SmsOutbox(database, { audit, retentionHours: config.sms.outboxRetentionHours });
  const imports = new ImportService(database, { orgs, tasks, audit, maxRows: config.imports.maxRows, retentionDays: config.imports.retentionDays });
  const exports = new ExportService(database, { orgs, tasks, audit, retentionHours: config.exportRetentionHours });
  const oidcGrants = new OidcGrants(database, {
    refreshTokenReuseMs: config.oidc.refreshTokenReuseSeconds * 1000,
    userIdOf: async (subject) => (await accounts.findBySubject(subject))?.id,
  });
  // A user's apps lose their grants whenever the user's sessions all end (disabled, password reset, …) or the user leaves the organization.
  sessions.addDependentSignIns((trx, userId) => oidcGrants.revokeUserWith(trx, userId));
  const clients = new ClientRegistry({ database, audit, orgs, grants: oidcGrants });
  const signingKeys = new SigningKeys(database, secret, audit);
  const admin = {
    organizations: new OrganizationAdmin({ orgs, audit }),
    users: new UserAdmin({ accounts, twoFactor: twoFactorSettings, sessions, apiKeys, audit }),
    rateLimits: new RateLimitAdmin({ rateLimits, audit }),
  };
  const forwardAuthRules = new ForwardAuthRules(database, { orgs, audit, metrics });
  const signInProviders = new SignInProviders({ database, audit, secret, orgs });
  const identities = new Identities({ database, audit });
  const signInFlow = new SignInFlow({
    kv,
    providers: signInProviders,
    identities,
    upstreams: createUpstreams({ timeoutMs: config.signInProviders.timeoutMs }),
    accounts: {
      findById: (id) => accounts.findById(id),
      findByPhone: (e164) => accounts.findByPhone(e164),
      isTwoFactorOn: (user) => TwoFactor.isEnabled(user),
      twoFactorChallenge: (user) => twoFactor.challenge(user, 'federated'),
      proveOwnership: (user) => signIn.proveOwnership(user),
      createSession: async (userId, client, proof) => (await sessions.create(userId, { ip: client.ip, userAgent: client.userAgent }, proof)).token,
      consumeSmsCode: (e164, code) => smsCodes.consume(e164, 'link_identity', code),
      registerProven: (input, client, within) => registration.registerProven(input, client, within),
      organizationName: async (id) => (await orgs.findOrganization(id))?.name ?? null,
    },
    lockout,
    rateLimits,
    audit,
    defaultRegion,
    publicUrl: config.oidc.issuer,
  });
  const passkeys = new Passkeys({
    database,
    kv,
    accounts: {
      findById: (id) => accounts.findById(id),
      findByTypedPhone: (raw) => accounts.findByPhone(accounts.parsePhone(raw).e164),
      isTwoFactorOn: (user) => TwoFactor.isEnabled(user),
      twoFactorChallenge: (user) => twoFactor.challenge(user, 'passkey'),
      createSession: async (userId, client, proof) => (await sessions.create(userId, { ip: client.ip, userAgent: client.userAgent }, proof)).token,
      recordProof: (sessionId, factor) => sessions.recordProof(sessionId, factor),
    },
    lockout,
    rateLimits,
    audit,
    secret,
    // The issuer is PUBLIC_URL (outside production without it, http://localhost:PORT).
    relyingParty: relyingPartyOf(config.oidc.issuer),
  });
  return { captcha, orgs, accounts, registration, signIn, profile, twoFactor: twoFactorSettings, reauthentication, sessions, ownSessions, rateLimits, lockout, knownDevices, hashing, audit, apiKeys, tasks, smsCodes, sms, smsOutbox, imports, exports, clients, oidcGrants, signingKeys, admin, forwardAuthRules, signInProviders, identities, signInFlow, passkeys };
}
