import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuditLog } from '../audit/service.js';
import { AppError } from '../errors.js';
import { actorOf, type ApiKeyGuards } from '../http/auth.js';
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
});
const view = apiKeyJson;

export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ apiKeys: ApiKeyService; audit: AuditLog; guards: ApiKeyGuards }> = async (app, { apiKeys, audit, guards }) => {
  app.get(
    '/api/admin/api-keys',
    { preHandler: guards.requireAdmin, schema: { tags: ['admin'], summary: 'API keys (never their secrets)', response: responses({ 200: Type.Object({ api_keys: Type.Array(ApiKeyBody) }) }) } },
    async () => ({ api_keys: (await apiKeys.list()).map(view) }),
  );

  app.post(
    '/api/admin/api-keys',
    {
      preHandler: guards.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Create an API key; the key is in this answer and nowhere else, ever',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            scopes: Type.Array(Type.Union([Type.Literal('tasks:write'), Type.Literal('tasks:read'), Type.Literal('admin')]), { minItems: 1, maxItems: API_KEY_SCOPES.length }),
          },
          { additionalProperties: false },
        ),
        response: responses({ 201: Type.Object({ key: Type.String(), api_key: ApiKeyBody }) }),
      },
    },
    async (request, reply) => {
      const { key, apiKey } = await apiKeys.create({ name: request.body.name, scopes: request.body.scopes, createdBy: request.auth?.user.id ?? null });
      await audit.record({ event: 'apikey.created', actor: actorOf(request), target: `apikey:${apiKey.prefix}`, ip: request.ip, detail: { name: apiKey.name, scopes: apiKey.scopes } });
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
      const revoked = await apiKeys.revoke(request.params.id);
      if (!revoked) throw new AppError('API_KEY_NOT_FOUND', { message: 'No such API key, or it is already revoked.' });
      await audit.record({ event: 'apikey.revoked', actor: actorOf(request), target: `apikey:${revoked.prefix}`, ip: request.ip });
      return { api_key: view(revoked) };
    },
  );
};
