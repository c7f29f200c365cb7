// Forward auth over HTTP: the two endpoints a reverse proxy asks before it lets a request through to a
// protected application (nginx's auth_request; Traefik's ForwardAuth and Caddy's forward_auth), the
// hop that sends a visitor back to the application after signing in, and the rules' admin API.
// docs/connect-an-app.md has the proxies' settings.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TrustProxy } from '../config.js';
import { AppError } from '../errors.js';
import { principalOf, type ApiKeyGuards, type CredentialResolver } from '../http/auth.js';
import { responses } from '../http/schemas.js';
import type { Metrics } from '../observability/metrics.js';
import { ForwardAuthGate, type ForwardAuthRequest } from './gate.js';
import { ruleJson, type ForwardAuthRules } from './rules.js';
import { SessionFactsCache } from './session-cache.js';
import { MAX_RETURN_URL_LENGTH, originalFromForwardedHeaders, originalFromUrlHeader } from './urls.js';

export interface AuthzRouteDeps {
  rules: ForwardAuthRules;
  credentials: Pick<CredentialResolver, 'session'>;
  /** config.session.cookieName */
  cookieName: string;
  /** PUBLIC_URL: where the login page is; unset, a visitor without a session gets 401 and no redirect. */
  publicUrl: string | undefined;
  trustProxy: TrustProxy;
  guards: ApiKeyGuards;
  metrics?: Metrics | undefined;
}

