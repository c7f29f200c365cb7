import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { principalOf, type ApiKeyGuards, type SessionGuard } from '../http/auth.js';
import { clientOf } from '../http/client-identity.js';
import { CaptchaFields, PhoneField, responses } from '../http/schemas.js';
import { SMS_PURPOSES } from './codes.js';
import type { SmsOutbox } from './outbox.js';
import type { SmsService } from './service.js';

export interface SmsRouteDeps {
  sms: SmsService;
  outbox: SmsOutbox;
  guards: ApiKeyGuards;
  requireSession: SessionGuard;
  normalizePhone: (phone: string) => string;
  /** Whether the request's browser holds a sign-in through a provider that waits for its phone number (purpose link_identity). */
  waitsForPhone: (request: FastifyRequest) => Promise<boolean>;
}

export const smsRoutes: FastifyPluginAsyncTypebox<SmsRouteDeps> = async (app, deps) => {
  app.post(
    '/api/auth/sms/send',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Send a 6-digit code by SMS (captcha with purpose sms) to a mobile number of an allowed region. 202 whether or not the phone has an account. Purpose register needs the invitation_code of an organization that checks phone numbers; change_phone a signed-in session; link_identity a sign-in through a provider waiting for its phone number (404 SIGN_IN_PENDING_NOT_FOUND otherwise).',
        body: Type.Object(
          {
            phone: PhoneField,
            purpose: Type.Union(SMS_PURPOSES.map((p) => Type.Literal(p))),
            ...CaptchaFields,
            invitation_code: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Purpose register: the invitation code being registered with' })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 202: Type.Object({ expires_in: Type.Integer(), resend_after: Type.Integer() }) }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      // A new number's code is for an account already signed in (the session guard answers 401 otherwise).
      if (body.purpose === 'change_phone') await deps.requireSession(request, reply);
      const sent = await deps.sms.send(
        { phone: body.phone, purpose: body.purpose, captchaId: body.captcha_id, captcha: body.captcha, altcha: body.altcha, invitationCode: body.invitation_code, signedIn: request.auth !== null, pendingSignIn: body.purpose === 'link_identity' && (await deps.waitsForPhone(request)) },
        clientOf(request),
      );
      return reply.code(202).send({ expires_in: sent.expiresInSeconds, resend_after: sent.resendAfterSeconds });
    },
  );

  app.get(
    '/api/admin/sms/outbox',
    {
      preHandler: deps.guards.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Messages the console SMS provider "sent", newest first (SMS_PROVIDER=console); each read is audited',
        querystring: Type.Object({ phone: Type.Optional(PhoneField), limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
        response: responses({
          200: Type.Object({
            messages: Type.Array(Type.Object({ id: Type.Integer(), at: Type.String({ format: 'date-time' }), phone: Type.String(), purpose: Type.String(), message: Type.String() })),
          }),
        }),
      },
    },
    async (request) => {
      const phone = request.query.phone ? deps.normalizePhone(request.query.phone) : undefined;
      return { messages: await deps.outbox.read(principalOf(request), { phone, limit: request.query.limit }) };
    },
  );
};
