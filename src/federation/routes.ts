// The HTTP side of upstream sign-in providers, but for the sign-in flow itself: platform
// administrators set providers up (setting one needs a recent re-authentication by session: it
// carries a secret), enable and disable them; administrators see a user's linked identities (an
// organization administrator only their own organization's); users list and unlink their own; and
// the login page asks which providers to offer. Each change is one action of a service, which
// validates and audits it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf, type ApiKeyGuards, type SessionGuard } from '../http/auth.js';
import { responses } from '../http/schemas.js';
import type { Principal } from '../principal.js';
import type { Identities } from './identities.js';
import { MAX_APP_ID_LENGTH, MAX_APP_SECRET_LENGTH, MAX_BASE_URL_LENGTH, MAX_EXTRA_VALUE_LENGTH } from './provider-rules.js';
import type { SignInProviders } from './registry.js';
import { identityJson, providerJson } from './views.js';

export interface FederationRouteDeps {
  providers: SignInProviders;
  identities: Identities;
  /** The account an administrator may act on (NOT_FOUND, OUTSIDE_ORGANIZATION, FORBIDDEN as for every user route). */
  users: { managed(by: Principal, userId: number): Promise<{ id: number }> };
  guards: ApiKeyGuards;
  requireSession: SessionGuard;
}

