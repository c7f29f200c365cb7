import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { RecentAuthenticationGuard, SessionGuard } from '../http/auth.js';
import { clientOf } from '../http/client-identity.js';
import { clearSessionCookie, setSignedInCookies, type SessionCookieSettings } from '../http/session-cookie.js';
import { CaptchaFields, PasswordField, PhoneField, responses, SmsCodeField, UserEnvelope } from '../http/schemas.js';
import type { KnownDevices } from '../security/known-devices.js';
import type { OwnSessions } from '../sessions/own-sessions.js';
import { qrSvg } from '../text/qr.js';
import type { Profile } from './profile.js';
import type { Reauthentication } from './reauthentication.js';
import type { Registration, SignedIn } from './registration.js';
import type { SignIn } from './sign-in.js';
import type { TwoFactorSettings } from './two-factor-settings.js';
import { publicUser } from './views.js';

export interface AccountRouteDeps {
  registration: Registration;
  signIn: SignIn;
  profile: Profile;
  twoFactor: TwoFactorSettings;
  knownDevices: KnownDevices;
  reauthentication: Reauthentication;
  ownSessions: OwnSessions;
  requireSession: SessionGuard;
  requireRecentAuthentication: RecentAuthenticationGuard;
  cookie: SessionCookieSettings;
}

const Iso = Type.String({ format: 'date-time' });
const TwoFactorCodeField = Type.String({ minLength: 1, maxLength: 32, description: "The authenticator app's 6-digit code, or a recovery code (xxxxx-xxxxx)" });
const NullableString = Type.Union([Type.String(), Type.Null()]);
const PersonalDataBody = Type.Object({
  exported_at: Iso,
  account: Type.Object({
    id: Type.Integer(),
    name: Type.String(),
    phone: Type.String(),
    role: Type.String(),
    status: Type.String(),
    registered_at: Iso,
    invitation_code: NullableString,
    password_set: Type.Boolean(),
    two_factor_enabled: Type.Boolean(),
  }),
  organization: Type.Union([Type.Object({ id: Type.Integer(), name: Type.String() }), Type.Null()]),
  sessions: Type.Array(Type.Object({ created_at: Iso, last_seen_at: Iso, ip: NullableString, user_agent: NullableString })),
  passkeys: Type.Array(Type.Object({ name: Type.String(), created_at: Iso, last_used_at: Type.Union([Iso, Type.Null()]) })),
  security_events: Type.Array(Type.Object({ at: Iso, event: Type.String(), by: Type.Union([Type.Literal('you'), Type.Literal('administrator')]), ip: NullableString })),
});

