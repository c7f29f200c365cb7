// The provider's HTTP surface: its own endpoints (discovery, authorization, token, userinfo, JWKS,
// introspection, revocation, logout) handed to oidc-provider as they arrive; the interaction that
// joins a sign-in request to Gatehouse's own login page and consent page; and the account's
// connected apps.
import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Provider } from 'oidc-provider';
import { Type } from 'typebox';
import type { AuditLog } from '../audit/service.js';
import { AppError } from '../errors.js';
import type { AuthContext, SessionGuard } from '../http/auth.js';
import { setSecurityHeaders } from '../http/browser-security.js';
import { responses } from '../http/schemas.js';
import { sendPage } from '../web/routes.js';
import { authenticationOf, clientAdmits } from './claims.js';
import type { ClientLookup } from './clients/types.js';
import type { OidcGrants } from './grants.js';
import type { LiveProvider } from './live-provider.js';
import { OIDC_PREFIX, interactionPath } from './provider.js';

export interface OidcRouteDeps {
  live: LiveProvider;
  clients: ClientLookup;
  grants: OidcGrants;
  audit: AuditLog;
  requireSession: SessionGuard;
  /** The Gatehouse session a session cookie names. */
  session(token: string): Promise<AuthContext | null>;
  cookieName: string;
  hsts: boolean;
}

/**
 * The provider's pages are its own: no script but the one form_post adds with its hash, inline styles,
 * and no form-action limit (a sign-out confirmation and form_post submit to the relying party).
 */
const PROVIDER_CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/**
 * The request as the provider must see it: addressed to the issuer (PUBLIC_URL), from the client
 * address Gatehouse found (TRUST_PROXY applied). The provider builds the URLs it publishes and
 * redirects to (discovery, the resume URL a sign-in comes back to, the sign-out form) and decides
 * whether its cookies may be Secure from the request's host and scheme; those are the issuer's, not
 * whatever Host a proxy passes (nginx sends its upstream's name unless told otherwise) or a client
 * writes in X-Forwarded-Host, and not plain http where TLS ends at a proxy in front.
 */
function addressedToIssuer(provider: Provider, request: FastifyRequest): IncomingMessage {
  const issuer = new URL(provider.issuer);
  const headers = request.raw.headers;
  headers.host = issuer.host;
  headers['x-forwarded-host'] = issuer.host;
  headers['x-forwarded-proto'] = issuer.protocol.slice(0, -1);
  headers['x-forwarded-for'] = request.ip;
  return request.raw;
}

const handlers = new WeakMap<Provider, ReturnType<Provider['callback']>>();
function handlerOf(provider: Provider): ReturnType<Provider['callback']> {
  let handler = handlers.get(provider);
  if (!handler) handlers.set(provider, (handler = provider.callback()));
  return handler;
}

interface Interaction {
  uid: string;
  iat?: number;
  params: Record<string, unknown> & { client_id?: string; max_age?: number };
  prompt: { name: string; reasons: string[]; details: Record<string, unknown> & { missingOIDCScope?: string[]; missingOIDCClaims?: string[] } };
  session?: { accountId?: string };
  grantId?: string;
}

async function interactionOf(provider: Provider, request: FastifyRequest, reply: FastifyReply): Promise<Interaction> {
  try {
    const details = (await provider.interactionDetails(addressedToIssuer(provider, request), reply.raw)) as unknown as Interaction;
    if (details.uid !== (request.params as { uid: string }).uid) throw new AppError('INTERACTION_NOT_FOUND');
    return details;
  } catch (error) {
    if (error instanceof AppError) throw error;
    // Expired, unknown, or its cookie is missing (another browser): the same to the visitor.
    throw new AppError('INTERACTION_NOT_FOUND');
  }
}

/**
 * Whether the Gatehouse session satisfies a request that asked for a fresh sign-in (prompt=login) or
 * one within max_age: its latest proof came after the request began, or within max_age.
 */
function freshEnough(interaction: Interaction, auth: AuthContext, now: number): boolean {
  const { reasons } = interaction.prompt;
  const provedAt = (authenticationOf(auth.session).authTime ?? 0) * 1000;
  const startedAt = (interaction.iat ?? 0) * 1000;
  if (reasons.includes('login_prompt')) return provedAt >= startedAt;
  if (reasons.includes('max_age') && typeof interaction.params.max_age === 'number') return provedAt >= startedAt || now - provedAt <= interaction.params.max_age * 1000;
  return true;
}

