// buildApp(deps) → a Fastify instance with every route; it never listens and holds no globals, so
// tests build as many as they like and drive them with inject().
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { accountRoutes } from './accounts/routes.js';
import { AccountService } from './accounts/service.js';
import { captchaRoutes } from './captcha/routes.js';
import { CaptchaService } from './captcha/service.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { AppError } from './errors.js';
import { healthRoutes } from './health/routes.js';
import { createSessionGuard } from './http/auth.js';
import { installErrorBoundary } from './http/errors.js';
import { preloadCommonPasswords } from './security/common-passwords.js';
import { installClientIdentity } from './http/client.js';
import { installBrowserSecurity } from './http/browser-security.js';
import { ErrorBody } from './http/schemas.js';
import type { KeyValueStore } from './kv/store.js';
import { loggerOptions } from './observability/logger.js';
import { installRequestLog } from './observability/request-log.js';
import { instrumentStore } from './kv/instrumented.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { metricsRoutes } from './observability/routes.js';
import { OrgService } from './orgs/service.js';
import { HashAdmission } from './security/hash-admission.js';
import { Lockout } from './security/lockout.js';
import { createPasswordHasher, type PasswordHasher } from './security/password.js';
import { RateLimits } from './security/rate-limits.js';
import { sessionRoutes } from './sessions/routes.js';
import { SessionService } from './sessions/service.js';
import { apiKeyRoutes } from './apikeys/routes.js';
import { ApiKeyService } from './apikeys/service.js';
import { auditRoutes } from './audit/routes.js';
import { AuditLog } from './audit/service.js';
import { createApiKeyGuards } from './http/auth.js';
import { createTaskRegistry } from './tasks/handlers/index.js';
import { openTaskQueue } from './tasks/open.js';
import { taskRoutes } from './tasks/routes.js';
import { TaskService } from './tasks/service.js';
import type { TaskQueue } from './tasks/types.js';
import { SmsCodes } from './sms/codes.js';
import { importRoutes } from './imports/routes.js';
import { exportRoutes } from './exports/routes.js';
import { webRoutes } from './web/routes.js';
import { adminRoutes } from './admin/routes.js';
import { rateLimitRoutes } from './admin/rate-limit-routes.js';
import { ImportService } from './imports/service.js';
import { ExportService } from './exports/service.js';
import { smsRoutes } from './sms/routes.js';
import { SmsService } from './sms/service.js';

export interface AppDeps {
  config: Config;
  database: Database;
  kv: KeyValueStore;
  /** Key for captcha and code HMACs, the same on every worker and server. */
  secret: string;
  /** Cluster worker index; sent as X-Worker so that tests can see which worker answered. */
  workerIndex?: number;
  logger?: FastifyBaseLogger | boolean;
  /** This process's metrics; a fresh registry when absent. */
  metrics?: Metrics;
  /** What /metrics serves; this process's registry when absent (cluster workers pass the aggregate). */
  collectMetrics?: () => Promise<string>;
  /** The hashing thread pool; buildApp creates (and closes) one when absent. */
  hasher?: PasswordHasher;
  /** Run periodic clean-ups (expired sessions and member exports, old audit events) in this process: one process per server is enough. */
  housekeeping?: boolean;
  /** The task queue; buildApp opens (and closes) one from config when absent. */
  tasks?: TaskQueue;
}

const SESSION_SWEEP_INTERVAL_MS = 10 * 60_000;
const AUDIT_SWEEP_INTERVAL_MS = 6 * 3600_000;

export interface Services {
  captcha: CaptchaService;
  orgs: OrgService;
  accounts: AccountService;
  sessions: SessionService;
  rateLimits: RateLimits;
  lockout: Lockout;
  hashing: HashAdmission;
  audit: AuditLog;
  apiKeys: ApiKeyService;
  tasks: TaskService;
  smsCodes: SmsCodes;
  sms: SmsService;
  imports: ImportService;
  exports: ExportService;
}

const SILENT_LOG = { info: () => undefined };

