// The one public look at an organization: what a registration link leads to, before anyone types.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { responses } from '../http/schemas.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { OrgService } from './service.js';

export interface InvitationRouteDeps {
  orgs: OrgService;
  rateLimits: RateLimits;
}

const Reason = Type.Union([Type.Literal('expired'), Type.Literal('revoked'), Type.Literal('used_up')], { description: 'Why the code admits nobody now (absent when valid).' });

export const invitationRoutes: FastifyPluginAsyncTypebox<InvitationRouteDeps> = async (app, { orgs, rateLimits }) => {
  app.get(
    '/api/auth/invitations/:code',
    {
      schema: {
        tags: ['auth'],
        summary: "A registration link's organization and whether its invitation code admits anyone now (nothing about its quota, uses or dates)",
        params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: responses({
          200: Type.Object({
            organization: Type.Object({ name: Type.String() }),
            valid: Type.Boolean(),
            reason: Type.Optional(Reason),
            requires_sms: Type.Boolean({ description: 'Registering also needs an SMS code (purpose register).' }),
          }),
        }),
      },
    },
    async (request, reply) => {
      // Counted per address like captchas: guessing codes costs the guesser, a workshop's one link does not.
      await rateLimits.enforceForClient(rateLimits.invitationPerIp, request.limitedClient);
      const preview = await orgs.previewInvitation(request.params.code);
      reply.header('cache-control', 'no-store');
      return {
        organization: { name: preview.organizationName },
        valid: preview.state === 'valid',
        ...(preview.state === 'valid' ? {} : { reason: preview.state }),
        requires_sms: preview.requiresSms,
      };
    },
  );
};
