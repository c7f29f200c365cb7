// Forward auth: the endpoints nginx (auth_request), Traefik and Caddy ask before letting a request into
// a protected application, the rules per host, the hop back after signing in (no open redirect), the
// session cookie shared by sub-domains (COOKIE_DOMAIN), and the hot path's session cache.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { encodeHeaderText } from '../../src/authz/identity-headers.js';
import { SessionFactsCache, type ResolvedSession } from '../../src/authz/session-cache.js';
import { allowedReturnUrl, loginUrl, normalizeRuleHost, originalFromForwardedHeaders } from '../../src/authz/urls.js';
import { returnToFrom } from '../../web/src/return-to.js';
import { adminSession, createTestApp, register, sessionCookie, TEST_PASSWORD, type TestApp } from '../helpers/app.js';

const PROXY = '127.0.0.1';

describe('forward auth', () => {
  let t: TestApp;
  let admin: { cookie: string; userId: number };
  let user: { cookie: string; id: number; phone: string; subject: string };
  let otherOrg: number;

  const authRequest = (url: string | undefined, cookie?: string, extra: Partial<InjectOptions> = {}) =>
    t.app.inject({ method: 'GET', url: '/api/authz/auth-request', headers: { ...(url ? { 'x-original-url': url } : {}), ...(cookie ? { cookie } : {}) }, remoteAddress: PROXY, ...extra });
  const forwardAuth = (proto: string, host: string, uri: string, cookie?: string) =>
    t.app.inject({ method: 'GET', url: '/api/authz/forward-auth', headers: { 'x-forwarded-proto': proto, 'x-forwarded-host': host, 'x-forwarded-uri': uri, ...(cookie ? { cookie } : {}) }, remoteAddress: PROXY });
  const setRule = (host: string, body: { allowed_organization_ids: number[] | null; allowed_roles: string[] | null }, cookie = admin.cookie) =>
    t.app.inject({ method: 'PUT', url: `/api/admin/forward-auth/rules/${encodeURIComponent(host)}`, headers: { cookie }, payload: body });
  const lookups = async (outcome: string) => {
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(new RegExp(`gatehouse_cache_lookups_total\\{cache="forward_auth_sessions",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  before(async () => {
    t = await createTestApp({ TRUST_PROXY: PROXY, PUBLIC_URL: 'http://id.school.test', COOKIE_DOMAIN: 'school.test' });
    admin = await adminSession(t);
    const registered = await register(t, { name: '张老师 Zhang+100%' });
    assert.equal(registered.statusCode, 201, registered.body);
    const { id, phone } = registered.json().user;
    const row = await t.database.db.selectFrom('users').select('subject').where('id', '=', id).executeTakeFirstOrThrow();
    user = { cookie: sessionCookie(registered), id, phone, subject: row.subject };
    otherOrg = (await t.app.inject({ method: 'POST', url: '/api/admin/organizations', headers: { cookie: admin.cookie }, payload: { name: '另一所学校' } })).json().organization.id;
    for (const [host, body] of [
      ['app.school.test', { allowed_organization_ids: null, allowed_roles: null }],
      ['staff.school.test', { allowed_organization_ids: null, allowed_roles: ['admin'] }],
      ['other.school.test:8443', { allowed_organization_ids: [otherOrg], allowed_roles: null }],
    ] as const) {
      const res = await setRule(host, { ...body, allowed_roles: body.allowed_roles ? [...body.allowed_roles] : null, allowed_organization_ids: body.allowed_organization_ids ? [...body.allowed_organization_ids] : null });
      assert.equal(res.statusCode, 200, res.body);
    }
  });
  after(() => t.close());

  it('lets a signed-in user through with Remote-User (the opaque subject), Remote-Name (percent-encoded) and Remote-Groups', async () => {
    for (const res of [await authRequest('https://app.school.test/grades?term=1', user.cookie), await forwardAuth('https', 'app.school.test', '/grades?term=1', user.cookie)]) {
      assert.equal(res.statusCode, 200, res.body);
      assert.match(user.subject, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(res.headers['remote-user'], user.subject);
      assert.ok(!String(res.headers['remote-user']).includes(user.phone.slice(-8)) && res.headers['remote-user'] !== String(user.id));
      assert.equal(res.headers['remote-name'], '%E5%BC%A0%E8%80%81%E5%B8%88 Zhang%2B100%25');
      assert.equal(decodeURIComponent(String(res.headers['remote-name'])), '张老师 Zhang+100%');
      assert.equal(res.headers['remote-groups'], 'org:1,role:user');
    }
    const adminPass = await authRequest('https://staff.school.test/', admin.cookie);
    assert.equal(adminPass.statusCode, 200, adminPass.body);
    assert.equal(adminPass.headers['remote-groups'], 'org:1,role:admin');
  });

  it('a repeat check is answered from memory, not the database', async () => {
    await authRequest('https://app.school.test/', user.cookie);
    const [hits, loads] = [await lookups('hit'), await lookups('load')];
    for (let i = 0; i < 5; i++) assert.equal((await authRequest('https://app.school.test/', user.cookie)).statusCode, 200);
    assert.equal(await lookups('hit'), hits + 5);
    assert.equal(await lookups('load'), loads);
  });

  it('without a live session: 401 with the login page in Location (auth-request), 302 to it (forward-auth), returning through /authz/continue', async () => {
    const original = 'https://app.school.test/grades?term=1&x=%2F';
    const expected = `http://id.school.test/login?return_to=${encodeURIComponent(`/authz/continue?rd=${encodeURIComponent(original)}`)}`;
    for (const cookie of [undefined, 'gatehouse_session=not-a-token', `gatehouse_session=${'A'.repeat(43)}`]) {
      const res = await authRequest(original, cookie);
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error.code, 'UNAUTHENTICATED');
      assert.equal(res.headers.location, expected);
      assert.equal(res.headers['remote-user'], undefined);
      const redirected = await forwardAuth('https', 'app.school.test', '/grades?term=1&x=%2F', cookie);
      assert.equal(redirected.statusCode, 302);
      assert.equal(redirected.headers.location, expected);
    }
    // The login page keeps return_to as is (a local path); /authz/continue then checks the URL again.
    const returnTo = new URL(expected).searchParams.get('return_to')!;
    const back = await t.app.inject({ method: 'GET', url: returnTo, headers: { cookie: user.cookie } });
    assert.equal(back.statusCode, 302);
    assert.equal(back.headers.location, original);
    // An http application (not loopback) is judged, but not returned to: the login page then keeps the visitor.
    assert.equal((await authRequest('http://app.school.test/', undefined)).headers.location, 'http://id.school.test/login');
  });

  it('refuses by rule (403 FORWARD_AUTH_DENIED), and every host without a rule (403 FORWARD_AUTH_NO_RULE, default deny)', async () => {
    const staff = await authRequest('https://staff.school.test/', user.cookie);
    assert.equal(staff.statusCode, 403);
    assert.equal(staff.json().error.code, 'FORWARD_AUTH_DENIED');
    assert.equal(staff.headers['remote-user'], undefined);
    const otherOrganization = await forwardAuth('https', 'other.school.test:8443', '/', user.cookie);
    assert.equal(otherOrganization.json().error.code, 'FORWARD_AUTH_DENIED');
    // The rule names a port: the same host on another port is another host.
    assert.equal((await authRequest('https://app.school.test:8443/', user.cookie)).json().error.code, 'FORWARD_AUTH_NO_RULE');
    for (const cookie of [user.cookie, admin.cookie, undefined]) {
      const unknown = await authRequest('https://wiki.school.test/', cookie);
      assert.equal(unknown.statusCode, 403);
      assert.equal(unknown.json().error.code, 'FORWARD_AUTH_NO_RULE');
      assert.match(unknown.json().error.message, /wiki\.school\.test/);
    }
    // The organization's members are let in once the rule names the organization.
    assert.equal((await setRule('other.school.test:8443', { allowed_organization_ids: [otherOrg, 1], allowed_roles: ['user'] })).statusCode, 200);
    assert.equal((await forwardAuth('https', 'other.school.test:8443', '/', user.cookie)).statusCode, 200, 'a change applies at once on the worker that made it');
  });

  it('believes the original URL only from a proxy TRUST_PROXY names, and only in the form its endpoint expects', async () => {
    const untrusted = await authRequest('https://app.school.test/', user.cookie, { remoteAddress: '203.0.113.9' });
    assert.equal(untrusted.statusCode, 403);
    assert.equal(untrusted.json().error.code, 'FORWARD_AUTH_UNTRUSTED_PROXY');
    const missing = await authRequest(undefined, user.cookie);
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error.code, 'FORWARD_AUTH_URL_MISSING');
    // forward-auth reads X-Forwarded-*, never X-Original-URL (a header Traefik and Caddy pass on from the client).
    const wrongForm = await t.app.inject({ method: 'GET', url: '/api/authz/forward-auth', headers: { 'x-original-url': 'https://app.school.test/', cookie: user.cookie }, remoteAddress: PROXY });
    assert.equal(wrongForm.json().error.code, 'FORWARD_AUTH_URL_MISSING');
    for (const [proto, host, uri] of [['https', 'app.school.test@wiki.school.test', '/'], ['https', 'app.school.test, wiki.school.test', '/'], ['ftp', 'app.school.test', '/'], ['https', 'app.school.test', 'x'], ['https', 'app.school.test/x', '/']]) {
      const res = await forwardAuth(proto!, host!, uri!, user.cookie);
      assert.equal(res.statusCode, 400, `${proto} ${host} ${uri}`);
      assert.equal(res.json().error.code, 'FORWARD_AUTH_URL_MISSING');
    }
    assert.equal((await authRequest('https://user:pw@app.school.test/', user.cookie)).json().error.code, 'FORWARD_AUTH_URL_MISSING');
    assert.equal((await forwardAuth('HTTPS', 'APP.School.Test', '/', user.cookie)).statusCode, 200, 'host names compare in lower case');
  });

  it('/authz/continue sends back to allowed hosts only: 400 RETURN_URL_NOT_ALLOWED for anything else', async () => {
    const go = (rd: string) => t.app.inject({ method: 'GET', url: `/authz/continue?${new URLSearchParams({ rd })}` });
    const ok = await go('https://app.school.test/a/b?c=d#e');
    assert.equal(ok.statusCode, 302);
    assert.equal(ok.headers.location, 'https://app.school.test/a/b?c=d#e');
    assert.equal(ok.headers['cache-control'], 'no-store');
    for (const rd of ['https://evil.example/', 'https://app.school.test.evil.example/', 'https://app.school.test@evil.example/', 'javascript:alert(1)', '//evil.example/', '/account']) {
      const res = await go(rd);
      assert.equal(res.statusCode, 400, rd);
      assert.equal(res.json().error.code, 'RETURN_URL_NOT_ALLOWED', rd);
      assert.equal(res.headers.location, undefined);
    }
    const missing = await t.app.inject({ method: 'GET', url: '/authz/continue' });
    assert.equal(missing.statusCode, 400);
  });

  it('disabled users and ended sessions are refused', async () => {
    const registered = await register(t);
    const cookie = sessionCookie(registered);
    const id = registered.json().user.id;
    assert.equal((await t.app.inject({ method: 'POST', url: `/api/admin/users/${id}/disable`, headers: { cookie: admin.cookie } })).statusCode, 200);
    assert.equal((await authRequest('https://app.school.test/', cookie)).statusCode, 401);
    // A session signed out is refused too (this worker had not cached it).
    const again = await register(t);
    const second = sessionCookie(again);
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: second } })).statusCode, 204);
    assert.equal((await authRequest('https://app.school.test/', second)).statusCode, 401);
  });

  it('rules: platform administrators only, validated, audited; removing one refuses its host again', async () => {
    assert.equal((await setRule('x.school.test', { allowed_organization_ids: null, allowed_roles: null }, user.cookie)).statusCode, 403);
    const orgAdmin = await adminSession(t, { role: 'org_admin' });
    assert.equal((await setRule('x.school.test', { allowed_organization_ids: null, allowed_roles: null }, orgAdmin.cookie)).statusCode, 403);
    for (const host of ['https://x.school.test', '*.school.test', 'x.school.test/path', 'a@x.school.test', 'x school']) {
      const res = await setRule(host, { allowed_organization_ids: null, allowed_roles: null });
      assert.equal(res.statusCode, 400, host);
      assert.equal(res.json().error.code, 'INVALID_HOST', host);
    }
    assert.equal((await setRule('x.school.test', { allowed_organization_ids: [99_999], allowed_roles: null })).json().error.code, 'ORGANIZATION_NOT_FOUND');
    assert.equal((await setRule('x.school.test', { allowed_organization_ids: [], allowed_roles: null })).statusCode, 400);
    const created = await setRule('X.School.Test:443', { allowed_organization_ids: [1, 1], allowed_roles: ['user', 'admin'] });
    assert.equal(created.statusCode, 200, created.body);
    assert.deepEqual({ ...created.json().rule, created_at: undefined, updated_at: undefined }, { host: 'x.school.test', allowed_organization_ids: [1], allowed_roles: ['user', 'admin'], created_by: `user:${admin.userId}`, created_at: undefined, updated_at: undefined });
    const list = (await t.app.inject({ method: 'GET', url: '/api/admin/forward-auth/rules', headers: { cookie: admin.cookie } })).json().rules;
    assert.deepEqual(list.map((r: { host: string }) => r.host), ['app.school.test', 'other.school.test:8443', 'staff.school.test', 'x.school.test']);
    assert.equal((await authRequest('https://x.school.test/', user.cookie)).statusCode, 200);
    const removed = await t.app.inject({ method: 'DELETE', url: '/api/admin/forward-auth/rules/x.school.test', headers: { cookie: admin.cookie } });
    assert.equal(removed.statusCode, 200);
    assert.equal((await authRequest('https://x.school.test/', user.cookie)).json().error.code, 'FORWARD_AUTH_NO_RULE');
    const again = await t.app.inject({ method: 'DELETE', url: '/api/admin/forward-auth/rules/x.school.test', headers: { cookie: admin.cookie } });
    assert.equal(again.json().error.code, 'FORWARD_AUTH_RULE_NOT_FOUND');
    const events = await t.database.db.selectFrom('audit_events').select(['event', 'target', 'detail']).where('target', '=', 'host:x.school.test').orderBy('id').execute();
    assert.deepEqual(events.map((e) => e.event), ['admin.forward_auth_rule_set', 'admin.forward_auth_rule_removed']);
    assert.deepEqual(JSON.parse(events[0]!.detail!), { organization_ids: [1], roles: ['user', 'admin'] });
  });

  it('COOKIE_DOMAIN: the session cookie carries Domain, and signing out clears that same cookie', async () => {
    const registered = await register(t);
    const set = String(registered.headers['set-cookie']);
    assert.match(set, /gatehouse_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; Domain=school\.test; Path=\/; HttpOnly; SameSite=Lax/);
    const logout = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: sessionCookie(registered) } });
    const cleared = ([] as string[]).concat(logout.headers['set-cookie'] ?? []).find((c) => c.startsWith('gatehouse_session=;'));
    assert.ok(cleared && /Domain=school\.test/.test(cleared) && /Expires=Thu, 01 Jan 1970/.test(cleared), String(cleared));
  });
});

