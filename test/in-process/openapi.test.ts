import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createTestApp } from '../helpers/app.js';

it('serves OpenAPI generated from the route schemas, and the docs page at /docs', async () => {
  const t = await createTestApp();
  try {
    const spec = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    assert.match(spec.openapi, /^3\./);
    for (const route of ['/api/auth/captcha/generate', '/api/auth/altcha/challenge', '/api/auth/captcha/mode', '/api/auth/register', '/api/auth/login', '/api/auth/me', '/api/auth/logout', '/api/auth/sessions', '/api/auth/sessions/{id}', '/api/auth/sms/send', '/api/auth/login/sms', '/api/auth/password/reset', '/api/auth/password', '/api/auth/phone', '/api/auth/account', '/api/tasks', '/api/tasks/{id}', '/api/admin/tasks', '/api/admin/api-keys', '/api/admin/audit', '/api/admin/organizations/{id}/imports', '/api/admin/imports/{id}', '/healthz', '/readyz']) {
      assert.ok(spec.paths[route], `OpenAPI lacks ${route}`);
    }
    const register = spec.paths['/api/auth/register'].post;
    assert.deepEqual(Object.keys(register.requestBody.content['application/json'].schema.properties).sort(), ['altcha', 'captcha', 'captcha_id', 'invitation_code', 'name', 'password', 'phone', 'sms_code']);
    assert.ok(register.responses['201'] && register.responses['4XX'], 'success and error responses are described');
    const page = await t.app.inject({ method: 'GET', url: '/docs' });
    assert.ok(page.statusCode === 200 || page.statusCode === 302, `docs page: ${page.statusCode}`);
  } finally {
    await t.close();
  }
});

it("every route's request and response schemas compile (they compile on a route's first use, so this is where a bad one shows)", async () => {
  const t = await createTestApp();
  try {
    await t.app.ready();
    const compiled = t.app.compileAllSchemas();
    assert.ok(compiled > 150, `${compiled} schemas compiled`);
    assert.equal(t.app.compileAllSchemas(), 0, 'each once');
    // Compiled ahead or on first use, they behave the same.
    const bad = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone: 1 } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'VALIDATION_FAILED');
  } finally {
    await t.close();
  }
});
