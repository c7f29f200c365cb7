// Passkeys over the HTTP API, driven by a software authenticator speaking WebAuthn's JSON forms:
// adding one (after a re-authentication), signing in username-less and by phone number, and what
// must be refused — a replayed assertion, another origin, a deleted passkey, a challenge used twice
// or issued for another account. A passkey with user verification is two factors: it satisfies the
// console's second-factor rule and lifts a lockout. A second app on the same database and store stands
// in for another worker: a ceremony started on one finishes on the other. On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminSession, anotherWorker, assertRefused, createTestApp, login, register, sessionCookie, TEST_PASSWORD, uniquePhone, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { unmet } from '../helpers/requirements.js';
import { SoftAuthenticator } from '../helpers/webauthn.js';
import { ACR, authenticationOf } from '../../src/oidc/claims.js';
import { relyingPartyOf } from '../../src/passkeys/service.js';
import type { SessionRow } from '../../src/db/schema.js';

const ORIGIN = 'http://localhost:3000';

for (const dialect of ['sqlite', 'postgres'] as const) describe(`passkeys (${dialect})`, { skip: dialect === 'postgres' ? await unmet('postgres') : false }, () => {
  let t: TestApp;
  let other: TestApp;
  let database: TestDatabase | undefined;

  before(async () => {
    database = dialect === 'postgres' ? await createTestDatabase('passkeys') : undefined;
    t = await createTestApp({ PUBLIC_URL: ORIGIN, RATE_LIMIT_LOGIN_PER_ACCOUNT_IP: '100/300', ...(database ? { DATABASE_URL: database.url } : {}) });
    other = await anotherWorker(t);
  });
  after(async () => {
    await other?.app.close();
    await t?.close();
    await database?.drop();
  });

  const post = (app: TestApp, url: string, payload?: object, cookie?: string) =>
    app.app.inject({ method: 'POST', url, headers: cookie ? { cookie } : {}, ...(payload === undefined ? {} : { payload }) });

  /** A new account with one passkey on `authenticator`; its session cookie, phone and id. */
  async function accountWithPasskey(authenticator: SoftAuthenticator, name?: string) {
    const phone = uniquePhone();
    const res = await register(t, { phone });
    assert.equal(res.statusCode, 201, res.body);
    const cookie = sessionCookie(res);
    const options = await post(t, '/api/auth/passkeys/registration/options', name ? { name } : {}, cookie);
    assert.equal(options.statusCode, 200, options.body);
    // Finished on the other worker: the challenge lives in the shared store.
    const added = await post(other, '/api/auth/passkeys/registration', authenticator.create(options.json()), cookie);
    assert.equal(added.statusCode, 201, added.body);
    return { cookie, phone, userId: res.json().user.id as number, passkey: added.json().passkey as { id: number; name: string } };
  }

  async function signInOptions(app: TestApp, body: object = {}) {
    const res = await post(app, '/api/auth/passkeys/authentication/options', body);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { challenge: string; rpId: string; allowCredentials?: { id: string }[]; userVerification: string };
  }

  it('adds a passkey, lists and renames it; the options are WebAuthn JSON for PUBLIC_URL', async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const phone = uniquePhone();
    const cookie = sessionCookie(await register(t, { phone }));
    const options = (await post(t, '/api/auth/passkeys/registration/options', { name: 'Work laptop' }, cookie)).json();
    assert.equal(options.rp.id, 'localhost');
    assert.equal(options.user.name, (await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).json().user.phone);
    assert.equal(options.attestation, 'none');
    assert.equal(options.authenticatorSelection.residentKey, 'preferred');
    const added = await post(t, '/api/auth/passkeys/registration', authenticator.create(options), cookie);
    assert.equal(added.statusCode, 201, added.body);
    assert.equal(added.json().passkey.name, 'Work laptop');
    const listed = (await t.app.inject({ method: 'GET', url: '/api/auth/passkeys', headers: { cookie } })).json().passkeys;
    assert.equal(listed.length, 1);
    assert.deepEqual(listed[0].transports, ['internal']);
    assert.equal(listed[0].last_used_at, null);
    const renamed = await t.app.inject({ method: 'PATCH', url: `/api/auth/passkeys/${listed[0].id}`, headers: { cookie }, payload: { name: 'Phone' } });
    assert.equal(renamed.json().passkey.name, 'Phone');
    const download = (await t.app.inject({ method: 'GET', url: '/api/auth/account/data', headers: { cookie } })).json();
    assert.deepEqual(download.passkeys.map((p: { name: string }) => p.name), ['Phone'], 'the personal data download lists it');
    // The next one's options exclude it, so the authenticator does not make a second one.
    const again = (await post(t, '/api/auth/passkeys/registration/options', {}, cookie)).json();
    assert.deepEqual(again.excludeCredentials.map((c: { id: string }) => c.id), [authenticator.credentials[0]!.id]);
    // Its challenge, used twice, is refused the second time.
    const credential = authenticator.create(again);
    assert.equal((await post(t, '/api/auth/passkeys/registration', credential, cookie)).statusCode, 201);
    assertRefused(await post(t, '/api/auth/passkeys/registration', credential, cookie), 400, 'PASSKEY_CHALLENGE_INVALID', 'a registration replayed');
  });

  it("refuses a registration finished by another account, from another origin, or without a recent re-authentication", async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const mine = sessionCookie(await register(t));
    const theirs = sessionCookie(await register(t));
    const options = (await post(t, '/api/auth/passkeys/registration/options', {}, mine)).json();
    assertRefused(await post(t, '/api/auth/passkeys/registration', authenticator.create(options), theirs), 400, 'PASSKEY_CHALLENGE_INVALID', "another account's challenge");
    const fresh = (await post(t, '/api/auth/passkeys/registration/options', {}, mine)).json();
    assertRefused(await post(t, '/api/auth/passkeys/registration', authenticator.create(fresh, { origin: 'https://evil.example' }), mine), 400, 'PASSKEY_REGISTRATION_FAILED', 'another origin');
    assertRefused(await post(t, '/api/auth/passkeys/registration/options', {}), 401, 'UNAUTHENTICATED', 'signed out');
    // A session whose last proof is old must re-authenticate first.
    await t.database.db.updateTable('sessions').set({ password_at: Date.now() - 86_400_000 }).execute();
    assertRefused(await post(t, '/api/auth/passkeys/registration/options', {}, mine), 401, 'REAUTHENTICATION_REQUIRED', 'an old session');
  });

  it('signs in username-less with a two-factor session; the counter and last use are stored; a replayed assertion is refused', async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN, backedUp: true });
    const { userId } = await accountWithPasskey(authenticator);
    const options = await signInOptions(t);
    assert.equal(options.allowCredentials, undefined, 'username-less: no credentials named');
    assert.equal(options.rpId, 'localhost');
    const assertion = authenticator.get(options);
    // Started on one worker, finished on the other.
    const res = await post(other, '/api/auth/passkeys/authentication', assertion);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().user.id, userId);
    const cookie = sessionCookie(res);
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    assert.equal(me.statusCode, 200);
    const session = await t.database.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.ok(session.passkey_at !== null && session.passkey_verified_at !== null, 'a user-verified passkey: both recorded');
    assert.equal(session.password_at, null);
    const row = await t.database.db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow();
    assert.equal(Number(row.counter), 1);
    assert.equal(row.backed_up, 1);
    assert.equal(row.device_type, 'multiDevice');
    assert.ok(row.last_used_at !== null);
    const audit = await t.database.db.selectFrom('audit_events').selectAll().where('event', '=', 'login.ok').where('target', '=', `user:${userId}`).orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(audit.detail!), { method: 'passkey', passkey_id: row.id, user_verified: true });
    assertRefused(await post(t, '/api/auth/passkeys/authentication', assertion), 400, 'PASSKEY_CHALLENGE_INVALID', 'the same assertion again');
  });

  it('signs in by phone number with the passkeys named; a number without passkeys gets the same shape of answer', async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const { phone, userId } = await accountWithPasskey(authenticator);
    const options = await signInOptions(t, { phone });
    assert.deepEqual(options.allowCredentials?.map((c) => c.id), [authenticator.credentials[0]!.id]);
    const res = await post(t, '/api/auth/passkeys/authentication', authenticator.get(options));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().user.id, userId);

    const nobody = uniquePhone();
    const first = await signInOptions(t, { phone: nobody });
    const second = await signInOptions(t, { phone: nobody });
    assert.equal(first.allowCredentials?.length, 1);
    assert.deepEqual(first.allowCredentials, second.allowCredentials, 'a stand-in, the same every time');
    assertRefused(await post(t, '/api/auth/passkeys/authentication/options', { phone: 'not a phone' }), 400, 'INVALID_PHONE', 'not a number');

    // Started for another number's account, finished with this passkey: refused.
    const someoneElse = await signInOptions(t, { phone: nobody });
    assertRefused(await post(t, '/api/auth/passkeys/authentication', authenticator.get(someoneElse, { credential: authenticator.credentials[0] })), 401, 'PASSKEY_INVALID', "another number's sign-in");
  });

  it('refuses another origin and a deleted passkey', async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const { cookie, passkey } = await accountWithPasskey(authenticator);
    assertRefused(await post(t, '/api/auth/passkeys/authentication', authenticator.get(await signInOptions(t), { origin: 'https://evil.example' })), 401, 'PASSKEY_INVALID', 'another origin');
    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${passkey.id}`, headers: { cookie } });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assertRefused(await t.app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${passkey.id}`, headers: { cookie } }), 404, 'PASSKEY_NOT_FOUND', 'deleted twice');
    assertRefused(await post(t, '/api/auth/passkeys/authentication', authenticator.get(await signInOptions(t))), 401, 'PASSKEY_INVALID', 'a deleted passkey');
  });

  it("refuses another account's passkey management", async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const { passkey } = await accountWithPasskey(authenticator);
    const stranger = sessionCookie(await register(t));
    assertRefused(await t.app.inject({ method: 'PATCH', url: `/api/auth/passkeys/${passkey.id}`, headers: { cookie: stranger }, payload: { name: 'mine' } }), 404, 'PASSKEY_NOT_FOUND', 'rename');
    assertRefused(await t.app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${passkey.id}`, headers: { cookie: stranger } }), 404, 'PASSKEY_NOT_FOUND', 'delete');
  });

  it("a user-verified passkey satisfies the console's second-factor rule; an administrator with one is not asked to set up the app", async () => {
    const admin = await adminSession(t, { twoFactor: false });
    assertRefused(await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers: { cookie: admin.cookie } }), 403, 'TWO_FACTOR_SETUP_REQUIRED', 'no second factor at all');
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const options = (await post(t, '/api/auth/passkeys/registration/options', {}, admin.cookie)).json();
    assert.equal((await post(t, '/api/auth/passkeys/registration', authenticator.create(options), admin.cookie)).statusCode, 201);
    assertRefused(await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers: { cookie: admin.cookie } }), 401, 'SECOND_FACTOR_REQUIRED', 'a password session of an administrator with a passkey');
    const signedIn = await post(t, '/api/auth/passkeys/authentication', authenticator.get(await signInOptions(t)));
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    const console = await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers: { cookie: sessionCookie(signedIn) } });
    assert.equal(console.statusCode, 200, console.body);

    // Without user verification the passkey is one factor: not enough for the console.
    const signedInWithoutUv = await post(t, '/api/auth/passkeys/authentication', authenticator.get(await signInOptions(t), { userVerified: false }));
    assert.equal(signedInWithoutUv.statusCode, 200, signedInWithoutUv.body);
    assertRefused(await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers: { cookie: sessionCookie(signedInWithoutUv) } }), 401, 'SECOND_FACTOR_REQUIRED', 'a passkey without user verification');
  });

  it('confirms it is still you with a passkey: the session gains the second factor the console needs', async () => {
    const admin = await adminSession(t, { twoFactor: false });
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const created = (await post(t, '/api/auth/passkeys/registration/options', {}, admin.cookie)).json();
    assert.equal((await post(t, '/api/auth/passkeys/registration', authenticator.create(created), admin.cookie)).statusCode, 201);
    assertRefused(await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers: { cookie: admin.cookie } }), 401, 'SECOND_FACTOR_REQUIRED', 'signed in with a password');
    const options = await post(t, '/api/auth/passkeys/reauthentication/options', {}, admin.cookie);
    assert.equal(options.statusCode, 200, options.body);
    assert.deepEqual(options.json().allowCredentials.map((c: { id: string }) => c.id), [authenticator.credentials[0]!.id]);
    const assertion = authenticator.get(options.json());
    // Another account's session cannot use this ceremony.
    const stranger = sessionCookie(await register(t));
    assertRefused(await post(t, '/api/auth/passkeys/reauthentication', assertion, stranger), 400, 'PASSKEY_CHALLENGE_INVALID', "another account's ceremony");
    const again = authenticator.get((await post(t, '/api/auth/passkeys/reauthentication/options', {}, admin.cookie)).json());
    const confirmed = await post(other, '/api/auth/passkeys/reauthentication', again, admin.cookie);
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    assert.equal(confirmed.json().user_verified, true);
    const console = await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers: { cookie: admin.cookie } });
    assert.equal(console.statusCode, 200, console.body);
    assertRefused(await post(t, '/api/auth/passkeys/reauthentication/options', {}, stranger), 404, 'PASSKEY_NOT_FOUND', 'an account without passkeys');
  });

  it('a passkey without user verification asks for the authenticator code when two-factor sign-in is on', async () => {
    const admin = await adminSession(t);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN, userVerified: false });
    const options = (await post(t, '/api/auth/passkeys/registration/options', {}, admin.cookie)).json();
    assert.equal((await post(t, '/api/auth/passkeys/registration', authenticator.create(options), admin.cookie)).statusCode, 201);
    const res = await post(t, '/api/auth/passkeys/authentication', authenticator.get(await signInOptions(t)));
    const error = assertRefused(res, 401, 'TWO_FACTOR_REQUIRED', 'one factor, two-factor sign-in on');
    assert.ok(typeof error.challenge === 'string');
  });

  it("lifts a lockout strangers caused, for the owner's user-verified passkey", async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const { phone } = await accountWithPasskey(authenticator);
    let last;
    for (let i = 0; i < 6; i++) last = await login(t, phone, `wrong horse ${i}`);
    assertRefused(last!, 423, 'ACCOUNT_LOCKED', 'locked by wrong passwords');
    const res = await post(t, '/api/auth/passkeys/authentication', authenticator.get(await signInOptions(t)));
    assert.equal(res.statusCode, 200, res.body);
    const after = await login(t, phone, TEST_PASSWORD);
    assert.equal(after.statusCode, 200, `the lock is lifted: ${after.body}`);
  });
});

describe("how a passkey session is described to apps (OpenID Connect amr and acr)", () => {
  const session = (proofs: Partial<SessionRow>): SessionRow =>
    ({ password_at: null, sms_at: null, second_factor_at: null, federated_at: null, passkey_at: null, passkey_verified_at: null, ...proofs }) as SessionRow;
  it('a user-verified passkey is hwk + user: two factors', () => {
    const described = authenticationOf(session({ passkey_at: 1_700_000_000_000, passkey_verified_at: 1_700_000_000_000 }));
    assert.deepEqual(described.amr, ['hwk', 'user', 'mfa']);
    assert.equal(described.acr, ACR.twoFactors);
    assert.equal(described.authTime, 1_700_000_000);
  });
  it('a passkey without user verification is hwk alone: one factor', () => {
    const described = authenticationOf(session({ passkey_at: 1_700_000_000_000 }));
    assert.deepEqual(described.amr, ['hwk']);
    assert.equal(described.acr, ACR.oneFactor);
  });
  it('a passkey and an authenticator code: otp, hwk, mfa', () => {
    assert.deepEqual(authenticationOf(session({ passkey_at: 1, second_factor_at: 2 })).amr, ['otp', 'hwk', 'mfa']);
  });
});

describe('the relying party', () => {
  it('is PUBLIC_URL: its host name the RP id, its origin the only origin; none for an IP address, which browsers refuse as an RP id', () => {
    assert.deepEqual(relyingPartyOf('https://id.school.example/'), { id: 'id.school.example', origin: 'https://id.school.example', name: 'Gatehouse' });
    assert.deepEqual(relyingPartyOf('http://localhost:3000'), { id: 'localhost', origin: 'http://localhost:3000', name: 'Gatehouse' });
    for (const url of ['http://127.0.0.1:3000', 'https://[::1]:8443', 'https://10.0.0.5']) assert.equal(relyingPartyOf(url), undefined, url);
    assert.equal(relyingPartyOf(undefined), undefined);
  });
});