describe('COOKIE_DOMAIN with Secure cookies', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ PUBLIC_URL: 'https://id.school.test', COOKIE_DOMAIN: '.school.test' });
  });
  after(() => t.close());

  it('names the cookie __Secure- (a __Host- cookie cannot carry Domain), sets and clears it with Domain and Secure', async () => {
    const registered = await register(t);
    assert.equal(registered.statusCode, 201, registered.body);
    const cookie = registered.cookies.find((c) => c.name === '__Secure-gatehouse_session');
    assert.ok(cookie, JSON.stringify(registered.cookies));
    assert.deepEqual([cookie.domain, cookie.path, cookie.secure, cookie.httpOnly, cookie.sameSite], ['school.test', '/', true, true, 'Lax']);
    assert.ok(!registered.cookies.some((c) => c.name.startsWith('__Host-gatehouse_session')));
    // The known-device cookie stays this host's own.
    assert.ok(registered.cookies.some((c) => c.name === '__Host-gatehouse_device' && c.domain === undefined));
    const session = sessionCookie(registered, '__Secure-gatehouse_session');
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: session } })).statusCode, 200);
    const logout = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: session } });
    const cleared = logout.cookies.find((c) => c.name === '__Secure-gatehouse_session');
    assert.ok(cleared && cleared.value === '' && cleared.domain === 'school.test' && cleared.secure === true && cleared.path === '/', JSON.stringify(logout.cookies));
    assert.equal((await t.app.inject({ method: 'DELETE', url: '/api/auth/account', headers: { cookie: session }, payload: { current_password: TEST_PASSWORD } })).statusCode, 401, 'the session ended');
  });
});

