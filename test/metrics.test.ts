// /metrics sums every worker: known traffic over four workers is counted exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, loginThrough, metricValue, registerThrough, request, startServer, type ServerProcess } from './helpers/cluster.js';

describe('metrics over four workers', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ workers: 4, env: { RATE_LIMIT_LOGIN_PER_ACCOUNT: '8/600' } });
  });
  after(() => server?.stop());

  it('scraped counts equal the traffic sent, whichever worker served it and whichever is scraped', async () => {
    const workers = new Set<string>();
    for (let i = 0; i < 20; i++) workers.add((await request(server.port, 'GET', '/healthz')).worker!);
    assert.equal(workers.size, 4);

    const phone = '13700000001';
    assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
    assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 409);
    for (let i = 0; i < 3; i++) assert.equal((await loginThrough(server.port, phone, 'a good long passphrase')).status, 200);
    for (let i = 0; i < 5; i++) await loginThrough(server.port, phone, 'wrong password!'); // 4 × 401, then the lock
    assert.equal((await loginThrough(server.port, phone, 'wrong password!')).status, 429); // the 9th attempt on this account
    // Without a solved captcha a request is refused for that, before it could spend the account's budget.
    const bogus = await request(server.port, 'POST', '/api/auth/login', { body: { phone, password: 'x', captcha_id: 'nope', captcha: 'TEST' } });
    assert.equal(bogus.status, 400);
    assert.equal(bogus.body.error.code, 'CAPTCHA_EXPIRED');

    // Every worker's scrape sees the same totals.
    const scrapes = await Promise.all(Array.from({ length: 8 }, () => request(server.port, 'GET', '/metrics')));
    assert.ok(new Set(scrapes.map((s) => s.worker)).size >= 2);
    for (const scrape of scrapes) {
      const text = scrape.body as string;
      assert.equal(metricValue(text, 'gatehouse_http_requests_total', { route: '/healthz', status: '200' }), 20);
      assert.equal(metricValue(text, 'gatehouse_captchas_total', { result: 'generated' }), 11);
      // Every captcha solved is used, the 429's too: the account's budget is charged after the captcha.
      assert.equal(metricValue(text, 'gatehouse_captchas_total', { result: 'ok' }), 11);
      assert.equal(metricValue(text, 'gatehouse_registrations_total', { result: 'ok' }), 1);
      assert.equal(metricValue(text, 'gatehouse_registrations_total', { result: 'PHONE_TAKEN' }), 1);
      assert.equal(metricValue(text, 'gatehouse_logins_total', { result: 'ok' }), 3);
      assert.equal(metricValue(text, 'gatehouse_logins_total', { result: 'INVALID_CREDENTIALS' }), 4);
      assert.equal(metricValue(text, 'gatehouse_logins_total', { result: 'ACCOUNT_LOCKED' }), 1);
      assert.equal(metricValue(text, 'gatehouse_logins_total', { result: 'RATE_LIMITED' }), 1);
      assert.equal(metricValue(text, 'gatehouse_logins_total', { result: 'CAPTCHA_EXPIRED' }), 1);
      assert.equal(metricValue(text, 'gatehouse_captchas_total', { result: 'expired' }), 1);
      assert.equal(metricValue(text, 'gatehouse_lockouts_total'), 1);
      assert.equal(metricValue(text, 'gatehouse_rate_limited_total', { limit: 'rl:login_account' }), 1);
      assert.equal(metricValue(text, 'gatehouse_http_requests_total', { route: '/api/auth/login', status: '429' }), 1);
      assert.equal(metricValue(text, 'gatehouse_http_requests_total', { route: '/api/auth/login', status: '400' }), 1);
      assert.ok(metricValue(text, 'gatehouse_store_operation_duration_seconds_count', { backend: 'sqlite', op: 'take_once' }) >= 10);
      assert.equal(metricValue(text, 'gatehouse_hash_duration_seconds_count', { op: 'hash' }), 1);
      assert.ok(!text.includes('gatehouse_db_replica'), 'no read replica configured: no replica series');
      assert.ok(metricValue(text, 'gatehouse_data_dir_free_bytes') > 0 && metricValue(text, 'gatehouse_data_dir_size_bytes') >= metricValue(text, 'gatehouse_data_dir_free_bytes'));
    }
  });
});

describe('metrics on a port of their own (METRICS_PORT) over two workers', () => {
  let server: ServerProcess;
  let metricsPort: number;
  const token = 'a-metrics-token-of-24-chars-or-more';
  before(async () => {
    metricsPort = await freePort();
    server = await startServer({ workers: 2, env: { METRICS_PORT: String(metricsPort), METRICS_TOKEN: token } });
  });
  after(() => server?.stop());

  it('the primary serves the sum of its workers there, with the token; the service port has no /metrics', async () => {
    const workers = new Set<string>();
    for (let i = 0; i < 10; i++) workers.add((await request(server.port, 'GET', '/healthz')).worker!);
    assert.equal(workers.size, 2);
    assert.equal((await request(server.port, 'GET', '/metrics')).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status, 401);
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(scrape.status, 200);
    const text = await scrape.text();
    assert.equal(metricValue(text, 'gatehouse_http_requests_total', { route: '/healthz', status: '200' }), 10);
    assert.equal(metricValue(text, 'gatehouse_http_requests_total', { route: 'unmatched', status: '404' }), 1, 'the refused /metrics on the service port');
  });
});
