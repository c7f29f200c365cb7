// /metrics behind a bearer token (METRICS_TOKEN), or only on a port of its own (METRICS_PORT); open
// on the service's port by default, as `npm start` has always served it.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { bearerTokenMatches, serveMetrics } from '../../src/observability/metrics-access.js';
import { createTestApp } from '../helpers/app.js';

const TOKEN = 'm'.repeat(20) + '-token-1234';

describe('/metrics access', () => {
  it('by default /metrics answers on the service port without credentials', async () => {
    const t = await createTestApp();
    try {
      const res = await t.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /gatehouse_http_requests_total/);
    } finally {
      await t.close();
    }
  });

  it('with METRICS_TOKEN, only a request bearing that token gets the metrics; others get 401 METRICS_TOKEN_REQUIRED', async () => {
    const t = await createTestApp({ METRICS_TOKEN: TOKEN });
    try {
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN]) {
        const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });
        assert.equal(res.statusCode, 401, String(authorization));
        assert.equal(res.json().error.code, 'METRICS_TOKEN_REQUIRED');
        assert.match(String(res.headers['www-authenticate']), /^Bearer/);
        assert.doesNotMatch(res.body, /gatehouse_/);
      }
      const ok = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(ok.statusCode, 200);
      assert.match(ok.body, /gatehouse_http_requests_total/);
    } finally {
      await t.close();
    }
  });

  it('with METRICS_PORT, the service port has no /metrics', async () => {
    const t = await createTestApp({ METRICS_PORT: '9464' });
    try {
      assert.equal((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    } finally {
      await t.close();
    }
  });

  it('the metrics port serves /metrics alone, and checks the token too when one is set', async () => {
    const server = serveMetrics({ collect: async () => 'gatehouse_up 1\n', contentType: 'text/plain', port: 0, host: '127.0.0.1', token: TOKEN });
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      assert.equal((await fetch(`${base}/metrics`)).status, 401);
      assert.equal((await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
      const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'gatehouse_up 1\n');
    } finally {
      server.close();
    }
  });

  it('compares the token whole: no prefix, no other scheme', () => {
    assert.equal(bearerTokenMatches(`Bearer ${TOKEN}`, TOKEN), true);
    assert.equal(bearerTokenMatches(`bearer  ${TOKEN} `, TOKEN), true);
    for (const header of [undefined, '', 'Bearer', `Bearer ${TOKEN.slice(0, 10)}`, `Bearer ${TOKEN} extra`, `Token ${TOKEN}`]) assert.equal(bearerTokenMatches(header, TOKEN), false, String(header));
  });

  it('refuses a short METRICS_TOKEN and a METRICS_PORT equal to PORT', () => {
    assert.throws(() => loadConfig({ METRICS_TOKEN: 'short' }, {}), (e: unknown) => e instanceof ConfigError && e.message.includes('METRICS_TOKEN'));
    assert.throws(() => loadConfig({ METRICS_PORT: '9527' }, {}), (e: unknown) => e instanceof ConfigError && e.message.includes('METRICS_PORT'));
    assert.throws(() => loadConfig({ METRICS_PORT: 'x' }, {}), (e: unknown) => e instanceof ConfigError && e.message.includes('METRICS_PORT'));
    assert.deepEqual(loadConfig({}, {}).metrics, { port: undefined, token: undefined });
  });
});