describe('return URLs: the usual open-redirect tricks', () => {
  const rules = new Set(['app.school.test', 'app.school.test:8443', 'localhost:3000', 'app.localhost', '127.0.0.1:8080', 'xn--fsqu00a.school.test']);
  const check = (raw: string) => allowedReturnUrl(raw, (host) => rules.has(host));

  it('passes exact hosts with rules over https (http on loopback only), in the parser\'s form', () => {
    assert.equal(check('https://app.school.test/x?y=1#z'), 'https://app.school.test/x?y=1#z');
    assert.equal(check('https://app.school.test'), 'https://app.school.test/');
    assert.equal(check('HTTPS://APP.School.TEST/Path'), 'https://app.school.test/Path', 'mixed case: the same host, sent on in lower case');
    assert.equal(check('https://app.school.test:443/'), 'https://app.school.test/', 'the default port is the host itself');
    assert.equal(check('https://app.school.test:8443/'), 'https://app.school.test:8443/');
    assert.equal(check('http://localhost:3000/'), 'http://localhost:3000/');
    assert.equal(check('http://app.localhost/'), 'http://app.localhost/');
    assert.equal(check('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080/');
    assert.equal(check('https://xn--fsqu00a.school.test/'), 'https://xn--fsqu00a.school.test/', 'an IDN host arrives in punycode');
  });

  it('refuses everything else', () => {
    for (const raw of [
      // Other hosts, and hosts that merely contain an allowed one.
      'https://evil.example/',
      'https://app.school.test.evil.example/',
      'https://evilapp.school.test/',
      'https://school.test/',
      'https://app.school.test./',
      // User info: the host is after the @.
      'https://app.school.test@evil.example/',
      'https://app.school.test:8443@evil.example/',
      'https://user:pass@app.school.test/',
      // Backslashes, which browsers read as slashes.
      'https://evil.example\\@app.school.test/',
      'https://app.school.test\\.evil.example/',
      '/\\evil.example',
      // Scheme-relative, relative, odd slashes, missing slashes.
      '//evil.example/',
      '//app.school.test/',
      '/account',
      'https:app.school.test/',
      'https:/app.school.test/',
      'https:///app.school.test/',
      // Other schemes.
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'ftp://app.school.test/',
      // Plain http outside loopback; ports without a rule.
      'http://app.school.test/',
      'https://app.school.test:444/',
      'http://localhost:3001/',
      // IDN: Unicode (a look-alike of "app" in Cyrillic, and a real IDN not in punycode) and punycode of a look-alike.
      'https://аpp.school.test/',
      'https://例子.school.test/',
      'https://xn--pp-7kc.school.test/',
      // Whitespace and control characters the parser would strip.
      'https://app.school.test/\tx',
      'https://evil.example\n.app.school.test/',
      ' https://app.school.test/',
      '',
      `https://app.school.test/${'a'.repeat(5000)}`,
    ]) {
      assert.equal(check(raw), null, JSON.stringify(raw));
    }
  });

  it('builds the login URL through /authz/continue, cutting a return URL too long for the login page back to its origin', () => {
    const back = (url: string) => new URL(`http://x${new URL(loginUrl('https://id.school.test', url)).searchParams.get('return_to')!}`).searchParams.get('rd');
    assert.equal(back('https://app.school.test/a?b=1'), 'https://app.school.test/a?b=1');
    assert.equal(back(`https://app.school.test/${'a'.repeat(3000)}`), 'https://app.school.test/');
    assert.equal(loginUrl('https://id.school.test', null), 'https://id.school.test/login');
    // The login page (web/src/return-to.ts, which takes local paths only) keeps the hop as it is, even at its longest.
    for (const url of ['https://app.school.test/a?b=1&c=%2F#d', `https://app.school.test/${'a'.repeat(1900)}`, `https://app.school.test/${'a'.repeat(3000)}`]) {
      const login = new URL(loginUrl('https://id.school.test', url));
      assert.equal(returnToFrom(login.search), login.searchParams.get('return_to'));
    }
  });

  it('rule hosts and forwarded headers are read strictly', () => {
    assert.equal(normalizeRuleHost(' App.School.Test:443 '), 'app.school.test');
    assert.equal(normalizeRuleHost('app.school.test:80'), 'app.school.test');
    assert.equal(normalizeRuleHost('[::1]:8080'), '[::1]:8080');
    assert.equal(normalizeRuleHost('例子.school.test'), 'xn--fsqu00a.school.test');
    for (const bad of ['', '*.school.test', 'app.school.test/x', 'https://app.school.test', 'a@b', 'a b', 'app.school.test:99999', 'app..school.test', 'app_x.school.test', 'app.school.test\\x']) {
      assert.throws(() => normalizeRuleHost(bad), { code: 'INVALID_HOST' }, bad);
    }
    assert.deepEqual(originalFromForwardedHeaders('https', 'app.school.test', '/a b?c'), { url: 'https://app.school.test/a%20b?c', host: 'app.school.test' });
    assert.equal(originalFromForwardedHeaders('https', 'app.school.test', undefined)?.url, 'https://app.school.test/');
  });

  it('percent-encodes names: printable ASCII stays, the rest (and % and +) become UTF-8 escapes any decoder reverses', () => {
    for (const name of ['Zhang San', '张三', 'Ωmega 100% + 1', 'Émile "E" O\'Brien', '𠮷野家', 'tab\there']) {
      const encoded = encodeHeaderText(name);
      assert.match(encoded, /^[\x20-\x7e]*$/, name);
      assert.equal(decodeURIComponent(encoded), name);
      // PHP's urldecode and Python's unquote_plus read + as a space: there is none left to misread.
      assert.ok(!encoded.includes('+'));
    }
    assert.equal(encodeHeaderText('Zhang San'), 'Zhang San');
  });
});

describe('the session cache', () => {
  const HOUR = 3_600_000;
  function fixture(options: { ttlMs?: number; maxEntries?: number } = {}) {
    let now = 1_000_000;
    const calls: string[] = [];
    const state = new Map<string, ResolvedSession | null>();
    const session = (token: string, overrides: { status?: string; expiresAt?: number; absoluteExpiresAt?: number } = {}) =>
      state.set(token, {
        user: { id: token.length, subject: `subject-${token}`, name: token, organization_id: 1, role: 'user', status: overrides.status ?? 'active' },
        session: { expires_at: overrides.expiresAt ?? now + HOUR, absolute_expires_at: overrides.absoluteExpiresAt ?? now + 2 * HOUR },
      });
    const cache = new SessionFactsCache({
      resolve: async (token) => {
        calls.push(token);
        return state.get(token) ?? null;
      },
      ttlMs: options.ttlMs ?? 5_000,
      maxEntries: options.maxEntries ?? 100,
      now: () => now,
    });
    return { cache, calls, state, session, advance: (ms: number) => (now += ms), now: () => now };
  }

  it('answers a repeat from memory for at most the TTL: an account disabled is refused once the TTL has passed', async () => {
    const f = fixture({ ttlMs: 5_000 });
    f.session('a');
    assert.equal((await f.cache.get('a'))?.headers['remote-user'], 'subject-a');
    f.session('a', { status: 'disabled' });
    f.advance(4_999);
    assert.ok(await f.cache.get('a'), 'within the TTL: the documented staleness');
    assert.equal(f.calls.length, 1);
    f.advance(1);
    assert.equal(await f.cache.get('a'), null, 'disabled longer ago than the TTL: refused');
    assert.equal(f.calls.length, 2);
    // A refusal is not remembered: enabled again, let in at once.
    f.session('a');
    assert.ok(await f.cache.get('a'));
    assert.equal(f.calls.length, 3);
  });

  it('never serves a session past its own expiry, idle or absolute, even within the TTL', async () => {
    const f = fixture({ ttlMs: 60_000 });
    f.session('idle', { expiresAt: f.now() + 2_000 });
    f.session('absolute', { absoluteExpiresAt: f.now() + 3_000 });
    assert.ok(await f.cache.get('idle'));
    assert.ok(await f.cache.get('absolute'));
    // The store now says both are gone (as SessionService.authenticate does for expired sessions).
    f.state.set('idle', null);
    f.state.set('absolute', null);
    f.advance(1_999);
    assert.ok(await f.cache.get('idle'));
    f.advance(1);
    assert.equal(await f.cache.get('idle'), null);
    assert.ok(await f.cache.get('absolute'));
    f.advance(1_000);
    assert.equal(await f.cache.get('absolute'), null);
    // A session already expired when read is not remembered at all.
    f.session('stale', { expiresAt: f.now() });
    await f.cache.get('stale');
    await f.cache.get('stale');
    assert.equal(f.calls.filter((c) => c === 'stale').length, 2);
  });

  it('is bounded, forgetting the least recently used; concurrent misses share one read', async () => {
    const f = fixture({ maxEntries: 2 });
    for (const token of ['a', 'b', 'c']) f.session(token);
    await f.cache.get('a');
    await f.cache.get('b');
    await f.cache.get('a');
    await f.cache.get('c');
    assert.equal(f.cache.size, 2);
    f.calls.length = 0;
    await f.cache.get('a');
    await f.cache.get('c');
    assert.deepEqual(f.calls, [], 'a (used recently) and c stayed');
    await f.cache.get('b');
    assert.deepEqual(f.calls, ['b'], 'b was forgotten');
    f.calls.length = 0;
    f.session('d');
    const [x, y, z] = await Promise.all([f.cache.get('d'), f.cache.get('d'), f.cache.get('d')]);
    assert.ok(x && x === y && y === z);
    assert.deepEqual(f.calls, ['d']);
  });
});
