// CSRF refusal of cross-site state changes, and the security headers on every response.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, register, sessionCookie, type TestApp } from '../helpers/app.js';

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
});
