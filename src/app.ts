// buildApp(deps) → a Fastify instance with every route; it never listens and holds no globals, so
// tests build as many as they like and drive them with inject().
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { accountRoutes } from './accounts/routes.js';
import { captchaRoutes } from './captcha/routes.js';
import { storageDirectory, type Config } from './config.js';
import type { Database } from './db/database.js';
import { AppError } from './errors.js';
import { healthRoutes } from './health/routes.js';
import { createRecentAuthenticationGuard, createSessionGuard, type CredentialResolver } from './http/auth.js';
import { installDraining } from './http/draining.js';
import { answerClientError, answerFrameworkError, installErrorBoundary } from './http/error-responses.js';
import { createLazySchemaCompilers } from './http/lazy-schemas.js';
import { preloadCommonPasswords } from './security/common-passwords.js';
import { installClientIdentity } from './http/client-identity.js';
import { installBrowserSecurity, setSecurityHeaders } from './http/browser-security.js';
import { installReadYourWrites } from './http/read-your-writes.js';
import { ErrorBody } from './http/schemas.js';
import type { KeyValueStore } from './kv/store.js';
import { loggerOptions } from './observability/logger.js';
import { installRequestContext, REQUEST_ID_PATTERN } from './observability/request-context.js';
import { installRequestLog } from './observability/request-log.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { metricsRoutes } from './observability/routes.js';
import { createPasswordHasher, type PasswordHasher } from './security/password.js';
import { sessionRoutes } from './sessions/routes.js';
import { apiKeyRoutes } from './apikeys/routes.js';
import { auditRoutes } from './audit/routes.js';
import { createApiKeyGuards } from './http/auth.js';
import { openTaskQueue } from './tasks/open.js';
import { taskRoutes } from './tasks/routes.js';
import type { TaskQueue } from './tasks/types.js';
import { importRoutes } from './imports/routes.js';
import { exportRoutes } from './exports/routes.js';
import { webRoutes } from './web/routes.js';
import { createServices, type Services } from './services.js';
import { adminRoutes } from './admin/routes.js';
import { rateLimitRoutes } from './admin/rate-limit-routes.js';
import { smsRoutes } from './sms/routes.js';
import { invitationRoutes } from './orgs/routes.js';
import { OIDC_PREFIX } from './oidc/provider.js';
import { oidcRoutes } from './oidc/routes.js';
import { signingKeyRoutes } from './oidc/keys-routes.js';
import { startProvider } from './oidc/start.js';
import { oidcClientRoutes } from './oidc/clients/routes.js';
import { authzRoutes } from './authz/routes.js';
import type { SessionCookieSettings } from './http/session-cookie.js';
import { flowRoutes, PENDING_COOKIE } from './federation/flow-routes.js';
import { passkeyRoutes } from './passkeys/routes.js';
import { federationRoutes } from './federation/routes.js';

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

/** The paths of a workshop's burst: their schemas compile at start (the rest on first use). */
const BURST_PATHS: ReadonlySet<string> = new Set(['/api/auth/captcha/generate', '/api/auth/altcha/challenge', '/api/auth/captcha/mode', '/api/auth/register', '/api/auth/login']);

declare module 'fastify' {
  interface FastifyInstance {
    /** Compiles every route schema that no request has needed yet (they compile on first use); how many. */
    compileAllSchemas(): number;
  }
}

