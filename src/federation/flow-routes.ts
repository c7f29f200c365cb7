// The HTTP side of signing in through an upstream provider. start and callback are browser
// navigations: they answer with redirects (a failure goes to the login page, or the account page when
// linking, with a stable code the page explains), never a JSON error page. The pending sign-in's steps
// are JSON calls of the /sign-in/continue page. Two cookies carry the flow, both HttpOnly and
// SameSite=Lax (the provider's redirect back is a top-level navigation, which Lax lets through):
// one binds a started sign-in to the browser that started it, one holds a pending sign-in.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { RecentAuthenticationGuard, SessionGuard } from '../http/auth.js';
import { clientOf } from '../http/client-identity.js';
import { toAppError } from '../http/error-responses.js';
import { PhoneField, responses, SmsCodeField, UserEnvelope } from '../http/schemas.js';
import { setSignedInCookies, type SessionCookieSettings } from '../http/session-cookie.js';
import type { KnownDevices } from '../security/known-devices.js';
import { publicUser } from '../accounts/views.js';
import { PENDING_TTL_MS, SignInFlow, STATE_TTL_MS, type FlowOutcome } from './sign-in-flow.js';

export interface FlowRouteDeps {
  flow: SignInFlow;
  requireSession: SessionGuard;
  requireRecentAuthentication: RecentAuthenticationGuard;
  cookie: SessionCookieSettings;
  knownDevices: KnownDevices;
}

export const BROWSER_COOKIE = 'gatehouse_upstream';
export const PENDING_COOKIE = 'gatehouse_pending_sign_in';
const CONTINUE_PAGE = '/sign-in/continue';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const ReturnTo = Type.String({ maxLength: 2048, description: 'A local path to go to once signed in (anything else: the account page)' });
const PendingStep = Type.Union([Type.Literal('phone'), Type.Literal('register'), Type.Literal('two_factor')]);
const Binding = {
  invitation_code_required: Type.Boolean({ description: 'Registering needs an invitation code (the provider is not bound to an organization)' }),
  organization_name: Type.Union([Type.String(), Type.Null()], { description: "The bound organization's name, when no invitation code is needed" }),
};

/** The browser-side name of the binding cookie, reused by a second tab. */
function cookieOf(request: FastifyRequest, name: string): string | undefined {
  return request.cookies[name];
}

