import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { clientOf } from '../http/client-identity.js';
import { responses } from '../http/schemas.js';
import { CAPTCHA_PURPOSES, type CaptchaService } from './service.js';

export const captchaRoutes: FastifyPluginAsyncTypebox<{ captcha: CaptchaService }> = async (app, { captcha }) => {
  app.get(
    '/api/auth/captcha/generate',
    {
      schema: {
        tags: ['auth'],
        summary: 'A new image captcha (single use, expires)',
        querystring: Type.Object(
          { purpose: Type.Optional(Type.Union(CAPTCHA_PURPOSES.map((p) => Type.Literal(p)), { description: 'Binds the captcha to one use; default any.' })) },
          { additionalProperties: false },
        ),
        response: responses({
          200: Type.Object({
            captcha_id: Type.String(),
            captcha_image: Type.String({ description: 'data:image/png;base64,…' }),
            expires_in: Type.Integer({ description: 'Seconds.' }),
          }),
        }),
      },
    },
    async (request, reply) => {
      const issued = await captcha.issue(request.query.purpose ?? 'any', clientOf(request));
      reply.header('cache-control', 'no-store');
      return { captcha_id: issued.id, captcha_image: `data:image/png;base64,${issued.pngBase64}`, expires_in: issued.expiresInSeconds };
    },
  );
};
