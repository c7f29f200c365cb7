// The admin API of the client registry: the apps (OpenID Connect clients) that sign people in through
// Gatehouse. Platform administrators only; registering an app, rotating its secret and deleting it
// also need a recent re-authentication by session. The routes read requests and shape answers: each
// change is one action of ClientRegistry, which validates and audits it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf, type ApiKeyGuards } from '../../http/auth.js';
import { responses } from '../../http/schemas.js';
import { MAX_CLIENT_NAME_LENGTH, MAX_CLIENT_URIS, MAX_URI_LENGTH } from './rules.js';
import type { ClientRegistry } from './service.js';
import { clientJson } from './views.js';

const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([Time, Type.Null()]);
const GrantType = Type.Union([Type.Literal('authorization_code'), Type.Literal('refresh_token'), Type.Literal('client_credentials')]);
const RoleName = Type.Union([Type.Literal('user'), Type.Literal('org_admin'), Type.Literal('admin')]);

const ClientBody = Type.Object({
  client_id: Type.String({ description: 'gtc_ and 24 characters a-z, 2-7' }),
  name: Type.String(),
  type: Type.Union([Type.Literal('confidential'), Type.Literal('public')], { description: 'public: no secret, PKCE only, never client_credentials' }),
  redirect_uris: Type.Array(Type.String()),
  post_logout_redirect_uris: Type.Array(Type.String()),
  backchannel_logout_uri: Type.Union([Type.String(), Type.Null()]),
  first_party: Type.Boolean({ description: 'The school\'s own system: no consent page' }),
  grant_types: Type.Array(GrantType),
  allowed_organization_ids: Type.Union([Type.Array(Type.Integer()), Type.Null()], { description: 'null: members of every organization may sign in' }),
  allowed_roles: Type.Union([Type.Array(RoleName), Type.Null()], { description: 'null: every role may sign in' }),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  created_by: Type.Union([Type.String(), Type.Null()], { description: 'user:<id>, apikey:<prefix> or cli' }),
  created_at: Time,
  updated_at: Time,
  secret_rotated_at: NullableTime,
  disabled_at: NullableTime,
});

// Lengths and counts are checked by the registry, so that the console, the API and the command line
// are refused with the same code (INVALID_REDIRECT_URI) and message.
const UriList = (description: string) => Type.Array(Type.String(), { description: `${description}; at most ${MAX_CLIENT_URIS}, each at most ${MAX_URI_LENGTH} characters` });
const RedirectUris = UriList('Exact redirect URIs: absolute, no fragment, https (http only on localhost, 127.0.0.1, [::1])');
const PostLogoutUris = UriList('Where RP-initiated logout may send the browser back to: the same rules');
const BackchannelUri = Type.Union([Type.String(), Type.Null()], { description: 'Where the provider posts a logout token when a session ends: the same rules; null: none' });
const AllowedOrganizations = Type.Union([Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), { minItems: 1 }), Type.Null()], {
  description: 'Only members of these organizations may sign in; null: every organization',
});
const AllowedRoles = Type.Union([Type.Array(RoleName, { minItems: 1 }), Type.Null()], { description: 'Only these roles may sign in; null: every role' });
const Name = Type.String({ minLength: 1, maxLength: MAX_CLIENT_NAME_LENGTH, description: 'Shown on the consent page' });

const ClientIdParams = Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 100 }) });
const ClientEnvelope = Type.Object({ client: ClientBody });
const WithSecret = (description: string) => Type.Object({ client: ClientBody, client_secret: Type.Union([Type.String(), Type.Null()], { description }) });