const RoleField = Type.Union([Type.Literal('user'), Type.Literal('org_admin'), Type.Literal('admin')]);
const RuleBody = Type.Object({
  host: Type.String(),
  allowed_organization_ids: Type.Union([Type.Array(Type.Integer()), Type.Null()], { description: 'null: every organization' }),
  allowed_roles: Type.Union([Type.Array(RoleField), Type.Null()], { description: 'null: every role' }),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
const HostParam = Type.Object({ host: Type.String({ minLength: 1, maxLength: 262, description: 'The protected host, e.g. app.school.cn or app.school.cn:8443' }) });

/** A header the proxy sets once; a repeated one is not read (a proxy that appends to a client's value is misconfigured). */
function single(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

const IDENTITY_HEADERS_DOC =
  'Remote-User: the account\'s subject (a stable opaque UUID); Remote-Name: the name, percent-encoded UTF-8 where not printable ASCII (and % and + themselves); Remote-Groups: "org:<organization id>,role:<user|org_admin|admin>".';

export const authzRoutes: FastifyPluginAsyncTypebox<AuthzRouteDeps> = async (app, deps) => {
  const sessions = new SessionFactsCache({
    resolve: (token) => deps.credentials.session(token),
    onLookup: (outcome) => deps.metrics?.cacheLookups.inc({ cache: 'forward_auth_sessions', outcome }),
  });
  const gate = new ForwardAuthGate({ rules: deps.rules, sessions, publicUrl: deps.publicUrl, trustProxy: deps.trustProxy });
  const ask = (request: FastifyRequest, original: ForwardAuthRequest['original']) => gate.check({ peer: request.raw.socket.remoteAddress, original, token: request.cookies[deps.cookieName] });

  app.get(
    '/api/authz/auth-request',
    {
      schema: {
        tags: ['auth'],
        summary: `For nginx auth_request: may the session of this request enter X-Original-URL (set by nginx, from an address TRUST_PROXY names)? 200 with the identity headers — ${IDENTITY_HEADERS_DOC} 401 without a live session, with Location: the login page that comes back to the URL (nginx: error_page 401 =302 $upstream_http_location). 403 FORWARD_AUTH_DENIED, FORWARD_AUTH_NO_RULE (a host without a rule), FORWARD_AUTH_UNTRUSTED_PROXY.`,
        response: responses({ 200: Type.Null() }),
      },
    },
    async (request, reply) => {
      const answer = await ask(request, () => originalFromUrlHeader(single(request, 'x-original-url')));
      if (answer.kind === 'sign-in') {
        if (answer.loginUrl) reply.header('location', answer.loginUrl);
        throw new AppError('UNAUTHENTICATED');
      }
      return reply.headers(answer.headers).send(null);
    },
  );

  app.get(
    '/api/authz/forward-auth',
    {
      schema: {
        tags: ['auth'],
        summary: `For Traefik's ForwardAuth and Caddy's forward_auth: may the session of this request enter the URL of X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri (from an address TRUST_PROXY names)? 200 with the identity headers — ${IDENTITY_HEADERS_DOC} Without a live session, 302 to the login page that comes back to the URL. 403 FORWARD_AUTH_DENIED, FORWARD_AUTH_NO_RULE, FORWARD_AUTH_UNTRUSTED_PROXY.`,
        response: responses({ 200: Type.Null(), 302: Type.Null() }),
      },
    },
    async (request, reply) => {
      const answer = await ask(request, () => originalFromForwardedHeaders(single(request, 'x-forwarded-proto'), single(request, 'x-forwarded-host'), single(request, 'x-forwarded-uri')));
      if (answer.kind === 'sign-in') {
        if (!answer.loginUrl) throw new AppError('UNAUTHENTICATED');
        return reply.redirect(answer.loginUrl, 302);
      }
      return reply.headers(answer.headers).send(null);
    },
  );

  app.get(
    '/authz/continue',
    {
      schema: {
        tags: ['auth'],
        summary:
          "Where the login page sends a visitor back to a protected application: 302 to `rd` when it is an https URL (http only on a loopback host) of a host with a forward-auth rule, exactly; 400 RETURN_URL_NOT_ALLOWED for anything else (no open redirect)",
        querystring: Type.Object({ rd: Type.String({ minLength: 1, maxLength: 2 * MAX_RETURN_URL_LENGTH, description: 'The absolute URL to return to' }) }),
        response: responses({ 302: Type.Null() }),
      },
    },
    async (request, reply) => {
      const target = await gate.returnUrl(request.query.rd);
      return reply.header('cache-control', 'no-store').redirect(target, 302);
    },
  );

  const admin = { preHandler: deps.guards.requireAdmin };

  app.get(
    '/api/admin/forward-auth/rules',
    { ...admin, schema: { tags: ['admin'], summary: 'Forward-auth rules: which organizations and roles may enter each protected host (a host without a rule is refused to everyone)', response: responses({ 200: Type.Object({ rules: Type.Array(RuleBody) }) }) } },
    async () => ({ rules: (await deps.rules.list()).map(ruleJson) }),
  );

  app.put(
    '/api/admin/forward-auth/rules/:host',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: "Create a host's forward-auth rule, or replace what it allows; null lets in every organization (or role), both null anyone signed in. Every worker and server applies it within 5 seconds",
        params: HostParam,
        body: Type.Object(
          {
            allowed_organization_ids: Type.Union([Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), { minItems: 1, maxItems: 1000 }), Type.Null()]),
            allowed_roles: Type.Union([Type.Array(RoleField, { minItems: 1, maxItems: 3 }), Type.Null()]),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: Type.Object({ rule: RuleBody }) }),
      },
    },
    async (request) => {
      const rule = await deps.rules.set(principalOf(request), request.params.host, { organizationIds: request.body.allowed_organization_ids, roles: request.body.allowed_roles });
      return { rule: ruleJson(rule) };
    },
  );

  app.delete(
    '/api/admin/forward-auth/rules/:host',
    {
      ...admin,
      schema: { tags: ['admin'], summary: "Remove a host's forward-auth rule: the host is refused to everyone again (within 5 seconds everywhere)", params: HostParam, response: responses({ 200: Type.Object({ rule: RuleBody }) }) },
    },
    async (request) => ({ rule: ruleJson(await deps.rules.remove(principalOf(request), request.params.host)) }),
  );
};