const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([Time, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
// Spelled out for the types; provider-rules' PROVIDER_NAMES is checked against it in the tests.
const Name = Type.Union([Type.Literal('wechat'), Type.Literal('wechat_mp'), Type.Literal('wecom'), Type.Literal('dingtalk'), Type.Literal('feishu'), Type.Literal('oidc')]);
const StringMap = Type.Record(Type.String(), Type.String());

const ProviderBody = Type.Object({
  name: Name,
  configured: Type.Boolean({ description: 'Whether an administrator set it up; the other fields are empty until then' }),
  enabled: Type.Boolean({ description: 'Offered on the login page' }),
  app_id: NullableString,
  app_secret_set: Type.Boolean({ description: 'The secret itself is never shown' }),
  authorize_url: Type.Union([Type.String(), Type.Null()], { description: "null: the provider's default" }),
  api_url: Type.Union([Type.String(), Type.Null()], { description: "null: the provider's default" }),
  extra: StringMap,
  bound_organization_id: Type.Union([Type.Integer(), Type.Null()], { description: 'Accounts this provider registers join this organization without an invitation code; null: an invitation code is needed' }),
  created_at: NullableTime,
  updated_at: NullableTime,
});
const ProviderEnvelope = Type.Object({ provider: ProviderBody });

const IdentityBody = Type.Object({
  id: Type.Integer(),
  provider: Name,
  subject: Type.String({ description: "The provider's stable key: WeChat unionid (else openid), WeCom corp + user id, DingTalk/Feishu union id, OIDC issuer + sub" }),
  display_name: NullableString,
  avatar_url: NullableString,
  details: StringMap,
  created_at: Time,
  last_sign_in_at: NullableTime,
});
const IdentityList = Type.Object({ identities: Type.Array(IdentityBody) });

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const Id = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const BaseUrl = (what: string) =>
  Type.Union([Type.String({ maxLength: MAX_BASE_URL_LENGTH }), Type.Null()], { description: `${what}: absolute https (http only on localhost, 127.0.0.1 or [::1]), no query; null or absent: the provider's default` });

export const federationRoutes: FastifyPluginAsyncTypebox<FederationRouteDeps> = async (app, { providers, identities, users, guards, requireSession }) => {
  const admin = { preHandler: guards.requireAdmin };

  app.get(
    '/api/auth/providers',
    {
      schema: {
        tags: ['auth'],
        summary: 'The sign-in providers the login page offers (enabled by an administrator), in the order to show them; a change shows on every server within 5 seconds',
        response: responses({ 200: Type.Object({ providers: Type.Array(Type.Object({ name: Name, display_name: Type.Union([Type.String(), Type.Null()], { description: "The administrator's label (a generic OpenID Connect provider's display_name); null: the provider's own name" }) })) }) }),
      },
    },
    async () => ({ providers: (await providers.offered()).map((p) => ({ name: p.name, display_name: p.displayName })) }),
  );

  app.get(
    '/api/admin/sign-in-providers',
    { ...admin, schema: { tags: ['admin'], summary: 'Every sign-in provider Gatehouse knows, set up or not (never a secret)', response: responses({ 200: Type.Object({ providers: Type.Array(ProviderBody) }) }) } },
    async () => ({ providers: (await providers.list()).map(providerJson) }),
  );

  app.put(
    '/api/admin/sign-in-providers/:name',
    {
      preHandler: [guards.requireAdmin, guards.requireRecentAuthentication],
      schema: {
        tags: ['admin'],
        summary:
          "Set a sign-in provider up, or replace its settings (new ones start enabled). The app secret is sealed at rest and never shown again; leave it out to keep the stored one (the first setup needs it). Extra settings: WeChat in-app scope (snsapi_userinfo or snsapi_base); WeCom agent_id (required) and corp_id; OpenID Connect issuer (required) and scopes. 404 SIGN_IN_PROVIDER_NOT_FOUND for an unknown name; 400 INVALID_SIGN_IN_PROVIDER_SETTINGS. Needs a recent re-authentication by session (401 REAUTHENTICATION_REQUIRED)",
        params: NameParams,
        body: Type.Object(
          {
            app_id: Type.String({ minLength: 1, maxLength: MAX_APP_ID_LENGTH, description: "The provider's app id (WeCom: the corp id; DingTalk: the client id / AppKey)" }),
            app_secret: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_APP_SECRET_LENGTH, description: 'Write-only; absent: keep the stored one' })),
            authorize_url: Type.Optional(BaseUrl('Where browsers are sent to authorize')),
            api_url: Type.Optional(BaseUrl("Where the server calls the provider's API")),
            extra: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: MAX_EXTRA_VALUE_LENGTH }), { maxProperties: 10 })),
            bound_organization_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()], { description: 'null or absent: registering needs an invitation code' })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: ProviderEnvelope }),
      },
    },
    async (request) => {
      const b = request.body;
      const provider = await providers.set(principalOf(request), request.params.name, {
        appId: b.app_id,
        appSecret: b.app_secret,
        authorizeUrl: b.authorize_url,
        apiUrl: b.api_url,
        extra: b.extra,
        boundOrganizationId: b.bound_organization_id,
      });
      return { provider: providerJson(provider) };
    },
  );

  app.post(
    '/api/admin/sign-in-providers/:name/disable',
    { ...admin, schema: { tags: ['admin'], summary: 'Stop offering a provider (the login page drops it within 5 seconds; linked identities stay); 404 SIGN_IN_PROVIDER_NOT_FOUND when not set up', params: NameParams, response: responses({ 200: ProviderEnvelope }) } },
    async (request) => ({ provider: providerJson(await providers.disable(principalOf(request), request.params.name)) }),
  );

  app.post(
    '/api/admin/sign-in-providers/:name/enable',
    { ...admin, schema: { tags: ['admin'], summary: 'Offer a provider that is set up on the login page again; 404 SIGN_IN_PROVIDER_NOT_FOUND when not set up', params: NameParams, response: responses({ 200: ProviderEnvelope }) } },
    async (request) => ({ provider: providerJson(await providers.enable(principalOf(request), request.params.name)) }),
  );

  app.get(
    '/api/admin/users/:id/identities',
    {
      preHandler: guards.requireOrganizationAdmin,
      schema: { tags: ['admin'], summary: "The sign-in accounts (WeChat, WeCom, DingTalk, Feishu, OpenID Connect) linked to a user; an organization administrator sees only their own organization's", params: Id, response: responses({ 200: IdentityList }) },
    },
    async (request) => {
      const user = await users.managed(principalOf(request), request.params.id);
      return { identities: (await identities.listFor(user.id)).map(identityJson) };
    },
  );

  app.get(
    '/api/account/identities',
    { preHandler: requireSession, schema: { tags: ['auth'], summary: 'The sign-in accounts linked to mine', response: responses({ 200: IdentityList }) } },
    async (request) => ({ identities: (await identities.listFor(request.auth!.user.id)).map(identityJson) }),
  );

  app.delete(
    '/api/account/identities/:id',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary: 'Unlink one of my sign-in accounts; 404 IDENTITY_NOT_FOUND when it is not mine, 409 LAST_SIGN_IN_METHOD when it is the only way left to sign in (no password, no other linked account)',
        params: Id,
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await identities.unlink(principalOf(request), request.auth!.user.id, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
