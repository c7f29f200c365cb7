// The signing keys in the admin API: the console's view of them, and a rotation (a sensitive action:
// it needs a recent re-authentication, like rotating any other secret).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf, type ApiKeyGuards } from '../http/auth.js';
import { responses } from '../http/schemas.js';
import { DEFAULT_ROTATION, type KeySummary, type SigningKeys } from './signing-keys.js';

const KeyBody = Type.Object({
  kid: Type.String(),
  alg: Type.String(),
  state: Type.Union([Type.Literal('signing'), Type.Literal('published'), Type.Literal('retired')]),
  created_at: Type.String({ format: 'date-time' }),
  activates_at: Type.String({ format: 'date-time' }),
  retires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const view = (key: KeySummary) => ({
  kid: key.kid,
  alg: key.alg,
  state: key.state,
  created_at: new Date(key.createdAt).toISOString(),
  activates_at: new Date(key.activatesAt).toISOString(),
  retires_at: key.retiresAt === null ? null : new Date(key.retiresAt).toISOString(),
});

export const signingKeyRoutes: FastifyPluginAsyncTypebox<{ keys: SigningKeys; guards: ApiKeyGuards }> = async (app, { keys, guards }) => {
  app.get(
    '/api/admin/oidc/keys',
    { preHandler: guards.requireAdmin, schema: { tags: ['admin'], summary: "The provider's signing keys (public facts only): the one that signs, and those still published", response: responses({ 200: Type.Object({ keys: Type.Array(KeyBody) }) }) } },
    async () => ({ keys: (await keys.list()).map(view) }),
  );

  app.post(
    '/api/admin/oidc/keys/rotate',
    {
      preHandler: [guards.requireAdmin, guards.requireRecentAuthentication],
      schema: {
        tags: ['admin'],
        summary: 'Add a signing key: published at once, signing after activate_in_seconds; the old one stays published retire_after_seconds more. Needs a recent re-authentication.',
        body: Type.Object({
          activate_in_seconds: Type.Integer({ minimum: 0, maximum: 7 * 86_400, default: DEFAULT_ROTATION.activateInSeconds }),
          retire_after_seconds: Type.Integer({ minimum: 0, maximum: 365 * 86_400, default: DEFAULT_ROTATION.retireAfterSeconds }),
        }),
        response: responses({ 201: Type.Object({ key: KeyBody }) }),
      },
    },
    async (request, reply) => {
      const key = await keys.rotate(principalOf(request), { activateInSeconds: request.body.activate_in_seconds, retireAfterSeconds: request.body.retire_after_seconds });
      return reply.code(201).send({ key: view(key) });
    },
  );
};
