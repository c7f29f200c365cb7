// The HTTP side of passkeys. The ceremonies speak WebAuthn's JSON forms, the ones
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON read and
// credential.toJSON() writes, so that any client (the pages, a native app, a test) can drive them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { Type } from 'typebox';
import { publicUser } from '../accounts/views.js';
import type { RecentAuthenticationGuard, SessionGuard } from '../http/auth.js';
import { clientOf } from '../http/client-identity.js';
import { PhoneField, responses, UserEnvelope } from '../http/schemas.js';
import { setSignedInCookies, type SessionCookieSettings } from '../http/session-cookie.js';
import type { KnownDevices } from '../security/known-devices.js';
import { passkeyView, type Passkeys } from './service.js';
import type { PasskeyRow } from '../db/schema.js';

export interface PasskeyRouteDeps {
  passkeys: Passkeys;
  requireSession: SessionGuard;
  requireRecentAuthentication: RecentAuthenticationGuard;
  cookie: SessionCookieSettings;
  knownDevices: KnownDevices;
}

const B64Url = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+={0,2}$' });
const NameField = Type.String({ minLength: 1, maxLength: 64, description: 'What the owner calls this passkey (e.g. "Work laptop")' });
// Browsers and authenticators add fields as WebAuthn grows: the ones read here are checked, others pass.
const Open = { additionalProperties: true };
const CredentialCommon = {
  id: B64Url(1024),
  rawId: B64Url(1024),
  type: Type.Literal('public-key'),
  authenticatorAttachment: Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')])),
  clientExtensionResults: Type.Optional(Type.Object({}, Open)),
};
const RegistrationCredential = Type.Object(
  {
    ...CredentialCommon,
    response: Type.Object(
      {
        clientDataJSON: B64Url(8192),
        attestationObject: B64Url(65536),
        transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })),
      },
      Open,
    ),
  },
  { ...Open, description: "The new credential's JSON (credential.toJSON())" },
);
const AuthenticationCredential = Type.Object(
  {
    ...CredentialCommon,
    response: Type.Object(
      {
        clientDataJSON: B64Url(8192),
        authenticatorData: B64Url(8192),
        signature: B64Url(2048),
        userHandle: Type.Optional(Type.Union([B64Url(128), Type.Null()])),
      },
      Open,
    ),
  },
  { ...Open, description: "The assertion's JSON (credential.toJSON())" },
);
// The options are WebAuthn's own JSON, described there; checked by the browser that reads them.
const CreationOptions = Type.Object({ challenge: Type.String(), rp: Type.Object({}, Open), user: Type.Object({}, Open) }, { ...Open, description: 'PublicKeyCredentialCreationOptionsJSON' });
const RequestOptions = Type.Object({ challenge: Type.String() }, { ...Open, description: 'PublicKeyCredentialRequestOptionsJSON' });
const PasskeyBody = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  device_type: Type.Union([Type.Literal('singleDevice'), Type.Literal('multiDevice')], { description: 'multiDevice: a synced passkey' }),
  backed_up: Type.Boolean(),
  transports: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const Id = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

function passkeyJson(row: PasskeyRow) {
  const view = passkeyView(row);
  return {
    id: view.id,
    name: view.name,
    device_type: view.deviceType,
    backed_up: view.backedUp,
    transports: view.transports,
    created_at: new Date(view.createdAt).toISOString(),
    last_used_at: view.lastUsedAt === null ? null : new Date(view.lastUsedAt).toISOString(),
  };
}