export const accountRoutes: FastifyPluginAsyncTypebox<AccountRouteDeps> = async (app, deps) => {
  const { registration, signIn, profile, twoFactor, ownSessions, knownDevices, reauthentication, requireSession, requireRecentAuthentication, cookie } = deps;

  const signedInCookies = (request: FastifyRequest, reply: FastifyReply, { user, token }: SignedIn) => setSignedInCookies(request, reply, cookie, knownDevices, { token, phone: user.phone });

  app.post(
    '/api/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Register into an organization with its invitation code',
        body: Type.Object(
          {
            phone: PhoneField,
            password: PasswordField,
            name: Type.String({ minLength: 1, maxLength: 256 }),
            invitation_code: Type.String({ minLength: 1, maxLength: 64 }),
            ...CaptchaFields,
            sms_code: Type.Optional(SmsCodeField),
          },
          { additionalProperties: false },
        ),
        response: responses({ 201: UserEnvelope }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const signedIn = await registration.register(
        { phone: body.phone, password: body.password, name: body.name, invitationCode: body.invitation_code, captchaId: body.captcha_id, captcha: body.captcha, altcha: body.altcha, smsCode: body.sms_code },
        clientOf(request),
      );
      signedInCookies(request, reply, signedIn);
      return reply.code(201).send({ user: publicUser(signedIn.user) });
    },
  );

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with phone number, password and captcha',
        body: Type.Object(
          { phone: PhoneField, password: PasswordField, ...CaptchaFields },
          { additionalProperties: false },
        ),
        response: responses({ 200: UserEnvelope }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const signedIn = await signIn.login({ phone: body.phone, password: body.password, captchaId: body.captcha_id, captcha: body.captcha, altcha: body.altcha }, clientOf(request));
      signedInCookies(request, reply, signedIn);
      return { user: publicUser(signedIn.user) };
    },
  );

  app.post(
    '/api/auth/login/sms',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with an SMS code (purpose login, from POST /api/auth/sms/send)',
        body: Type.Object({ phone: PhoneField, code: SmsCodeField }, { additionalProperties: false }),
        response: responses({ 200: UserEnvelope }),
      },
    },
    async (request, reply) => {
      const signedIn = await signIn.loginWithSms({ phone: request.body.phone, code: request.body.code }, clientOf(request));
      signedInCookies(request, reply, signedIn);
      return { user: publicUser(signedIn.user) };
    },
  );

  app.post(
    '/api/auth/login/2fa',
    {
      schema: {
        tags: ['auth'],
        summary: "Finish a sign-in that answered 401 TWO_FACTOR_REQUIRED: its challenge and a code from the authenticator app, or a recovery code",
        body: Type.Object({ challenge: Type.String({ minLength: 1, maxLength: 128 }), code: TwoFactorCodeField }, { additionalProperties: false }),
        response: responses({ 200: UserEnvelope }),
      },
    },
    async (request, reply) => {
      const signedIn = await signIn.completeTwoFactorLogin({ challenge: request.body.challenge, code: request.body.code }, clientOf(request));
      signedInCookies(request, reply, signedIn);
      return { user: publicUser(signedIn.user) };
    },
  );

  app.post(
    '/api/auth/2fa/setup',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary: 'Start turning on two-factor sign-in: a new authenticator secret (as text, otpauth:// URI and QR code), waiting 10 minutes for a first code at /api/auth/2fa/enable',
        body: Type.Object({ current_password: Type.Optional(PasswordField) }, { additionalProperties: false }),
        response: responses({ 200: Type.Object({ secret: Type.String(), otpauth_uri: Type.String(), qr_svg: Type.String() }) }),
      },
    },
    async (request, reply) => {
      const { secret, uri } = await twoFactor.begin(request.auth!.user, request.body.current_password, clientOf(request));
      reply.header('cache-control', 'no-store');
      return { secret, otpauth_uri: uri, qr_svg: await qrSvg(uri) };
    },
  );

  app.post(
    '/api/auth/2fa/enable',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary: 'Turn on two-factor sign-in with a first code from the app; answers the recovery codes, shown this once',
        body: Type.Object({ code: TwoFactorCodeField }, { additionalProperties: false }),
        response: responses({ 200: Type.Object({ recovery_codes: Type.Array(Type.String()) }) }),
      },
    },
    async (request, reply) => {
      const recoveryCodes = await twoFactor.enable(request.auth!.user, request.auth!.session.id, request.body.code, clientOf(request));
      reply.header('cache-control', 'no-store');
      return { recovery_codes: recoveryCodes };
    },
  );

  app.post(
    '/api/auth/reauth',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary:
          "Confirm it is still you, in this session: the password, or a code from the authenticator app (or a recovery code). Sensitive actions need it within REAUTH_MAX_AGE_SECONDS (401 REAUTHENTICATION_REQUIRED), and a code also gives the session the second factor the console needs (401 SECOND_FACTOR_REQUIRED). Wrong answers count towards the account's lockout",
        body: Type.Union([
          Type.Object({ password: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
          Type.Object({ code: TwoFactorCodeField }, { additionalProperties: false }),
        ]),
        response: responses({ 200: Type.Object({ factor: Type.Union([Type.Literal('password'), Type.Literal('second_factor')]), authenticated_at: Iso }) }),
      },
    },
    async (request) => {
      const { user, session } = request.auth!;
      const input = 'password' in request.body ? { password: request.body.password } : { code: request.body.code };
      const factor = await reauthentication.confirm(user, session, input, clientOf(request));
      return { factor: factor === 'password' ? ('password' as const) : ('second_factor' as const), authenticated_at: new Date().toISOString() };
    },
  );

  app.post(
    '/api/auth/2fa/disable',
    {
      preHandler: [requireSession, requireRecentAuthentication],
      schema: {
        tags: ['auth'],
        summary: 'Turn off two-factor sign-in: the current password (when set) and a code from the app or a recovery code, in a session that proved itself within REAUTH_MAX_AGE_SECONDS (401 REAUTHENTICATION_REQUIRED)',
        body: Type.Object({ current_password: Type.Optional(PasswordField), code: TwoFactorCodeField }, { additionalProperties: false }),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await twoFactor.disable(request.auth!.user, { currentPassword: request.body.current_password, code: request.body.code }, clientOf(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/auth/password/reset',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with an SMS code (purpose reset_password); every session of the account ends',
        body: Type.Object({ phone: PhoneField, code: SmsCodeField, new_password: PasswordField }, { additionalProperties: false }),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await profile.resetPassword({ phone: request.body.phone, code: request.body.code, newPassword: request.body.new_password }, clientOf(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/auth/password',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary: "Change (or, for an imported account, set) the signed-in user's password; other sessions end",
        body: Type.Object({ current_password: Type.Optional(PasswordField), new_password: PasswordField }, { additionalProperties: false }),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      const { user, session } = request.auth!;
      await profile.changePassword(user, { currentPassword: request.body.current_password, newPassword: request.body.new_password }, session.id, clientOf(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/auth/phone',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary: "Move the signed-in user's account to a new phone number: a code sent there (SMS purpose change_phone) and the current password when one is set; other sessions end",
        body: Type.Object({ new_phone: PhoneField, code: SmsCodeField, current_password: Type.Optional(PasswordField) }, { additionalProperties: false }),
        response: responses({ 200: UserEnvelope }),
      },
    },
    async (request) => {
      const { user, session } = request.auth!;
      const changed = await profile.changePhone(user, { newPhone: request.body.new_phone, code: request.body.code, currentPassword: request.body.current_password }, session.id, clientOf(request));
      return { user: publicUser(changed) };
    },
  );

  app.get(
    '/api/auth/account/data',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary: 'Download everything held about the signed-in account (JSON, as an attachment): the account, its organization, sessions, passkeys and security events',
        response: responses({ 200: PersonalDataBody }),
      },
    },
    async (request, reply) => {
      const data = await profile.personalData(request.auth!.user);
      reply.header('content-disposition', `attachment; filename="gatehouse-account-${data.account.id}.json"`).header('cache-control', 'no-store');
      return data;
    },
  );

  app.delete(
    '/api/auth/account',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary: "Delete the signed-in user's account for good (the current password when one is set); every session ends, the phone number can register again",
        body: Type.Object({ current_password: Type.Optional(PasswordField) }, { additionalProperties: false }),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await profile.deleteOwnAccount(request.auth!.user, request.body.current_password, clientOf(request));
      clearSessionCookie(reply, cookie);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/auth/me',
    { preHandler: requireSession, schema: { tags: ['auth'], summary: 'The signed-in user', response: responses({ 200: UserEnvelope }) } },
    async (request) => ({ user: publicUser(request.auth!.user) }),
  );

  app.post(
    '/api/auth/logout',
    { preHandler: requireSession, schema: { tags: ['auth'], summary: 'End this session', response: responses({ 204: Type.Null() }) } },
    async (request, reply) => {
      const { user, session } = request.auth!;
      await ownSessions.signOut({ userId: user.id, ip: request.ip }, session.id);
      clearSessionCookie(reply, cookie);
      return reply.code(204).send(null);
    },
  );
};