/** How the HTTP layer's guards resolve a session cookie or an API key: through the features that own them. */
function credentialResolver(services: Pick<Services, 'sessions' | 'accounts' | 'apiKeys'>): CredentialResolver {
  return {
    async session(token) {
      const session = await services.sessions.authenticate(token);
      const user = session ? await services.accounts.findById(session.user_id) : undefined;
      return session && user ? { user, session } : null;
    },
    apiKey: (presented) => services.apiKeys.authenticate(presented),
  };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  preloadCommonPasswords();
  const schemas = createLazySchemaCompilers(BURST_PATHS);
  const metrics = deps.metrics ?? createMetrics();
  const app = Fastify({
    ...(typeof deps.logger === 'object'
      ? { loggerInstance: deps.logger }
      : { logger: deps.logger ?? loggerOptions(config.logLevel, { role: 'http', ...(deps.workerIndex === undefined ? {} : { worker: deps.workerIndex }) }) }),
    // Fastify accepts a hop count at run time; its types omit the number form.
    trustProxy: config.trustProxy as false | string | string[],
    bodyLimit: config.bodyLimitBytes,
    // An X-Request-Id from nginx (or from the client, through nginx or not) is kept when well formed, so
    // that one id names the request in every log; it only correlates lines and grants nothing, so it
    // need not come from a trusted proxy. Anything else gets an id of the server's own.
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
    // One line per request instead, from installRequestLog.
    logController: new LogController({ disableRequestLogging: true }),
    // A request that never finishes sending must not hold a worker forever.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    // Replaced by the SHUTTING_DOWN hook below, which answers in the API's error shape.
    return503OnClosing: false,
    // The router's early refusals run no hook: give them what the hooks give every other answer.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      setSecurityHeaders(request, reply, { hsts: config.hsts });
      answerFrameworkError(error, request, reply);
      metrics.httpRequests.inc({ method: request.method, route: 'unmatched', status: reply.statusCode });
    },
    // Fastify calls it with the instance as `this`, which its types do not say.
    clientErrorHandler(error, socket) {
      answerClientError(error, socket, (this as unknown as FastifyInstance).log);
    },
    schemaController: { compilersFactory: { buildSerializer: schemas.serializerFactory } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(schemas.validatorCompiler);
  app.decorate('compileAllSchemas', schemas.compileAll);
  // The API speaks JSON only: anything else is 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('auth', null);
  app.decorateRequest('apiKey', null);
  installClientIdentity(app, config.rateLimits);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Set as the request arrives, so that replies a route writes itself (the OpenID Connect provider's) carry it too.
  if (deps.workerIndex !== undefined) {
    const worker = String(deps.workerIndex);
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('x-worker', worker);
    });
  }
  installRequestLog(app);
  installRequestContext(app);
  installBrowserSecurity(app, { hsts: config.hsts, crossSitePaths: [`${OIDC_PREFIX}/`] });
  installErrorBoundary(app);
  const draining = installDraining(app);
  // Once closing (after the drain), requests that still arrive on kept-alive connections are told to go elsewhere.
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
  installReadYourWrites(app, { enabled: deps.database.replica !== undefined, windowSeconds: config.databaseReplica?.maxLagSeconds ?? 0, secureCookie: config.session.secureCookie });
  app.addSchema(ErrorBody);
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Gatehouse', version: '0.1.0', description: 'Account and access service. Errors: docs/errors.md.' },
      tags: [{ name: 'auth' }, { name: 'tasks' }, { name: 'admin' }, { name: 'ops' }],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: gth_…' } } },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  // With METRICS_PORT, /metrics is served on that port alone (src/server/), not here.
  if (config.metrics.port === undefined) {
    await app.register(metricsRoutes, { collect: deps.collectMetrics ?? (() => metrics.registry.metrics()), contentType: metrics.registry.contentType, token: config.metrics.token });
  }

  let hasher = deps.hasher;
  if (!hasher) {
    const own = createPasswordHasher(config.hashThreads, config.passwordHash);
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
  if (config.databaseDialect === 'sqlite') metrics.watchDataDir(storageDirectory(config));
  const replica = deps.database.replica;
  if (replica) metrics.watchReplica(() => replica.status());
  const services = createServices({ ...deps, metrics, hasher, tasks: queue, log: app.log });
  const credentials = credentialResolver(services);
  const requireSession = createSessionGuard({ credentials, cookieName: config.session.cookieName });
  const sessionCookie: SessionCookieSettings = { name: config.session.cookieName, secure: config.session.secureCookie, domain: config.session.cookieDomain, maxAgeSeconds: config.session.maxAgeSeconds };
  const requireRecentAuthentication = createRecentAuthenticationGuard({ maxAgeSeconds: config.reauthMaxAgeSeconds });
  const guards = createApiKeyGuards({ credentials, rateLimits: services.rateLimits, requireSession, adminRequiresTwoFactor: config.adminRequiresTwoFactor, requireRecentAuthentication,
    hasPasskey: (userId) => services.passkeys.hasAny(userId),
  });

  if (deps.housekeeping) {
    const sweep = setInterval(() => {
      services.sessions.sweepExpired().catch((error: unknown) => app.log.warn({ err: error }, 'session sweep failed'));
      services.exports.sweepExpired().catch((error: unknown) => app.log.warn({ err: error }, 'export sweep failed'));
      services.imports.sweepExpired().catch((error: unknown) => app.log.warn({ err: error }, 'import sweep failed'));
      services.smsOutbox.sweepExpired().catch((error: unknown) => app.log.warn({ err: error }, 'SMS outbox sweep failed'));
      services.oidcGrants.sweepExpired().catch((error: unknown) => app.log.warn({ err: error }, 'OpenID Connect grant sweep failed'));
      services.signingKeys.sweepRetired().catch((error: unknown) => app.log.warn({ err: error }, 'signing key sweep failed'));
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

  await app.register(healthRoutes, { database: deps.database, kv: deps.kv, draining });
  await app.register(captchaRoutes, { captcha: services.captcha });
  await app.register(accountRoutes, {
    registration: services.registration,
    signIn: services.signIn,
    profile: services.profile,
    twoFactor: services.twoFactor,
    knownDevices: services.knownDevices,
    reauthentication: services.reauthentication,
    ownSessions: services.ownSessions,
    requireSession,
    requireRecentAuthentication,
    cookie: sessionCookie,
  });
  await app.register(invitationRoutes, { orgs: services.orgs, rateLimits: services.rateLimits });
  await app.register(sessionRoutes, { sessions: services.sessions, ownSessions: services.ownSessions, requireSession });
  await app.register(taskRoutes, { tasks: services.tasks, guards });
  await app.register(apiKeyRoutes, { apiKeys: services.apiKeys, guards });
  await app.register(auditRoutes, { audit: services.audit, guards });
  await app.register(webRoutes);
  await app.register(adminRoutes, { orgs: services.orgs, accounts: services.accounts, sessions: services.sessions, admin: services.admin, guards, publicOrigin: config.publicUrl });
  await app.register(oidcClientRoutes, { clients: services.clients, guards });
  await app.register(federationRoutes, { providers: services.signInProviders, identities: services.identities, users: services.admin.users, guards, requireSession });
  await app.register(flowRoutes, {
    flow: services.signInFlow,
    requireSession,
    requireRecentAuthentication,
    cookie: sessionCookie,
    knownDevices: services.knownDevices,
  });
  await app.register(passkeyRoutes, { passkeys: services.passkeys, requireSession, requireRecentAuthentication, cookie: sessionCookie, knownDevices: services.knownDevices });
  await app.register(rateLimitRoutes, { rateLimits: services.rateLimits, admin: services.admin.rateLimits, guards });
  await app.register(importRoutes, { imports: services.imports, guards, maxBytes: config.imports.maxBytes });
  await app.register(exportRoutes, { exports: services.exports, guards });
  if (config.oidc.issuer) {
    const live = await startProvider({ config, secret: deps.secret, kv: deps.kv, services, credentials, log: app.log });
    app.addHook('onClose', async () => live.close());
    await app.register(oidcRoutes, {
      live,
      clients: services.clients,
      grants: services.oidcGrants,
      audit: services.audit,
      requireSession,
      session: credentials.session,
      cookieName: config.session.cookieName,
      hsts: config.hsts,
    });
    await app.register(signingKeyRoutes, { keys: services.signingKeys, guards });
  }
  await app.register(authzRoutes, { rules: services.forwardAuthRules, credentials, cookieName: config.session.cookieName, publicUrl: config.publicUrl, trustProxy: config.trustProxy, guards, metrics });
  await app.register(smsRoutes, { sms: services.sms, outbox: services.smsOutbox, guards, requireSession, normalizePhone: (phone) => services.accounts.parsePhone(phone).e164,
    waitsForPhone: (request) => services.signInFlow.waitsForPhone(request.cookies[PENDING_COOKIE]),
  });
  return app;
}
