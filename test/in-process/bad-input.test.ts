// Bad input on the sign-up, sign-in and account endpoints, case by case, gets a 4xx with the right
// stable code: never a 5xx, never a hang. Every route of the API, from its OpenAPI document: every-route-input.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { ERROR_CATALOGUE } from '../../src/errors.js';
import { createTestApp, newCaptcha, register, sessionCookie, TEST_CAPTCHA, type TestApp } from '../helpers/app.js';
import { ODD_STRINGS, WRONG_TYPES } from '../helpers/odd-input.js';

function validBodies(t: TestApp, captchaId: string) {
  return {
    '/api/auth/register': { phone: '13912345678', password: 'correct horse battery', name: 'N', invitation_code: t.invitationCode, captcha_id: captchaId, captcha: TEST_CAPTCHA },
    '/api/auth/login': { phone: '13912345678', password: 'correct horse battery', captcha_id: captchaId, captcha: TEST_CAPTCHA },
  } as Record<string, Record<string, unknown>>;
}

describe('bad input', () => {
  let t: TestApp;
  let cookie: string;
  before(async () => {
    t = await createTestApp();
    cookie = sessionCookie(await register(t));
  });
  after(() => t.close());

  async function expect4xx(options: InjectOptions, label: string) {
    const res = await t.app.inject(options);
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${label}: got ${res.statusCode} ${res.body.slice(0, 300)}`);
    const body = res.json();
    assert.ok(body.error.code in ERROR_CATALOGUE, `${label}: unknown code ${body.error.code}`);
    assert.equal(typeof body.error.message, 'string');
    assert.equal(res.statusCode, ERROR_CATALOGUE[body.error.code as keyof typeof ERROR_CATALOGUE].status, label);
    return body.error.code as string;
  }

  for (const url of ['/api/auth/register', '/api/auth/login']) {
    it(`${url}: missing, extra and wrongly typed fields`, async () => {
      const valid = validBodies(t, 'unused')[url]!;
      for (const field of Object.keys(valid)) {
        const { [field]: _dropped, ...missing } = valid;
        assert.equal(await expect4xx({ method: 'POST', url, payload: missing }, `missing ${field}`), 'VALIDATION_FAILED');
        for (const wrong of WRONG_TYPES) {
          assert.equal(await expect4xx({ method: 'POST', url, payload: { ...valid, [field]: wrong } }, `${field}=${JSON.stringify(wrong)}`), 'VALIDATION_FAILED');
        }
      }
      assert.equal(await expect4xx({ method: 'POST', url, payload: { ...valid, is_admin: true } }, 'extra field'), 'VALIDATION_FAILED');
      assert.equal(await expect4xx({ method: 'POST', url, payload: { ...valid, role: 'admin' } }, 'extra role field'), 'VALIDATION_FAILED');
    });

    it(`${url}: malformed, empty, huge and non-JSON bodies`, async () => {
      const json = { 'content-type': 'application/json' };
      assert.equal(await expect4xx({ method: 'POST', url, headers: json, payload: '{"phone":' }, 'truncated JSON'), 'INVALID_JSON');
      assert.equal(await expect4xx({ method: 'POST', url, headers: json, payload: '{"a":1,}' }, 'trailing comma'), 'INVALID_JSON');
      assert.equal(await expect4xx({ method: 'POST', url, headers: json, payload: '' }, 'empty body'), 'INVALID_JSON');
      assert.equal(await expect4xx({ method: 'POST', url, headers: json, payload: '[]' }, 'array body'), 'VALIDATION_FAILED');
      assert.equal(await expect4xx({ method: 'POST', url, headers: json, payload: 'null' }, 'null body'), 'VALIDATION_FAILED');
      assert.equal(await expect4xx({ method: 'POST', url, headers: json, payload: '"text"' }, 'string body'), 'VALIDATION_FAILED');
      assert.equal(await expect4xx({ method: 'POST', url, headers: json, payload: '{"__proto__":{"admin":true}}' }, 'prototype pollution'), 'INVALID_JSON');
      assert.equal(await expect4xx({ method: 'POST', url, headers: json, payload: '['.repeat(5_000) + ']'.repeat(5_000) }, 'deep nesting'), 'VALIDATION_FAILED');
      assert.equal(await expect4xx({ method: 'POST', url, headers: json, payload: JSON.stringify({ phone: 'x'.repeat(200_000) }) }, 'huge body'), 'BODY_TOO_LARGE');
      assert.equal(await expect4xx({ method: 'POST', url, headers: { 'content-type': 'text/plain' }, payload: 'phone=1' }, 'text/plain'), 'UNSUPPORTED_MEDIA_TYPE');
      assert.equal(
        await expect4xx({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'phone=1' }, 'form'),
        'UNSUPPORTED_MEDIA_TYPE',
      );
    });

    it(`${url}: odd Unicode and very long strings in every field`, async () => {
      for (const field of Object.keys(validBodies(t, 'x')[url]!)) {
        for (const odd of ODD_STRINGS) {
          const captchaId = await newCaptcha(t.app);
          const body = { ...validBodies(t, captchaId)[url]!, [field]: odd };
          const res = await t.app.inject({ method: 'POST', url, payload: body });
          assert.ok(res.statusCode < 500, `${field}=${JSON.stringify(odd).slice(0, 40)}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          if (res.statusCode >= 400) assert.ok(res.json().error.code in ERROR_CATALOGUE);
        }
      }
    });
  }

  it('captcha generate: unknown purpose and extra query parameters', async () => {
    await expect4xx({ method: 'GET', url: '/api/auth/captcha/generate?purpose=admin' }, 'bad purpose');
    await expect4xx({ method: 'GET', url: '/api/auth/captcha/generate?purpose=login&x=1' }, 'extra param');
    await expect4xx({ method: 'GET', url: `/api/auth/captcha/generate?purpose=${'a'.repeat(5000)}` }, 'long purpose');
  });

  it('session endpoints: no cookie, bad ids', async () => {
    for (const [method, url] of [['GET', '/api/auth/me'], ['POST', '/api/auth/logout'], ['GET', '/api/auth/sessions'], ['DELETE', '/api/auth/sessions/1']] as const) {
      assert.equal(await expect4xx({ method, url }, `${method} ${url} without cookie`), 'UNAUTHENTICATED');
    }
    for (const id of ['abc', '-1', '0', '1.5', '99999999999999999999', '%00']) {
      await expect4xx({ method: 'DELETE', url: `/api/auth/sessions/${id}`, headers: { cookie } }, `session id ${id}`);
    }
  });

  it('signed-in changes (phone number, deletion, data): no cookie, missing, extra, wrongly typed and odd fields — a 4xx, and nothing deleted', async () => {
    const headers = { cookie };
    const phoneChange: Record<string, unknown> = { new_phone: '13912345678', code: '123456', current_password: 'not the password' };
    assert.equal(await expect4xx({ method: 'POST', url: '/api/auth/phone', payload: phoneChange }, 'phone without cookie'), 'UNAUTHENTICATED');
    assert.equal(await expect4xx({ method: 'DELETE', url: '/api/auth/account', payload: {} }, 'delete without cookie'), 'UNAUTHENTICATED');
    assert.equal(await expect4xx({ method: 'GET', url: '/api/auth/account/data' }, 'data without cookie'), 'UNAUTHENTICATED');
    for (const field of Object.keys(phoneChange)) {
      const { [field]: _dropped, ...missing } = phoneChange;
      if (field !== 'current_password') assert.equal(await expect4xx({ method: 'POST', url: '/api/auth/phone', headers, payload: missing }, `phone: missing ${field}`), 'VALIDATION_FAILED');
      for (const wrong of WRONG_TYPES) {
        assert.equal(await expect4xx({ method: 'POST', url: '/api/auth/phone', headers, payload: { ...phoneChange, [field]: wrong } }, `phone: ${field}=${JSON.stringify(wrong)}`), 'VALIDATION_FAILED');
      }
      for (const odd of ODD_STRINGS) await expect4xx({ method: 'POST', url: '/api/auth/phone', headers, payload: { ...phoneChange, [field]: odd } }, `phone: ${field}=${JSON.stringify(odd).slice(0, 40)}`);
    }
    assert.equal(await expect4xx({ method: 'POST', url: '/api/auth/phone', headers, payload: { ...phoneChange, user_id: 1 } }, 'phone: extra field'), 'VALIDATION_FAILED');
    for (const wrong of WRONG_TYPES) {
      assert.equal(await expect4xx({ method: 'DELETE', url: '/api/auth/account', headers, payload: { current_password: wrong } }, `delete: ${JSON.stringify(wrong)}`), 'VALIDATION_FAILED');
    }
    for (const odd of ODD_STRINGS) await expect4xx({ method: 'DELETE', url: '/api/auth/account', headers, payload: { current_password: odd } }, `delete: ${JSON.stringify(odd).slice(0, 40)}`);
    assert.equal(await expect4xx({ method: 'DELETE', url: '/api/auth/account', headers, payload: { current_password: 'x', user_id: 1 } }, 'delete: extra field'), 'VALIDATION_FAILED');
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers })).statusCode, 200, 'the account is still there');
  });

  it('unknown routes and methods: 404 NOT_FOUND', async () => {
    assert.equal(await expect4xx({ method: 'GET', url: '/nope' }, 'unknown path'), 'NOT_FOUND');
    assert.equal(await expect4xx({ method: 'PUT', url: '/api/auth/login' }, 'wrong method'), 'NOT_FOUND');
    assert.equal(await expect4xx({ method: 'GET', url: `/${'a'.repeat(5000)}` }, 'long path'), 'NOT_FOUND');
  });
});
