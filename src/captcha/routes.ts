import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { clientOf } from '../http/client-identity.js';
import { responses } from '../http/schemas.js';
import type { CaptchaGate } from './gate.js';
import { CAPTCHA_PURPOSES } from './service.js';

const PurposeQuery = Type.Optional(Type.Union(CAPTCHA_PURPOSES.map((p) => Type.Literal(p)), { description: 'Binds the captcha to one use; default any.' }));

export const captchaRoutes: FastifyPluginAsyncTypebox<{ captcha: CaptchaGate }> = async (app, { captcha }) => {
  app.get(
    '/api/auth/captcha/generate',
    {
      schema: {
        tags: ['auth'],
        summary: 'A new image captcha (single use, expires). 400 CAPTCHA_KIND_NOT_ACCEPTED when CAPTCHA_MODE=pow.',
        querystring: Type.Object({ purpose: PurposeQuery }, { additionalProperties: false }),
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
      const issued = await captcha.issueImage(request.query.purpose ?? 'any', clientOf(request));
      reply.header('cache-control', 'no-store');
      return { captcha_id: issued.id, captcha_image: `data:image/png;base64,${issued.pngBase64}`, expires_in: issued.expiresInSeconds };
    },
  );

  app.get(
    '/api/auth/altcha/challenge',
    {
      schema: {
        tags: ['auth'],
        summary:
          "A proof-of-work challenge in ALTCHA's format (protocol 2, as altcha-lib creates it; single use, expires), for the ALTCHA widget's challenge URL or any client that solves it. Submit the solution as the altcha field (base64 of {challenge, solution}) instead of captcha_id + captcha. Its difficulty rises for an address, or a phone number, sending many requests. 400 CAPTCHA_KIND_NOT_ACCEPTED when CAPTCHA_MODE=image.",
        querystring: Type.Object(
          {
            purpose: PurposeQuery,
            phone: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'The phone number the solution will be submitted with: the challenge is then as hard as its requests call for (else CAPTCHA_TOO_EASY when it is sending many).' })),
          },
          { additionalProperties: false },
        ),
        response: responses({
          200: Type.Object(
            {
              parameters: Type.Object(
                {
                  algorithm: Type.String(),
                  nonce: Type.String(),
                  salt: Type.String(),
                  cost: Type.Integer(),
                  keyLength: Type.Integer(),
                  keyPrefix: Type.String(),
                  keySignature: Type.Optional(Type.String()),
                  expiresAt: Type.Optional(Type.Integer({ description: 'Unix seconds.' })),
                  data: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), { description: 'Signed with the challenge: purpose, and level (difficulty, 0 for ordinary use).' })),
                },
                { additionalProperties: true },
              ),
              signature: Type.String(),
            },
            { description: "altcha-lib 2's Challenge." },
          ),
        }),
      },
    },
    async (request, reply) => {
      const challenge = await captcha.issuePow(request.query.purpose ?? 'any', clientOf(request), request.query.phone);
      reply.header('cache-control', 'no-store');
      // Always signed (issuePow passes the secrets); the type allows unsigned challenges too.
      return { ...challenge, signature: challenge.signature ?? '' };
    },
  );

  app.get(
    '/api/auth/captcha/mode',
    {
      schema: {
        tags: ['auth'],
        summary: 'Which captcha the protected routes take (CAPTCHA_MODE): image, pow, or either.',
        response: responses({ 200: Type.Object({ mode: Type.Union([Type.Literal('image'), Type.Literal('pow'), Type.Literal('either')]) }) }),
      },
    },
    async () => ({ mode: captcha.mode }),
  );
};