export function createServices(deps: Pick<AppDeps, 'config' | 'database' | 'kv' | 'secret' | 'metrics'> & { hasher: PasswordHasher; tasks: TaskQueue; log?: Pick<FastifyBaseLogger, 'info'> }): Services {
  const { config, database, secret, metrics } = deps;
  const audit = new AuditLog(database);
  const apiKeys = new ApiKeyService(database);
  const tasks = new TaskService(deps.tasks, createTaskRegistry({ config, database, secret, log: deps.log ?? SILENT_LOG }), { metrics, audit });
  const kv = metrics ? instrumentStore(deps.kv, metrics) : deps.kv;
  const rateLimits = new RateLimits(kv, config.rateLimits, metrics);
  const lockout = new Lockout(kv, config.lockout, metrics);
  const hashing = new HashAdmission(config.hashQueueMax, metrics);
  const captcha = new CaptchaService({
    kv,
    secret,
    ttlSeconds: config.captcha.ttlSeconds,
    length: config.captcha.length,
    testAnswer: config.testCaptcha,
    rateLimits,
    metrics,
  });
  const orgs = new OrgService(database, { metrics });
  const sessions = new SessionService(database, { ttlSeconds: config.session.ttlSeconds, maxAgeSeconds: config.session.maxAgeSeconds });
  const smsCodes = new SmsCodes(kv, secret, { ttlSeconds: config.sms.codeTtlSeconds, maxTries: config.sms.maxTries });
  const accounts = new AccountService({ database, captcha, orgs, sessions, rateLimits, lockout, hashing, hasher: deps.hasher, metrics, audit, smsCodes, defaultRegion: config.defaultRegion });
  const sms = new SmsService({ kv, secret, config: config.sms, codes: smsCodes, captcha, accounts, tasks, rateLimits, audit });
  const imports = new ImportService(database, { orgs, tasks, audit, maxRows: config.imports.maxRows });
  const exports = new ExportService(database, { orgs, tasks, audit, retentionHours: config.exportRetentionHours });
  return { captcha, orgs, accounts, sessions, rateLimits, lockout, hashing, audit, apiKeys, tasks, smsCodes, sms, imports, exports };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Bodies are validated strictly (no type coercion, no silent dropping of unknown fields); query strings and path parameters are coerced from text. */
function validatorCompilers() {
  const common = { allErrors: false, strict: false, removeAdditional: false, useDefaults: true } as const;
  const strictBodies = addFormats.default(new Ajv({ ...common, coerceTypes: false }));
  const coercing = addFormats.default(new Ajv({ ...common, coerceTypes: true }));
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? strictBodies : coercing).compile(schema);
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  preloadCommonPasswords();
  const app = Fastify({
    ...(typeof deps.logger === 'object'
      ? { loggerInstance: deps.logger }
      : { logger: deps.logger ?? loggerOptions(config.logLevel, deps.workerIndex === undefined ? {} : { worker: deps.workerIndex }) }),
    // Fastify accepts a hop count at run time; its types omit the number form.
    trustProxy: config.trustProxy as boolean | string | string[],
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    // One line per request instead, from installRequestLog.
    logController: new LogController({ disableRequestLogging: true }),
    // A request that never finishes sending must not hold a worker forever.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    // Replaced by the SHUTTING_DOWN hook below, which answers in the API's error shape.
    return503OnClosing: false,
    ajv: { customOptions: { strict: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompilers());
  // The API speaks JSON only: anything else is 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('auth', null);
  app.decorateRequest('apiKey', null);
  installClientIdentity(app, config.rateLimits);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (deps.workerIndex !== undefined) reply.header('x-worker', String(deps.workerIndex));
  });
  installRequestLog(app);
  installBrowserSecurity(app);
  installErrorBoundary(app);
  // While draining, requests that still arrive on kept-alive connections are told to go elsewhere.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new AppError('SHUTTING_DOWN', { retryAfterSeconds: 1 });
  });

  await app.register(fastifyCookie);
  app.addSchema(ErrorBody);
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Gatehouse', version: '0.1.0', description: 'Account and access service. Errors: docs/errors.md.' },
      tags: [{ name: 'auth' }, { name: 'tasks' }, { name: 'admin' }, { name: 'ops' }],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: gth_…' } } },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const metrics = deps.metrics ?? createMetrics();
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  await app.register(metricsRoutes, { collect: deps.collectMetrics ?? (() => metrics.registry.metrics()), contentType: metrics.registry.contentType });

  let hasher = deps.hasher;
  if (!hasher) {
    const own = createPasswordHasher(config.hashThreads);
    app.addHook('onClose', () => own.close());
    hasher = own;
  }
  let taskQueue = deps.tasks;
  if (!taskQueue) {
    const own = await openTaskQueue(config, deps.database);
    app.addHook('onClose', () => own.close());
    taskQueue = own;
  }
  const queue = taskQueue;
  metrics.watchTaskQueue(() => queue.counts());
  const services = createServices({ ...deps, metrics, hasher, tasks: queue, log: app.log });
  const requireSession = createSessionGuard({ sessions: services.sessions, accounts: services.accounts, cookieName: config.session.cookieName });
  const guards = createApiKeyGuards({ apiKeys: services.apiKeys, rateLimits: services.rateLimits, requireSession });

  if (deps.housekeeping) {
    const sweep = setInterval(() => {
      services.sessions.sweepExpired().catch((error: unknown) => app.log.warn({ err: error }, 'session sweep failed'));
      services.exports.sweepExpired().catch((error: unknown) => app.log.warn({ err: error }, 'export sweep failed'));
    }, SESSION_SWEEP_INTERVAL_MS);
    sweep.unref();
    const auditSweep = setInterval(() => {
      services.audit.sweep(config.auditRetentionDays).catch((error: unknown) => app.log.warn({ err: error }, 'audit sweep failed'));
    }, AUDIT_SWEEP_INTERVAL_MS);
    auditSweep.unref();
    app.addHook('onClose', async () => {
      clearInterval(sweep);
      clearInterval(auditSweep);
    });
  }

  await app.register(healthRoutes, { database: deps.database, kv: deps.kv });
  await app.register(captchaRoutes, { captcha: services.captcha });
  await app.register(accountRoutes, {
    accounts: services.accounts,
    sessions: services.sessions,
    requireSession,
    cookie: { name: config.session.cookieName, secure: config.session.secureCookie, maxAgeSeconds: config.session.maxAgeSeconds },
  });
  await app.register(sessionRoutes, { sessions: services.sessions, requireSession });
  await app.register(taskRoutes, { tasks: services.tasks, guards });
  await app.register(apiKeyRoutes, { apiKeys: services.apiKeys, audit: services.audit, guards });
  await app.register(auditRoutes, { audit: services.audit, guards });
  await app.register(webRoutes);
  await app.register(adminRoutes, { orgs: services.orgs, accounts: services.accounts, sessions: services.sessions, audit: services.audit, guards });
  await app.register(rateLimitRoutes, { rateLimits: services.rateLimits, audit: services.audit, guards });
  await app.register(importRoutes, { imports: services.imports, guards, maxBytes: config.imports.maxBytes });
  await app.register(exportRoutes, { exports: services.exports, guards });
  await app.register(smsRoutes, { sms: services.sms, database: deps.database, guards, normalizePhone: (phone) => services.accounts.parsePhone(phone).e164 });
  return app;
}
