// Signing in through an upstream provider, end to end over real HTTP: Gatehouse listening on a loopback
// port, the WeChat stand-in as the provider, and a cookie-keeping client that follows redirects the way
// a browser does. The first sign-in of an unknown identity proves a phone by SMS and links or
// registers; later ones sign straight in; the negative cases (state replayed, forged or from another
// browser, the provider refusing or not answering, a disabled account, an identity linked elsewhere)
// end on a page with a stable code and create nothing. A second app on the same database and store
// stands in for another worker: a flow started on one finishes on the other. On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { adminSession, authenticatorCode, smsCode, startTaskConsumer, TEST_PASSWORD, uniquePhone, type TestApp } from '../helpers/app.js';
import { CookieJar, listeningTestApp } from '../helpers/oidc.js';
import { freePort } from '../helpers/cluster.js';
import { buildApp } from '../../src/app.js';
import { TEST_SECRET } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { unmet } from '../helpers/requirements.js';
import { startWeChatStandIn, type WeChatStandIn, type WeChatUser } from '../helpers/upstream/wechat-stand-in.js';
import type { TaskConsumer } from '../../src/tasks/types.js';

let serial = 0;
/** A WeChat person no test has seen: their own openid and unionid. */
function newWeChatUser(nickname = '王老师', withUnionid = true): WeChatUser {
  serial++;
  return { openid: `o-${serial}-${process.pid}`, ...(withUnionid ? { unionid: `u-${serial}-${process.pid}` } : {}), nickname, headimgurl: `https://thirdwx.qlogo.cn/${serial}/132` };
}

