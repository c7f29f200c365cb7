import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../errors.js';
import { principalOf, type ApiKeyGuards } from '../http/auth.js';
import { responses } from '../http/schemas.js';
import { API_KEY_SCOPES, apiKeyJson, type ApiKeyService } from './service.js';

const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const ApiKeyBody = Type.Object({
  id: Type.Integer(),
  prefix: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  created_by: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Time,
  last_used_at: Time,
  revoked_at: Time,
  expires_at: Time,
});
const view = apiKeyJson;

export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ apiKeys: ApiKeyService; guards: ApiKeyGuards }> = async (app, { apiKeys, guards }) => {
  app.get(
    '/api/admin/api-keys',
    { preHandler: guards.requireAdmin, schema: { tags: ['admin'], summary: 'API keys (never their secrets)', response: responses({ 200: Type.Object({ api_keys: Type.Array(ApiKeyBody) }) }) } },
    async () => ({ api_keys: (await apiKeys.list()).map(view) }),
  );

  app.post(
    '/api/admin/api-keys',
    {
      preHandler: [guards.requireAdmin, guards.requireRecentAuthentication],
      schema: {
        tags: ['admin'],
        summary:
          'Create an API key; the key is in this answer and nowhere else, ever. It expires (default API_KEY_DEFAULT_TTL_DAYS) and is revoked when its creator stops being an active administrator. Needs a recent re-authentication (401 REAUTHENTICATION_REQUIRED)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            scopes: Type.Array(Type.Union([Type.Literal('tasks:write'), Type.Literal('tasks:read'), Type.Literal('admin')]), { minItems: 1, maxItems: API_KEY_SCOPES.length }),
            expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'Default: API_KEY_DEFAULT_TTL_DAYS (90)' })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 201: Type.Object({ key: Type.String(), api_key: ApiKeyBody }) }),
      },
    },
    async (request, reply) => {
      const { key, apiKey } = await apiKeys.create(principalOf(request), { name: request.body.name, scopes: request.body.scopes, expiresInDays: request.body.expires_in_days });
      return reply.code(201).send({ key, api_key: view(apiKey) });
    },
  );

  app.delete(
    '/api/admin/api-keys/:id',
    {
      preHandler: guards.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Revoke an API key (at once, on every server)',
        params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }),
        response: responses({ 200: Type.Object({ api_key: ApiKeyBody }) }),
      },
    },
    async (request) => {
      const revoked = await apiKeys.revoke(principalOf(request), { id: request.params.id });
      if (!revoked) throw new AppError('API_KEY_NOT_FOUND', { message: 'No such API key, or it is already revoked.' });
      return { api_key: view(revoked) };
    },
  );
};