export const flowRoutes: FastifyPluginAsyncTypebox<FlowRouteDeps> = async (app, { flow, requireSession, requireRecentAuthentication, cookie, knownDevices }) => {
  const signedIn = (request: FastifyRequest, reply: FastifyReply, token: string, phone: string) => setSignedInCookies(request, reply, cookie, knownDevices, { token, phone });
  const cookieAttributes = (path: string, maxAgeMs: number) => ({ httpOnly: true, sameSite: 'lax' as const, secure: cookie.secure, path, maxAge: Math.floor(maxAgeMs / 1000) });
  const bind = (reply: FastifyReply, browserKey: string) => reply.setCookie(BROWSER_COOKIE, browserKey, cookieAttributes('/api/auth/providers', STATE_TTL_MS));
  const holdPending = (reply: FastifyReply, token: string) => reply.setCookie(PENDING_COOKIE, token, cookieAttributes('/api/auth', PENDING_TTL_MS));
  const dropPending = (reply: FastifyReply) => reply.clearCookie(PENDING_COOKIE, cookieAttributes('/api/auth', 0));

  /** A failed navigation goes back to the page it came from, with the code the page explains in words. */
  function failedNavigation(request: FastifyRequest, reply: FastifyReply, error: unknown, provider: string, page: '/login' | '/account') {
    const appError = toAppError(error as Error);
    if (appError.status >= 500) request.log.error({ err: appError.cause ?? appError, code: appError.code, provider }, 'sign-in through a provider failed');
    else request.log.info({ code: appError.code, provider, reason: appError.message }, 'sign-in through a provider refused');
    const query = new URLSearchParams({ [page === '/login' ? 'sign_in_error' : 'link_error']: appError.code, provider: provider.slice(0, 64) });
    return reply.redirect(`${page}?${query}`);
  }

  function arrived(request: FastifyRequest, reply: FastifyReply, outcome: FlowOutcome) {
    switch (outcome.kind) {
      case 'signed_in':
        signedIn(request, reply, outcome.token, outcome.phone);
        return reply.redirect(outcome.returnTo);
      case 'pending':
        holdPending(reply, outcome.pendingToken);
        return reply.redirect(CONTINUE_PAGE);
      case 'linked': {
        const back = new URL(outcome.returnTo, 'http://local.invalid');
        back.searchParams.set('linked', outcome.provider);
        return reply.redirect(`${back.pathname}${back.search}`);
      }
    }
  }

  app.get(
    '/api/auth/providers/:name/start',
    {
      schema: {
        tags: ['auth'],
        summary: "Start signing in through a provider (a browser navigation): 302 to the provider's page. A failure (not offered, rate limited) goes to /login?sign_in_error=CODE&provider=NAME",
        params: NameParams,
        querystring: Type.Object({ return_to: Type.Optional(ReturnTo) }),
        response: { 302: Type.Null() },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      try {
        const browserKey = SignInFlow.browserKey(cookieOf(request, BROWSER_COOKIE));
        const url = await flow.start(name, { returnTo: request.query.return_to, browserKey }, clientOf(request));
        bind(reply, browserKey);
        return reply.redirect(url);
      } catch (error) {
        return failedNavigation(request, reply, error, name, '/login');
      }
    },
  );

  app.get(
    '/api/auth/providers/:name/callback',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Where the provider sends the browser back. Signed in: 302 to the return_to. A second factor to enter, or an identity not linked yet: 302 to /sign-in/continue. Linking from the account page: 302 to /account?linked=NAME. A failure: 302 to /login?sign_in_error=CODE&provider=NAME (or /account?link_error=…), CODE one of UPSTREAM_STATE_INVALID, UPSTREAM_DENIED, UPSTREAM_CODE_INVALID, UPSTREAM_UNAVAILABLE, UPSTREAM_BAD_RESPONSE, ACCOUNT_DISABLED, IDENTITY_TAKEN, SIGN_IN_PROVIDER_NOT_FOUND, RATE_LIMITED',
        params: NameParams,
        // The provider's parameters, whatever they are: the adapter reads them.
        querystring: Type.Record(Type.String(), Type.String({ maxLength: 4096 })),
        response: { 302: Type.Null() },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const query = new URLSearchParams(request.query);
      try {
        return arrived(request, reply, await flow.finish(name, query, cookieOf(request, BROWSER_COOKIE), clientOf(request)));
      } catch (error) {
        // A link started on the account page fails back to it; its state (and so whether it was a link) may be gone.
        return failedNavigation(request, reply, error, name, SignInFlow.wasLinking(query) ? '/account' : '/login');
      }
    },
  );

  app.get(
    '/api/auth/providers/pending',
    {
      schema: {
        tags: ['auth'],
        summary: "This browser's sign-in through a provider that waits for a step: its phone number (an identity not linked yet), registering (the number has no account), or the second factor. 404 SIGN_IN_PENDING_NOT_FOUND when there is none",
        response: responses({
          200: Type.Object({
            provider: Type.String(),
            display_name: Type.Union([Type.String(), Type.Null()], { description: 'What the provider calls the person' }),
            avatar_url: Type.Union([Type.String(), Type.Null()]),
            step: PendingStep,
            challenge: Type.Union([Type.String(), Type.Null()], { description: 'step two_factor: for POST /api/auth/login/2fa' }),
            phone: Type.Union([Type.String(), Type.Null()], { description: 'step register: the proven number, masked' }),
            return_to: Type.String(),
            ...Binding,
          }),
        }),
      },
    },
    async (request) => {
      const view = await flow.pending(cookieOf(request, PENDING_COOKIE));
      return {
        provider: view.provider,
        display_name: view.displayName,
        avatar_url: view.avatarUrl,
        step: view.step,
        challenge: view.challenge,
        phone: view.maskedPhone,
        return_to: view.returnTo,
        invitation_code_required: view.invitationCodeRequired,
        organization_name: view.organizationName,
      };
    },
  );

  app.post(
    '/api/auth/providers/pending/phone',
    {
      schema: {
        tags: ['auth'],
        summary:
          "Prove the phone number of a pending sign-in with an SMS code (purpose link_identity). The number's account: the identity is linked to it and signed in (200 signed_in true, or 401 TWO_FACTOR_REQUIRED). No account: 200 signed_in false and the registration step",
        body: Type.Object({ phone: PhoneField, code: SmsCodeField }, { additionalProperties: false }),
        response: responses({
          200: Type.Object({
            signed_in: Type.Boolean(),
            user: Type.Optional(UserEnvelope.properties.user),
            return_to: Type.Optional(Type.String()),
            step: Type.Optional(Type.Literal('register')),
            invitation_code_required: Type.Optional(Binding.invitation_code_required),
            organization_name: Type.Optional(Binding.organization_name),
          }),
        }),
      },
    },
    async (request, reply) => {
      const outcome = await flow.provePhone(cookieOf(request, PENDING_COOKIE), request.body, clientOf(request)).catch((error: unknown) => {
        // The pending sign-in ended in a second-factor challenge: the continue page goes on with it alone.
        if (toAppError(error as Error).code === 'TWO_FACTOR_REQUIRED') dropPending(reply);
        throw error;
      });
      if (!outcome.signedIn) return { signed_in: false, step: 'register' as const, invitation_code_required: outcome.invitationCodeRequired, organization_name: outcome.organizationName };
      dropPending(reply);
      signedIn(request, reply, outcome.token, outcome.user.phone);
      return { signed_in: true, user: publicUser(outcome.user), return_to: outcome.returnTo };
    },
  );

  app.post(
    '/api/auth/providers/pending/register',
    {
      schema: {
        tags: ['auth'],
        summary:
          "Register the proven number's new account for a pending sign-in, with the identity linked: 201 and a session. Needs an invitation code unless the provider is bound to an organization (400 INVITATION_CODE_REQUIRED); the account has no password until its owner sets one",
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 64 }), invitation_code: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
          { additionalProperties: false },
        ),
        response: responses({ 201: Type.Object({ user: UserEnvelope.properties.user, return_to: Type.String() }) }),
      },
    },
    async (request, reply) => {
      const registered = await flow.register(cookieOf(request, PENDING_COOKIE), { name: request.body.name, invitationCode: request.body.invitation_code ?? null }, clientOf(request));
      dropPending(reply);
      signedIn(request, reply, registered.token, registered.user.phone);
      return reply.code(201).send({ user: publicUser(registered.user), return_to: registered.returnTo });
    },
  );

  app.post(
    '/api/account/identities/:name/link',
    {
      preHandler: [requireSession, requireRecentAuthentication],
      schema: {
        tags: ['auth'],
        summary:
          "Link another sign-in account to mine: the provider's page to send the browser to; it comes back to /account?linked=NAME (or ?link_error=CODE, IDENTITY_TAKEN when that account is linked to someone else). Needs a recent re-authentication (401 REAUTHENTICATION_REQUIRED): a stolen session must not add a way in",
        params: NameParams,
        body: Type.Optional(Type.Object({ return_to: Type.Optional(ReturnTo) }, { additionalProperties: false })),
        response: responses({ 200: Type.Object({ authorize_url: Type.String() }) }),
      },
    },
    async (request, reply) => {
      const { user, session } = request.auth!;
      const browserKey = SignInFlow.browserKey(cookieOf(request, BROWSER_COOKIE));
      const url = await flow.start(request.params.name, { returnTo: request.body?.return_to ?? '/account', browserKey, link: { userId: user.id, sessionId: session.id } }, clientOf(request));
      bind(reply, browserKey);
      return { authorize_url: url };
    },
  );
};