export const oidcClientRoutes: FastifyPluginAsyncTypebox<{ clients: ClientRegistry; guards: ApiKeyGuards }> = async (app, { clients, guards }) => {
  const admin = { preHandler: guards.requireAdmin };
  const sensitive = { preHandler: [guards.requireAdmin, guards.requireRecentAuthentication] };
  const reauth = 'Needs a recent re-authentication by session (401 REAUTHENTICATION_REQUIRED)';

  app.get(
    '/api/admin/oidc/clients',
    { ...admin, schema: { tags: ['admin'], summary: 'The apps registered to sign people in (never their secrets), newest first', response: responses({ 200: Type.Object({ clients: Type.Array(ClientBody) }) }) } },
    async () => ({ clients: (await clients.list()).map(clientJson) }),
  );

  app.post(
    '/api/admin/oidc/clients',
    {
      ...sensitive,
      schema: {
        tags: ['admin'],
        summary: `Register an app. A confidential one gets a client_secret, in this answer and nowhere else, ever (stored as its SHA-256), and by default authorization_code, refresh_token and client_credentials; a public one (public: true) no secret, and authorization_code and refresh_token. ${reauth}`,
        body: Type.Object(
          {
            name: Name,
            redirect_uris: Type.Optional(RedirectUris),
            post_logout_redirect_uris: Type.Optional(PostLogoutUris),
            backchannel_logout_uri: Type.Optional(BackchannelUri),
            public: Type.Optional(Type.Boolean({ description: 'A single-page or native app that cannot keep a secret' })),
            first_party: Type.Optional(Type.Boolean({ description: 'The school\'s own system: no consent page' })),
            grant_types: Type.Optional(Type.Array(GrantType, { minItems: 1, description: 'Default: every grant the kind of client may use; a client_credentials-only client needs no redirect URI' })),
            allowed_organization_ids: Type.Optional(AllowedOrganizations),
            allowed_roles: Type.Optional(AllowedRoles),
          },
          { additionalProperties: false },
        ),
        response: responses({ 201: WithSecret('The secret, shown this once; null for a public client') }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const { client, secret } = await clients.create(principalOf(request), {
        name: b.name,
        redirectUris: b.redirect_uris ?? [],
        postLogoutRedirectUris: b.post_logout_redirect_uris,
        backchannelLogoutUri: b.backchannel_logout_uri,
        public: b.public,
        firstParty: b.first_party,
        grantTypes: b.grant_types,
        allowedOrganizationIds: b.allowed_organization_ids,
        allowedRoles: b.allowed_roles,
      });
      return reply.code(201).send({ client: clientJson(client), client_secret: secret });
    },
  );

  app.get(
    '/api/admin/oidc/clients/:client_id',
    { ...admin, schema: { tags: ['admin'], summary: 'One app (never its secret); 404 CLIENT_NOT_FOUND', params: ClientIdParams, response: responses({ 200: ClientEnvelope }) } },
    async (request) => ({ client: clientJson(await clients.show(request.params.client_id)) }),
  );

  app.patch(
    '/api/admin/oidc/clients/:client_id',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary:
          "Change an app's name, redirect URIs, logout URIs, first-party flag or who may sign in (a list replaces the old one; null lifts a limit). Shutting out organizations or roles revokes the app's grants, so that nobody keeps a session they could not start now",
        params: ClientIdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            redirect_uris: Type.Optional(RedirectUris),
            post_logout_redirect_uris: Type.Optional(PostLogoutUris),
            backchannel_logout_uri: Type.Optional(BackchannelUri),
            first_party: Type.Optional(Type.Boolean()),
            allowed_organization_ids: Type.Optional(AllowedOrganizations),
            allowed_roles: Type.Optional(AllowedRoles),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: responses({ 200: ClientEnvelope }),
      },
    },
    async (request) => {
      const b = request.body;
      const client = await clients.update(principalOf(request), request.params.client_id, {
        name: b.name,
        redirectUris: b.redirect_uris,
        postLogoutRedirectUris: b.post_logout_redirect_uris,
        backchannelLogoutUri: b.backchannel_logout_uri,
        firstParty: b.first_party,
        allowedOrganizationIds: b.allowed_organization_ids,
        allowedRoles: b.allowed_roles,
      });
      return { client: clientJson(client) };
    },
  );

  app.post(
    '/api/admin/oidc/clients/:client_id/rotate-secret',
    {
      ...sensitive,
      schema: {
        tags: ['admin'],
        summary: `A new secret for a confidential app, in this answer only; the old one stops working at once (the app's users stay signed in). 409 CLIENT_HAS_NO_SECRET for a public app. ${reauth}`,
        params: ClientIdParams,
        response: responses({ 200: WithSecret('The new secret, shown this once') }),
      },
    },
    async (request) => {
      const { client, secret } = await clients.rotateSecret(principalOf(request), request.params.client_id);
      return { client: clientJson(client), client_secret: secret };
    },
  );

  app.post(
    '/api/admin/oidc/clients/:client_id/disable',
    {
      ...admin,
      schema: { tags: ['admin'], summary: "Refuse the app everywhere, as if unknown, and revoke its grants and refresh tokens (until enabled again)", params: ClientIdParams, response: responses({ 200: ClientEnvelope }) },
    },
    async (request) => ({ client: clientJson(await clients.disable(principalOf(request), request.params.client_id)) }),
  );

  app.post(
    '/api/admin/oidc/clients/:client_id/enable',
    { ...admin, schema: { tags: ['admin'], summary: 'Let a disabled app sign people in again (its revoked grants stay revoked)', params: ClientIdParams, response: responses({ 200: ClientEnvelope }) } },
    async (request) => ({ client: clientJson(await clients.enable(principalOf(request), request.params.client_id)) }),
  );

  app.delete(
    '/api/admin/oidc/clients/:client_id',
    {
      ...sensitive,
      schema: { tags: ['admin'], summary: `Delete an app and revoke its grants and refresh tokens; answers with what was deleted. ${reauth}`, params: ClientIdParams, response: responses({ 200: ClientEnvelope }) },
    },
    async (request) => ({ client: clientJson(await clients.delete(principalOf(request), request.params.client_id)) }),
  );
};