/** Adds what the interaction asks to the user's grant for the client (a new one when there is none); its id. */
async function saveConsent(provider: Provider, interaction: Interaction, subject: string, clientId: string): Promise<string> {
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId: subject, clientId });
  const scopes = interaction.prompt.details.missingOIDCScope ?? [];
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  if (interaction.prompt.details.missingOIDCClaims?.length) grant.addOIDCClaims(interaction.prompt.details.missingOIDCClaims);
  return grant.save();
}

const UidParams = Type.Object({ uid: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });

export const oidcRoutes: FastifyPluginAsyncTypebox<OidcRouteDeps> = async (app, deps) => {
  const signedIn = async (request: FastifyRequest): Promise<AuthContext | null> => {
    const token = request.cookies[deps.cookieName];
    const auth = token ? await deps.session(token) : null;
    return auth && auth.user.status === 'active' ? auth : null;
  };

  // The provider's own endpoints: oidc-provider reads the request body itself.
  await app.register(async (mounted) => {
    mounted.removeAllContentTypeParsers();
    mounted.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      setSecurityHeaders(request, reply, { hsts: deps.hsts });
      reply.header('content-security-policy', PROVIDER_CSP);
      reply.header('x-request-id', request.id);
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
      reply.hijack();
      const provider = deps.live.current;
      await handlerOf(provider)(addressedToIssuer(provider, request), reply.raw);
    };
    const methods = ['GET', 'POST', 'OPTIONS'] as const;
    mounted.route({ method: [...methods], url: '/.well-known/openid-configuration', schema: { hide: true }, handler: handle });
    mounted.route({ method: [...methods], url: `${OIDC_PREFIX}/*`, schema: { hide: true }, handler: handle });
  });

  // A sign-in request arrives here whenever the provider needs the user: to sign in (Gatehouse's own
  // login page, or the Gatehouse session already there), or to consent.
  app.get('/interaction/:uid', { schema: { hide: true, params: UidParams } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const provider = deps.live.current;
    let interaction: Interaction;
    try {
      interaction = await interactionOf(provider, request, reply);
    } catch {
      return sendPage(reply, 'consent.html'); // says the request expired, in the visitor's language
    }
    const here = interactionPath(interaction.uid);
    const auth = await signedIn(request);
    if (interaction.prompt.name === 'login') {
      if (!auth) return reply.redirect(`/login?${new URLSearchParams({ return_to: here })}`, 303);
      if (!freshEnough(interaction, auth, Date.now())) return reply.redirect(`/login?${new URLSearchParams({ prompt: 'login', return_to: here })}`, 303);
      const client = interaction.params.client_id ? await deps.clients.find(interaction.params.client_id) : undefined;
      if (!client || client.disabled || !clientAdmits(client, auth.user)) {
        const to = await provider.interactionResult(addressedToIssuer(provider, request), reply.raw, { error: 'access_denied', error_description: 'This account may not use this app.' }, { mergeWithLastSubmission: false });
        return reply.redirect(to, 303);
      }
      const { amr, acr, authTime } = authenticationOf(auth.session);
      const login = { accountId: auth.user.subject, amr, acr, ...(authTime === undefined ? {} : { ts: authTime }) };
      return reply.redirect(await provider.interactionResult(addressedToIssuer(provider, request), reply.raw, { login }, { mergeWithLastSubmission: false }), 303);
    }
    if (!auth || auth.user.subject !== interaction.session?.accountId) return reply.redirect(`/login?${new URLSearchParams({ return_to: here })}`, 303);
    // The school's own systems are allowed what they ask without a page, even when the request asks
    // for consent (prompt=consent, which offline_access needs: OpenID Connect Core §11).
    const client = await deps.clients.find(String(interaction.params.client_id));
    if (client?.firstParty && !client.disabled) {
      const grantId = await saveConsent(provider, interaction, auth.user.subject, client.clientId);
      return reply.redirect(await provider.interactionResult(addressedToIssuer(provider, request), reply.raw, { consent: { grantId } }, { mergeWithLastSubmission: true }), 303);
    }
    return sendPage(reply, 'consent.html');
  });

  const ConsentDetails = Type.Object({
    client: Type.Object({ client_id: Type.String(), name: Type.String() }),
    scopes: Type.Array(Type.String()),
    user: Type.Object({ name: Type.String() }),
  });

  /** The interaction in consent, and the signed-in account it is for. */
  async function consentOf(request: FastifyRequest, reply: FastifyReply) {
    const interaction = await interactionOf(deps.live.current, request, reply);
    const auth = request.auth!;
    if (interaction.prompt.name !== 'consent') throw new AppError('INTERACTION_NOT_FOUND');
    if (auth.user.subject !== interaction.session?.accountId) throw new AppError('FORBIDDEN', { message: 'This sign-in request belongs to another account.' });
    const client = await deps.clients.find(String(interaction.params.client_id));
    if (!client || client.disabled) throw new AppError('INTERACTION_NOT_FOUND');
    return { interaction, auth, client };
  }

  app.get(
    '/interaction/:uid/details',
    {
      preHandler: deps.requireSession,
      schema: { tags: ['auth'], summary: 'What an app asks of the signed-in user (the consent page)', params: UidParams, response: responses({ 200: ConsentDetails }) },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { interaction, auth, client } = await consentOf(request, reply);
      return { client: { client_id: client.clientId, name: client.name }, scopes: interaction.prompt.details.missingOIDCScope ?? [], user: { name: auth.user.name } };
    },
  );

  app.post(
    '/interaction/:uid/consent',
    {
      preHandler: deps.requireSession,
      schema: {
        tags: ['auth'],
        summary: 'Allow or deny what an app asks; answers where the browser goes next',
        params: UidParams,
        body: Type.Object({ allow: Type.Boolean() }),
        response: responses({ 200: Type.Object({ redirect_to: Type.String() }) }),
      },
    },
    async (request, reply) => {
      const provider = deps.live.current;
      const { interaction, auth, client } = await consentOf(request, reply);
      if (!request.body.allow) {
        const to = await provider.interactionResult(addressedToIssuer(provider, request), reply.raw, { error: 'access_denied', error_description: 'The user denied the request.' }, { mergeWithLastSubmission: true });
        return { redirect_to: to };
      }
      const grantId = await saveConsent(provider, interaction, auth.user.subject, client.clientId);
      const scopes = interaction.prompt.details.missingOIDCScope ?? [];
      await deps.audit.record({ event: 'oidc.consent_given', actor: `user:${auth.user.id}`, target: `user:${auth.user.id}`, ip: request.ip, detail: { client_id: client.clientId, scopes } });
      const to = await provider.interactionResult(addressedToIssuer(provider, request), reply.raw, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return { redirect_to: to };
    },
  );

  const ConnectedApp = Type.Object({ client_id: Type.String(), name: Type.String(), scopes: Type.Array(Type.String()), granted_at: Type.Number() });

  app.get(
    '/api/account/connected-apps',
    {
      preHandler: deps.requireSession,
      schema: { tags: ['auth'], summary: 'The apps the signed-in user allowed to use their account', response: responses({ 200: Type.Object({ apps: Type.Array(ConnectedApp) }) }) },
    },
    async (request) => {
      const apps = await deps.grants.connectedApps(request.auth!.user.id);
      const named = await Promise.all(apps.map(async (app) => ({ client_id: app.clientId, name: (await deps.clients.find(app.clientId))?.name ?? app.clientId, scopes: app.scopes, granted_at: app.grantedAt })));
      return { apps: named };
    },
  );

  app.delete(
    '/api/account/connected-apps/:client_id',
    {
      preHandler: deps.requireSession,
      schema: {
        tags: ['auth'],
        summary: "Disconnect an app: revoke what it was allowed and every token it holds for you",
        params: Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      const { user } = request.auth!;
      if (!(await deps.grants.disconnect(user.id, request.params.client_id))) throw new AppError('NOT_FOUND', { message: 'This app is not connected to your account.' });
      await deps.audit.record({ event: 'oidc.app_disconnected', actor: `user:${user.id}`, target: `user:${user.id}`, ip: request.ip, detail: { client_id: request.params.client_id } });
      return reply.code(204).send(null);
    },
  );
};