export const passkeyRoutes: FastifyPluginAsyncTypebox<PasskeyRouteDeps> = async (app, { passkeys, requireSession, requireRecentAuthentication, cookie, knownDevices }) => {
  app.post(
    '/api/auth/passkeys/registration/options',
    {
      preHandler: [requireSession, requireRecentAuthentication],
      schema: {
        tags: ['auth'],
        summary:
          'Start adding a passkey to my account: creation options (PublicKeyCredentialCreationOptionsJSON) for navigator.credentials.create, valid 5 minutes and once. Needs a recent re-authentication (401 REAUTHENTICATION_REQUIRED): a stolen session must not add a way in',
        body: Type.Object({ name: Type.Optional(NameField) }, { additionalProperties: false }),
        response: responses({ 200: CreationOptions }),
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return passkeys.registrationOptions(request.auth!.user, request.body.name);
    },
  );

  app.post(
    '/api/auth/passkeys/registration',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary: "Finish adding a passkey: the new credential's JSON. 201 and the passkey; 400 PASSKEY_CHALLENGE_INVALID (expired, used, another account's), 400 PASSKEY_REGISTRATION_FAILED (another origin, a bad attestation)",
        body: RegistrationCredential,
        response: responses({ 201: Type.Object({ passkey: PasskeyBody }) }),
      },
    },
    async (request, reply) => {
      const row = await passkeys.register(request.auth!.user, request.body as unknown as RegistrationResponseJSON, clientOf(request));
      return reply.code(201).send({ passkey: passkeyJson(row) });
    },
  );

  app.post(
    '/api/auth/passkeys/authentication/options',
    {
      schema: {
        tags: ['auth'],
        summary:
          "Start signing in with a passkey: request options (PublicKeyCredentialRequestOptionsJSON), valid 5 minutes and once. With {}: username-less (the browser offers its discoverable passkeys, autofill included). With a phone number: that account's passkeys are named (for security keys that keep no record); a number without passkeys gets options all the same",
        body: Type.Object({ phone: Type.Optional(PhoneField) }, { additionalProperties: false }),
        response: responses({ 200: RequestOptions }),
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return passkeys.authenticationOptions(request.body.phone, clientOf(request));
    },
  );

  app.post(
    '/api/auth/passkeys/authentication',
    {
      schema: {
        tags: ['auth'],
        summary:
          "Sign in with a passkey: the assertion's JSON. 200 and a session, like a password sign-in; a passkey whose authenticator verified its user counts as two factors. 401 PASSKEY_INVALID (unknown or deleted passkey, a bad signature, another origin), 400 PASSKEY_CHALLENGE_INVALID (expired or replayed), 401 TWO_FACTOR_REQUIRED (no user verification and two-factor sign-in on)",
        body: AuthenticationCredential,
        response: responses({ 200: UserEnvelope }),
      },
    },
    async (request, reply) => {
      const signedIn = await passkeys.authenticate(request.body as unknown as AuthenticationResponseJSON, clientOf(request));
      setSignedInCookies(request, reply, cookie, knownDevices, { token: signedIn.token, phone: signedIn.user.phone });
      return { user: publicUser(signedIn.user) };
    },
  );

  app.post(
    '/api/auth/passkeys/reauthentication/options',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary: "Start confirming it is still you with one of my passkeys (instead of POST /api/auth/reauth): request options naming my passkeys, valid 5 minutes and once; 404 PASSKEY_NOT_FOUND when the account has none",
        body: Type.Object({}, { additionalProperties: false }),
        response: responses({ 200: RequestOptions }),
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return passkeys.reauthenticationOptions(request.auth!.user, clientOf(request));
    },
  );

  app.post(
    '/api/auth/passkeys/reauthentication',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary:
          "Confirm it is still you with one of my passkeys: the assertion's JSON. Renews this session's proof for sensitive actions (REAUTH_MAX_AGE_SECONDS); a passkey whose authenticator verified the user also gives the session the second factor the console needs. 401 PASSKEY_INVALID, 400 PASSKEY_CHALLENGE_INVALID",
        body: AuthenticationCredential,
        response: responses({ 200: Type.Object({ factor: Type.Literal('passkey'), user_verified: Type.Boolean(), authenticated_at: Type.String({ format: 'date-time' }) }) }),
      },
    },
    async (request) => {
      const { user, session } = request.auth!;
      const { userVerified } = await passkeys.reauthenticate(user, session.id, request.body as unknown as AuthenticationResponseJSON, clientOf(request));
      return { factor: 'passkey' as const, user_verified: userVerified, authenticated_at: new Date().toISOString() };
    },
  );

  app.get(
    '/api/auth/passkeys',
    { preHandler: requireSession, schema: { tags: ['auth'], summary: 'My passkeys, oldest first', response: responses({ 200: Type.Object({ passkeys: Type.Array(PasskeyBody) }) }) } },
    async (request) => ({ passkeys: (await passkeys.list(request.auth!.user.id)).map(passkeyJson) }),
  );

  app.patch(
    '/api/auth/passkeys/:id',
    {
      preHandler: requireSession,
      schema: {
        tags: ['auth'],
        summary: 'Rename one of my passkeys; 404 PASSKEY_NOT_FOUND when it is not mine',
        params: Id,
        body: Type.Object({ name: NameField }, { additionalProperties: false }),
        response: responses({ 200: Type.Object({ passkey: PasskeyBody }) }),
      },
    },
    async (request) => ({ passkey: passkeyJson(await passkeys.rename(request.auth!.user.id, request.params.id, request.body.name)) }),
  );

  app.delete(
    '/api/auth/passkeys/:id',
    {
      preHandler: [requireSession, requireRecentAuthentication],
      schema: {
        tags: ['auth'],
        summary: 'Delete one of my passkeys: it no longer signs in. Needs a recent re-authentication (401 REAUTHENTICATION_REQUIRED); 404 PASSKEY_NOT_FOUND when it is not mine',
        params: Id,
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await passkeys.remove(request.auth!.user.id, request.params.id, clientOf(request));
      return reply.code(204).send(null);
    },
  );
};