for (const dialect of ['sqlite', 'postgres'] as const) describe(`signing in through a provider (WeChat stand-in, ${dialect})`, { skip: dialect === 'postgres' ? await unmet('postgres') : false }, () => {
  let t: TestApp;
  let database: TestDatabase | undefined;
  let issuer: string;
  let other: { app: FastifyInstance; origin: string };
  let wechat: WeChatStandIn;
  let consumer: TaskConsumer;
  let admin: { cookie: string };

  before(async () => {
    database = dialect === 'postgres' ? await createTestDatabase('federation_flow') : undefined;
    ({ t, issuer } = await listeningTestApp({ SIGN_IN_PROVIDER_TIMEOUT_SECONDS: '1', ...(database ? { DATABASE_URL: database.url } : {}) }));
    consumer = startTaskConsumer(t);
    // Another worker: its own app on the same database and shared store, listening on its own port.
    const port = await freePort();
    const app = await buildApp({ config: t.config, database: t.database, kv: t.kv, secret: TEST_SECRET, logger: false });
    await app.listen({ port, host: '127.0.0.1' });
    other = { app, origin: `http://127.0.0.1:${port}` };
    wechat = await startWeChatStandIn({ user: newWeChatUser() });
    admin = await adminSession(t);
    for (const name of ['wechat', 'wechat_mp']) {
      const res = await t.app.inject({
        method: 'PUT',
        url: `/api/admin/sign-in-providers/${name}`,
        headers: { cookie: admin.cookie },
        payload: { app_id: wechat.appId, app_secret: wechat.appSecret, authorize_url: wechat.url, api_url: wechat.url },
      });
      assert.equal(res.statusCode, 200, res.body);
    }
  });
  after(async () => {
    await consumer?.stop(1_000);
    await other?.app.close();
    await wechat?.close();
    await t?.close();
    await database?.drop();
  });

  /**
   * A browser's trip: Gatehouse's start (on `startOrigin`), the provider's page, Gatehouse's callback
   * (on `callbackOrigin`, as if another worker answered it). Returns where Gatehouse finally sends the browser.
   */
  async function signInThrough(jar: CookieJar, options: { provider?: string; returnTo?: string; startOrigin?: string; callbackOrigin?: string; start?: string } = {}) {
    const provider = options.provider ?? 'wechat';
    let url = options.start ?? `${options.startOrigin ?? issuer}/api/auth/providers/${provider}/start${options.returnTo ? `?return_to=${encodeURIComponent(options.returnTo)}` : ''}`;
    const trail: string[] = [];
    for (let i = 0; i < 6; i++) {
      const here = new URL(url);
      const ours = here.origin === issuer || here.origin === other.origin;
      const response = await fetch(url, { redirect: 'manual', headers: ours ? { cookie: jar.header() } : {}, signal: AbortSignal.timeout(10_000) });
      if (ours) jar.take(response);
      const location = response.headers.get('location');
      await response.arrayBuffer();
      if (response.status !== 302 || !location) return { status: response.status, url, trail };
      let next = new URL(location, url);
      // The provider sends the browser to the registered callback; the test may deliver it to the other worker.
      if (options.callbackOrigin && next.pathname.endsWith('/callback') && next.origin === issuer) next = new URL(`${next.pathname}${next.search}`, options.callbackOrigin);
      trail.push(next.toString());
      // Back on a Gatehouse page: where the browser lands.
      if ((next.origin === issuer || next.origin === other.origin) && !next.pathname.startsWith('/api/')) return { status: 302, url: next.toString(), landed: next, trail };
      url = next.toString();
    }
    throw new Error(`too many redirects: ${trail.join(' → ')}`);
  }

  const api = (jar: CookieJar, method: string, path: string, body?: unknown, origin = issuer) =>
    fetch(`${origin}${path}`, { method, headers: { cookie: jar.header(), ...(body === undefined ? {} : { 'content-type': 'application/json' }), origin }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }).then(async (response) => {
      jar.take(response);
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
    });

  /** SMS code of purpose link_identity, sent with the pending sign-in's cookie, read from the outbox. */
  const linkingCode = (jar: CookieJar, phone: string) => smsCode(t, phone, 'link_identity', { cookie: jar.header() });

  async function registeredAccount(options: { status?: 'active' | 'disabled' } = {}) {
    const phone = uniquePhone();
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { phone, password: TEST_PASSWORD, name: '李老师', invitation_code: t.invitationCode, captcha_id: await captchaId('register'), captcha: 'TEST' } });
    assert.equal(res.statusCode, 201, res.body);
    const id = res.json().user.id as number;
    if (options.status) await t.database.db.updateTable('users').set({ status: options.status }).where('id', '=', id).execute();
    return { id, phone, e164: res.json().user.phone as string };
  }
  async function captchaId(purpose: string) {
    return (await t.app.inject({ method: 'GET', url: `/api/auth/captcha/generate?purpose=${purpose}` })).json().captcha_id as string;
  }
  const identitiesOf = (userId: number) => t.database.db.selectFrom('identities').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  const sessionOf = async (jar: CookieJar) => {
    const me = await api(jar, 'GET', '/api/auth/me');
    return me;
  };
  const auditOf = (event: string) => t.database.db.selectFrom('audit_events').selectAll().where('event', '=', event).orderBy('id', 'desc').execute();

  it('a first sign-in proves a phone by SMS and links the identity to that number\'s account; the next one signs straight in, on either worker; the session says it came through a provider', async () => {
    const account = await registeredAccount();
    const person = newWeChatUser('李老师的微信');
    wechat.setUser(person);
    const jar = new CookieJar();
    // Started on one worker, back on the other: the state lives in the shared store.
    const first = await signInThrough(jar, { returnTo: '/account?tab=apps', callbackOrigin: other.origin });
    assert.equal(first.landed?.pathname, '/sign-in/continue', first.trail.join(' → '));
    const pending = await api(jar, 'GET', '/api/auth/providers/pending');
    assert.equal(pending.status, 200);
    assert.equal(pending.body.step, 'phone');
    assert.equal(pending.body.display_name, '李老师的微信');
    assert.equal(pending.body.provider, 'wechat');
    assert.equal((await sessionOf(jar)).status, 401, 'not signed in before the phone is proven');

    const code = await linkingCode(jar, account.phone);
    const proven = await api(jar, 'POST', '/api/auth/providers/pending/phone', { phone: account.phone, code });
    assert.equal(proven.status, 200, JSON.stringify(proven.body));
    assert.equal(proven.body.signed_in, true);
    assert.equal(proven.body.user.id, account.id);
    assert.equal(proven.body.return_to, '/account?tab=apps');
    assert.equal((await sessionOf(jar)).body.user.id, account.id, 'signed in');
    const linked = await identitiesOf(account.id);
    assert.deepEqual(linked.map((row) => [row.provider, row.subject]), [['wechat', person.unionid]], 'keyed by the unionid');
    assert.equal((await api(jar, 'GET', '/api/auth/providers/pending')).status, 404, 'the pending sign-in is over');

    // Signed out, the same WeChat signs straight in, to the return_to.
    const fresh = new CookieJar();
    const again = await signInThrough(fresh, { returnTo: '/account?x=1', startOrigin: other.origin, callbackOrigin: issuer });
    assert.equal(again.landed?.pathname + again.landed!.search, '/account?x=1');
    assert.equal((await sessionOf(fresh)).body.user.id, account.id);
    assert.ok(fresh.has('gatehouse_device'), 'the browser is known to the account from now on (a stranger\'s lockout does not keep it out)');
    const session = await t.database.db.selectFrom('sessions').select(['federated_at', 'password_at', 'sms_at']).where('user_id', '=', account.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.ok(session.federated_at !== null && session.password_at === null && session.sms_at === null, 'the session records a sign-in through a provider');
    const ok = (await auditOf('login.ok')).find((row) => row.target === `user:${account.id}`);
    assert.deepEqual(JSON.parse(ok!.detail!), { method: 'federated', provider: 'wechat' });
    const linkEvent = (await auditOf('identity.linked')).find((row) => row.target === `user:${account.id}`);
    assert.equal(JSON.parse(linkEvent!.detail!).via, 'sms');
  });

  it('an unknown identity with a new phone registers: an invitation code is needed (no password), unless the provider is bound to an organization', async () => {
    const person = newWeChatUser('新老师');
    wechat.setUser(person);
    const jar = new CookieJar();
    assert.equal((await signInThrough(jar)).landed?.pathname, '/sign-in/continue');
    const phone = uniquePhone();
    const proven = await api(jar, 'POST', '/api/auth/providers/pending/phone', { phone, code: await linkingCode(jar, phone) });
    assert.equal(proven.status, 200, JSON.stringify(proven.body));
    assert.deepEqual(proven.body, { signed_in: false, step: 'register', invitation_code_required: true, organization_name: null });
    const view = await api(jar, 'GET', '/api/auth/providers/pending');
    assert.equal(view.body.step, 'register');
    assert.match(view.body.phone, /\*/, 'the proven number, masked');

    const without = await api(jar, 'POST', '/api/auth/providers/pending/register', { name: '新老师' });
    assert.equal(without.status, 400);
    assert.equal(without.body.error.code, 'INVITATION_CODE_REQUIRED');
    const wrong = await api(jar, 'POST', '/api/auth/providers/pending/register', { name: '新老师', invitation_code: 'NOSUCHCODE' });
    assert.equal(wrong.body.error.code, 'INVALID_INVITATION_CODE');
    const registered = await api(jar, 'POST', '/api/auth/providers/pending/register', { name: '新老师', invitation_code: t.invitationCode });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const user = await t.database.db.selectFrom('users').selectAll().where('id', '=', registered.body.user.id).executeTakeFirstOrThrow();
    assert.equal(user.password_hash, null, 'no password: the owner may set one');
    assert.ok(user.phone_verified_at !== null, 'the SMS code proved the number');
    assert.deepEqual((await identitiesOf(user.id)).map((row) => row.subject), [person.unionid]);
    assert.equal((await sessionOf(jar)).body.user.id, user.id);
    // The account's only way in: unlinking it is refused.
    const [identity] = await identitiesOf(user.id);
    const unlink = await api(jar, 'DELETE', `/api/account/identities/${identity!.id}`);
    assert.equal(unlink.body.error.code, 'LAST_SIGN_IN_METHOD');

    // Bound to the organization: no invitation code asked.
    const org = await t.database.db.selectFrom('organizations').select(['id', 'name']).orderBy('id').executeTakeFirstOrThrow();
    const bind = await t.app.inject({ method: 'PUT', url: '/api/admin/sign-in-providers/wechat', headers: { cookie: admin.cookie }, payload: { app_id: wechat.appId, authorize_url: wechat.url, api_url: wechat.url, bound_organization_id: org.id } });
    assert.equal(bind.statusCode, 200, bind.body);
    try {
      wechat.setUser(newWeChatUser('绑定机构的老师'));
      const bound = new CookieJar();
      await signInThrough(bound);
      const boundPhone = uniquePhone();
      const step = await api(bound, 'POST', '/api/auth/providers/pending/phone', { phone: boundPhone, code: await linkingCode(bound, boundPhone) });
      assert.deepEqual(step.body, { signed_in: false, step: 'register', invitation_code_required: false, organization_name: org.name });
      const created = await api(bound, 'POST', '/api/auth/providers/pending/register', { name: '绑定机构的老师' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.user.organization_id ?? created.body.user.organization?.id ?? org.id, org.id);
    } finally {
      await t.app.inject({ method: 'PUT', url: '/api/admin/sign-in-providers/wechat', headers: { cookie: admin.cookie }, payload: { app_id: wechat.appId, authorize_url: wechat.url, api_url: wechat.url, bound_organization_id: null } });
    }
  });

  it('a linking SMS code is sent only to a browser with a pending sign-in, and a wrong code links nothing', async () => {
    const phone = uniquePhone();
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/sms/send', payload: { phone, purpose: 'link_identity', captcha_id: await captchaId('sms'), captcha: 'TEST' } });
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json().error.code, 'SIGN_IN_PENDING_NOT_FOUND');

    const account = await registeredAccount();
    wechat.setUser(newWeChatUser());
    const jar = new CookieJar();
    await signInThrough(jar);
    await linkingCode(jar, account.phone);
    const wrong = await api(jar, 'POST', '/api/auth/providers/pending/phone', { phone: account.phone, code: '000000' });
    assert.equal(wrong.body.error.code, 'INVALID_SMS_CODE');
    assert.deepEqual(await identitiesOf(account.id), [], 'nothing linked');
    assert.equal((await sessionOf(jar)).status, 401);
  });

  it('a replayed callback, a forged state and a callback delivered to another browser are refused (UPSTREAM_STATE_INVALID), and sign no one in', async () => {
    await registeredAccount();
    wechat.setUser(newWeChatUser());
    const jar = new CookieJar();
    const first = await signInThrough(jar);
    const callback = first.trail.find((url) => url.includes('/callback'))!;
    // The same callback again (a replay, or a race on two workers): its state was taken.
    const replay = await signInThrough(jar, { start: callback });
    assert.equal(replay.landed?.pathname, '/login');
    assert.equal(replay.landed?.searchParams.get('sign_in_error'), 'UPSTREAM_STATE_INVALID');
    assert.equal(replay.landed?.searchParams.get('provider'), 'wechat');

    // Login CSRF: an attacker's own started sign-in, its callback sent to the victim's browser.
    const attacker = new CookieJar();
    const started = await fetch(`${issuer}/api/auth/providers/wechat/start`, { redirect: 'manual' });
    attacker.take(started);
    const page = await fetch(started.headers.get('location')!, { redirect: 'manual' });
    const victim = new CookieJar();
    const planted = await signInThrough(victim, { start: page.headers.get('location')! });
    assert.equal(planted.landed?.searchParams.get('sign_in_error'), 'UPSTREAM_STATE_INVALID');
    assert.equal((await sessionOf(victim)).status, 401);

    const forged = await signInThrough(new CookieJar(), { start: `${issuer}/api/auth/providers/wechat/callback?code=abc&state=signForged` });
    assert.equal(forged.landed?.searchParams.get('sign_in_error'), 'UPSTREAM_STATE_INVALID');
    // A state of one provider brought back to another's callback.
    const other = new CookieJar();
    const start = await fetch(`${issuer}/api/auth/providers/wechat/start`, { redirect: 'manual' });
    other.take(start);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const crossed = await signInThrough(other, { start: `${issuer}/api/auth/providers/wechat_mp/callback?code=abc&state=${state}` });
    assert.equal(crossed.landed?.searchParams.get('sign_in_error'), 'UPSTREAM_STATE_INVALID');
  });

  it('the provider refusing, cancelling or not answering ends on the login page with its code, and creates nothing', async () => {
    const before = await t.database.db.selectFrom('identities').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    wechat.setCancelled(true);
    try {
      const cancelled = await signInThrough(new CookieJar());
      assert.equal(cancelled.landed?.searchParams.get('sign_in_error'), 'UPSTREAM_DENIED');
    } finally {
      wechat.setCancelled(false);
    }
    // WeChat's "code been used" (40163), as when the code was exchanged already.
    wechat.answerNext('/sns/oauth2/access_token', 200, { errcode: 40163, errmsg: 'code been used' });
    const used = await signInThrough(new CookieJar());
    assert.equal(used.landed?.searchParams.get('sign_in_error'), 'UPSTREAM_CODE_INVALID');

    // Down after its page sent the browser back: the token call never answers.
    const jar = new CookieJar();
    const started = await fetch(`${issuer}/api/auth/providers/wechat/start`, { redirect: 'manual' });
    jar.take(started);
    const page = await fetch(started.headers.get('location')!, { redirect: 'manual' });
    wechat.setOutage('hang');
    try {
      const startedAt = Date.now();
      const down = await signInThrough(jar, { start: page.headers.get('location')! });
      assert.equal(down.landed?.searchParams.get('sign_in_error'), 'UPSTREAM_UNAVAILABLE');
      assert.ok(Date.now() - startedAt < 5_000, 'the timeout (1 s here) ends the wait');
    } finally {
      wechat.setOutage('none');
    }
    const afterwards = await t.database.db.selectFrom('identities').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(afterwards.n), Number(before.n), 'no identity was created');
    const failures = (await auditOf('login.failed')).map((row) => JSON.parse(row.detail!)).filter((detail) => detail.method === 'federated');
    for (const reason of ['UPSTREAM_DENIED', 'UPSTREAM_CODE_INVALID', 'UPSTREAM_UNAVAILABLE']) assert.ok(failures.some((detail) => detail.reason === reason), `${reason} is audited`);
  });

  it('a disabled account cannot sign in through its linked identity; a disabled provider is not offered', async () => {
    const account = await registeredAccount();
    const person = newWeChatUser();
    await t.database.db.insertInto('identities').values({ provider: 'wechat', subject: person.unionid!, user_id: account.id, display_name: null, avatar_url: null, details: '{}', created_at: Date.now(), last_sign_in_at: null }).execute();
    await t.database.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', account.id).execute();
    wechat.setUser(person);
    const refused = await signInThrough(new CookieJar());
    assert.equal(refused.landed?.searchParams.get('sign_in_error'), 'ACCOUNT_DISABLED');

    const off = await t.app.inject({ method: 'POST', url: '/api/admin/sign-in-providers/wechat_mp/disable', headers: { cookie: admin.cookie } });
    assert.equal(off.statusCode, 200);
    try {
      const listed = await fetch(`${issuer}/api/auth/providers`).then((r) => r.json() as Promise<{ providers: Array<{ name: string }> }>);
      assert.deepEqual(listed.providers.map((p) => p.name), ['wechat']);
      const notOffered = await signInThrough(new CookieJar(), { provider: 'wechat_mp' });
      assert.equal(notOffered.landed?.searchParams.get('sign_in_error'), 'SIGN_IN_PROVIDER_NOT_FOUND');
    } finally {
      await t.app.inject({ method: 'POST', url: '/api/admin/sign-in-providers/wechat_mp/enable', headers: { cookie: admin.cookie } });
    }
  });

  it('an account with an authenticator app still gives its code after the provider; the session then has both', async () => {
    const totp = await adminSession(t, { role: 'admin' });
    const person = newWeChatUser();
    await t.database.db.insertInto('identities').values({ provider: 'wechat', subject: person.unionid!, user_id: totp.userId, display_name: null, avatar_url: null, details: '{}', created_at: Date.now(), last_sign_in_at: null }).execute();
    wechat.setUser(person);
    const jar = new CookieJar();
    const back = await signInThrough(jar, { returnTo: '/admin' });
    assert.equal(back.landed?.pathname, '/sign-in/continue');
    const pending = await api(jar, 'GET', '/api/auth/providers/pending');
    assert.equal(pending.body.step, 'two_factor');
    assert.equal((await sessionOf(jar)).status, 401, 'no session before the second factor');
    const done = await api(jar, 'POST', '/api/auth/login/2fa', { challenge: pending.body.challenge, code: authenticatorCode(totp.totpSecret!, 1) });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const session = await t.database.db.selectFrom('sessions').select(['federated_at', 'second_factor_at']).where('user_id', '=', totp.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.ok(session.federated_at !== null && session.second_factor_at !== null);
    // The administrator's second-factor rule is met: the console's API answers.
    assert.equal((await api(jar, 'GET', '/api/admin/sign-in-providers')).status, 200);
  });

  it('a signed-in user links a WeChat from the account page (with a recent proof of who they are); one linked to another account is refused; the in-app login of the same person meets it by unionid', async () => {
    const account = await registeredAccount();
    const jar = new CookieJar();
    const signedIn = await api(jar, 'POST', '/api/auth/login', { phone: account.phone, password: TEST_PASSWORD, captcha_id: await captchaId('login'), captcha: 'TEST' });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const person = newWeChatUser('我的微信');
    wechat.setUser(person);
    // A session whose sign-in is long past must prove itself first: a stolen cookie adds no way in.
    const session = await t.database.db.selectFrom('sessions').select(['id', 'password_at']).where('user_id', '=', account.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
    await t.database.db.updateTable('sessions').set({ password_at: Date.now() - 24 * 3600_000 }).where('id', '=', session.id).execute();
    const stale = await api(jar, 'POST', '/api/account/identities/wechat/link', { return_to: '/account' });
    assert.equal(stale.body.error?.code, 'REAUTHENTICATION_REQUIRED');
    await t.database.db.updateTable('sessions').set({ password_at: session.password_at }).where('id', '=', session.id).execute();
    const asked = await api(jar, 'POST', '/api/account/identities/wechat/link', { return_to: '/account' });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
    const linked = await signInThrough(jar, { start: asked.body.authorize_url });
    assert.equal(linked.landed?.pathname, '/account');
    assert.equal(linked.landed?.searchParams.get('linked'), 'wechat');
    assert.deepEqual((await identitiesOf(account.id)).map((row) => row.subject), [person.unionid]);

    // The same WeChat, linked again from someone else's account: refused, back on the account page.
    const someone = await registeredAccount();
    const theirs = new CookieJar();
    await api(theirs, 'POST', '/api/auth/login', { phone: someone.phone, password: TEST_PASSWORD, captcha_id: await captchaId('login'), captcha: 'TEST' });
    const again = await api(theirs, 'POST', '/api/account/identities/wechat/link', {});
    const taken = await signInThrough(theirs, { start: again.body.authorize_url });
    assert.equal(taken.landed?.pathname, '/account');
    assert.equal(taken.landed?.searchParams.get('link_error'), 'IDENTITY_TAKEN');
    assert.deepEqual(await identitiesOf(someone.id), []);

    // Inside WeChat (the Official Account's login, one unionid per person): the same account.
    const inApp = new CookieJar();
    const landed = await signInThrough(inApp, { provider: 'wechat_mp' });
    assert.equal(landed.landed?.pathname, '/account', landed.trail.join(' → '));
    assert.equal((await sessionOf(inApp)).body.user.id, account.id);
    assert.deepEqual((await identitiesOf(account.id)).map((row) => row.provider), ['wechat', 'wechat_mp']);
  });

  it('return_to stays on this site: another host, or a scheme-relative path, lands on the account page', async () => {
    const account = await registeredAccount();
    const person = newWeChatUser();
    await t.database.db.insertInto('identities').values({ provider: 'wechat', subject: person.unionid!, user_id: account.id, display_name: null, avatar_url: null, details: '{}', created_at: Date.now(), last_sign_in_at: null }).execute();
    wechat.setUser(person);
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const res = await signInThrough(new CookieJar(), { returnTo });
      assert.equal(res.landed?.origin, issuer, returnTo);
      assert.equal(res.landed?.pathname, '/account', returnTo);
    }
  });
});
