// CSRF refusal of cross-site state changes, and the security headers on every response.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, newCaptcha, register, sessionCookie, TEST_CAPTCHA, TEST_PASSWORD, type TestApp } from '../helpers/app.js';

describe('browser security', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('refuses state changes from pages of other sites, by Sec-Fetch-Site or Origin', async () => {
    const cookie = sessionCookie(await register(t));
    const logout = (headers: Record<string, string>) => t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie, host: 'gatehouse.example', ...headers } });
    const attempts: Array<Record<string, string>> = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }, { origin: 'null' }];
    for (const headers of attempts) {
      const res = await logout(headers);
      assert.equal(res.statusCode, 403, JSON.stringify(headers));
      assert.equal(res.json().error.code, 'CROSS_SITE_REQUEST');
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode, 200, 'the session survived the refused attempts');
    // Reads are not state changes; a same-origin page and a program without browser headers are let through.
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie, 'sec-fetch-site': 'cross-site' } })).statusCode, 200);
    assert.equal((await logout({ 'sec-fetch-site': 'same-origin', origin: 'https://gatehouse.example' })).statusCode, 204);
    const again = sessionCookie(await register(t));
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: again, host: 'gatehouse.example', origin: 'https://gatehouse.example' } })).statusCode, 204);
    const program = sessionCookie(await register(t));
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: program } })).statusCode, 204);
  });

  it('sends a strict CSP and the other security headers on API answers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    const csp = res.headers['content-security-policy'] as string;
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'strict-origin-when-cross-origin');
    assert.equal(res.headers['x-frame-options'], 'DENY');
  });

  it('on plain http (no PUBLIC_URL) sends no HSTS and sets the session cookie without Secure or prefix', async () => {
    const res = await register(t);
    assert.equal(res.headers['strict-transport-security'], undefined);
    const cookie = res.cookies.find((c) => c.name === 'gatehouse_session');
    assert.ok(cookie && !cookie.secure);
  });
});

describe('browser security on an https deployment (PUBLIC_URL=https://…)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ PUBLIC_URL: 'https://id.school.example' });
  });
  after(() => t.close());

  it('sets the session cookie as __Host-… with Secure, Path=/ and no Domain, and reads it back', async () => {
    const res = await register(t);
    assert.equal(res.statusCode, 201);
    const cookie = res.cookies.find((c) => c.name === '__Host-gatehouse_session');
    assert.ok(cookie, `cookies: ${res.cookies.map((c) => c.name).join(', ')}`);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.path, '/');
    assert.equal(cookie.domain, undefined);
    assert.equal(res.cookies.find((c) => c.name === 'gatehouse_session'), undefined);
    // The known-device cookie (security/known-devices.ts) likewise, and a sign-in reads it back.
    const device = res.cookies.find((c) => c.name === '__Host-gatehouse_device');
    assert.ok(device?.secure && device.path === '/' && device.domain === undefined, `cookies: ${res.cookies.map((c) => c.name).join(', ')}`);
    assert.equal(res.cookies.find((c) => c.name === 'gatehouse_device'), undefined);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { cookie: `__Host-gatehouse_device=${device.value}` },
      payload: { phone: res.json().user.phone, password: TEST_PASSWORD, captcha_id: await newCaptcha(t.app, 'login'), captcha: TEST_CAPTCHA },
    });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.cookies.find((c) => c.name === '__Host-gatehouse_device')?.value.split('~').length, 1, 'the same entry renewed, not a second device');
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: sessionCookie(res, '__Host-gatehouse_session') } });
    assert.equal(me.statusCode, 200);
    const logout = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: sessionCookie(res, '__Host-gatehouse_session') } });
    assert.match(String(logout.headers['set-cookie']), /^__Host-gatehouse_session=;/);
  });

  it('sends Strict-Transport-Security on every answer, the router\'s early refusals included', async () => {
    for (const url of ['/healthz', '/api/auth/me', '/no-such-page', '/%zz']) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000', url);
    }
  });
});
