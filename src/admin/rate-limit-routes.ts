// The per-address rate limits as an administrator sees them: what an address has used, and lifting
// that for a workshop whose whole school sits behind one address ("our teachers get 'too many
// requests'"). Per-account limits and lockouts are the users list's business (unlock).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf, type ApiKeyGuards } from '../http/auth.js';
import { responses } from '../http/schemas.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { RateLimitAdmin } from './rate-limits.js';

const Address = Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })], { description: 'An IPv4 or IPv6 address.' });
const AddressLimitsBody = Type.Object({
  address: Type.String(),
  network: Type.String({ description: 'What the per-address limits count: the IPv4 address, or the IPv6 network of RATE_LIMIT_IPV6_PREFIX.' }),
  exempt: Type.Boolean({ description: 'In RATE_LIMIT_EXEMPT: the per-address limits do not count it.' }),
  limits: Type.Array(Type.Object({ limit: Type.String(), points: Type.Integer(), used: Type.Integer(), resets_in_seconds: Type.Integer() })),
});

export const rateLimitRoutes: FastifyPluginAsyncTypebox<{ rateLimits: RateLimits; admin: RateLimitAdmin; guards: ApiKeyGuards }> = async (app, { rateLimits, admin: limitsAdmin, guards }) => {
  const admin = { preHandler: guards.requireAdmin };

  app.get(
    '/api/admin/rate-limits',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: "An address's use of the per-address limits (captcha, registration, login, SMS)",
        querystring: Type.Object({ address: Address }, { additionalProperties: false }),
        response: responses({ 200: AddressLimitsBody }),
      },
    },
    async (request) => rateLimits.forAddress(request.query.address),
  );

  app.post(
    '/api/admin/rate-limits/reset',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: "Lift the per-address limits for an address's network: their counts start again",
        body: Type.Object({ address: Address }, { additionalProperties: false }),
        response: responses({ 200: AddressLimitsBody }),
      },
    },
    async (request) => (await limitsAdmin.reset(principalOf(request), request.body.address)).state,
  );
};
