import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseTrustProxy } from '../../src/config.js';
import { openSqlite } from '../../src/db/database.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';

/** What a production deployment sets besides NODE_ENV: a provider that really sends SMS. */
const PRODUCTION = { NODE_ENV: 'production', SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.example/send', SMS_WEBHOOK_SECRET: 'w'.repeat(20) };

describe('config', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({}, {});
    assert.equal(config.port, 9527);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.defaultRegion, 'CN');
    assert.equal(config.trustProxy, false);
    assert.equal(config.testCaptcha, undefined);
    assert.equal(config.captcha.ttlSeconds, 300);
    assert.equal(config.rateLimits.ipv6Prefix, 64);
    assert.deepEqual(config.rateLimits.exempt, []);
    assert.deepEqual(config.lockout, { maxFailures: 5, windowSeconds: 900, lockSeconds: 900, knownDeviceSeconds: 30, maxLockSeconds: 86_400 });
    assert.deepEqual(config.rateLimits.twoFactorDisable, { points: 5, seconds: 3600 });
    assert.deepEqual(loadConfig({ RATE_LIMIT_EXEMPT: '203.0.113.9, 198.51.100.0/24,2001:db8::/48 , 2001:db8::1' }, {}).rateLimits.exempt, ['203.0.113.9/32', '198.51.100.0/24', '2001:db8::/48', '2001:db8::1/128']);
    assert.ok(config.workers >= 1);
    assert.equal(config.databaseReplica, undefined);
    assert.equal(config.redis, undefined);
    const key = { SECRET_KEY: 'k'.repeat(32) };
    assert.deepEqual(loadConfig({ REDIS_URL: 'redis://cache:6379/2', ...key }, {}).redis, { url: 'redis://cache:6379/2' });
    assert.deepEqual(loadConfig({ REDIS_SENTINELS: 's1:26379, [::1]:26380', REDIS_URL: 'redis://:pw@ignored/3', ...key }, {}).redis, {
      sentinels: [
        { host: 's1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      url: 'redis://:pw@ignored/3',
    });
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://primary/g', DATABASE_REPLICA_URL: 'postgres://replica/g', ...key }, {}).databaseReplica, { url: 'postgres://replica/g', maxLagSeconds: 5 });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.session));
  });

  it('refuses bad values with a message naming the variable', () => {
    for (const [env, name] of [
      [{ PORT: 'abc' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ WORKERS: '-1' }, 'WORKERS'],
      [{ DEFAULT_REGION: 'XX' }, 'DEFAULT_REGION'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ SECRET_KEY: 'short' }, 'SECRET_KEY'],
      [{ TRUST_PROXY: 'evil.example.com' }, 'TRUST_PROXY'],
      [{ SECURE_COOKIES: 'maybe' }, 'SECURE_COOKIES'],
      [{ RATE_LIMIT_IPV6_PREFIX: '16' }, 'RATE_LIMIT_IPV6_PREFIX'],
      // The backoff only lengthens locks: a longest lock shorter than a first one is a mistake.
      [{ LOCKOUT_SECONDS: '3600', LOCKOUT_MAX_SECONDS: '1800' }, 'LOCKOUT_MAX_SECONDS'],
      [{ LOCKOUT_KNOWN_DEVICE_SECONDS: '0' }, 'LOCKOUT_KNOWN_DEVICE_SECONDS'],
      [{ RATE_LIMIT_TWO_FACTOR_DISABLE: '5' }, 'RATE_LIMIT_TWO_FACTOR_DISABLE'],
      [{ RATE_LIMIT_EXEMPT: 'school.example.cn' }, 'RATE_LIMIT_EXEMPT'],
      [{ RATE_LIMIT_EXEMPT: '203.0.113.0/33' }, 'RATE_LIMIT_EXEMPT'],
      [{ RATE_LIMIT_IPV6_PREFIX: '129' }, 'RATE_LIMIT_IPV6_PREFIX'],
      [{ RATE_LIMIT_IPV6_PREFIX: '/64' }, 'RATE_LIMIT_IPV6_PREFIX'],
      [{ DATABASE_REPLICA_URL: 'postgres://replica/gatehouse' }, 'DATABASE_REPLICA_URL'],
      [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL'],
      [{ REDIS_SENTINELS: 'sentinel-1' }, 'REDIS_SENTINELS'],
      [{ REDIS_SENTINELS: 'sentinel-1:26379,sentinel-2:99999' }, 'REDIS_SENTINELS'],
      [{ DATABASE_URL: 'postgres://primary/gatehouse', DATABASE_REPLICA_URL: 'mysql://replica/gatehouse' }, 'DATABASE_REPLICA_URL'],
      [{ DATABASE_URL: 'postgres://primary/gatehouse', DATABASE_REPLICA_URL: 'postgres://replica/gatehouse', DATABASE_REPLICA_MAX_LAG_SECONDS: '0', SECRET_KEY: 'k'.repeat(32) }, 'DATABASE_REPLICA_MAX_LAG_SECONDS'],
      // Scale-out: servers that each generated a key of their own would refuse each other's captchas.
      [{ DATABASE_URL: 'postgres://primary/gatehouse' }, 'SECRET_KEY'],
      [{ REDIS_URL: 'redis://cache:6379' }, 'SECRET_KEY'],
      [{ REDIS_SENTINELS: 's1:26379' }, 'SECRET_KEY'],
    ] as const) {
      assert.throws(() => loadConfig(env, {}), (e: unknown) => e instanceof ConfigError && e.message.includes(name), JSON.stringify(env));
    }
  });

  it('refuses GATEHOUSE_TEST_CAPTCHA in production', () => {
    assert.equal(loadConfig({ GATEHOUSE_TEST_CAPTCHA: 'TEST' }, {}).testCaptcha, 'TEST');
    assert.throws(() => loadConfig({ GATEHOUSE_TEST_CAPTCHA: 'TEST', ...PRODUCTION }, {}), /GATEHOUSE_TEST_CAPTCHA is refused when NODE_ENV=production/);
  });

  it('parses TRUST_PROXY as a hop count or addresses/CIDRs', () => {
    assert.equal(parseTrustProxy(undefined), false);
    assert.equal(parseTrustProxy('false'), false);
    assert.equal(parseTrustProxy('2'), 2);
    assert.equal(parseTrustProxy('127.0.0.1'), '127.0.0.1');
    assert.deepEqual(parseTrustProxy('10.0.0.0/8, ::1'), ['10.0.0.0/8', '::1']);
    assert.deepEqual(parseTrustProxy('loopback, 2001:db8::/32'), ['loopback', '2001:db8::/32']);
  });

  it('refuses TRUST_PROXY=true (any client could forge its address), saying what to write instead', () => {
    for (const value of ['true', 'TRUE', ' true ']) {
      assert.throws(() => loadConfig({ TRUST_PROXY: value }, {}), (e: unknown) => e instanceof ConfigError && /TRUST_PROXY=true/.test(e.message) && /CIDR/.test(e.message) && /TRUST_PROXY=1/.test(e.message));
    }
    for (const value of ['10.0.0.0/33', '10.0.0.300', 'proxy.internal', '*']) {
      assert.throws(() => parseTrustProxy(value), (e: unknown) => e instanceof ConfigError && e.message.includes('TRUST_PROXY'), value);
    }
  });

  it('PUBLIC_URL: an https URL makes the session cookie Secure and __Host-, and turns on HSTS; http and unset do not', () => {
    const plain = loadConfig({}, {});
    assert.equal(plain.publicUrl, undefined);
    assert.deepEqual([plain.session.cookieName, plain.session.secureCookie, plain.hsts], ['gatehouse_session', false, false]);
    const https = loadConfig({ PUBLIC_URL: 'https://id.school.cn/' }, {});
    assert.equal(https.publicUrl, 'https://id.school.cn');
    assert.deepEqual([https.session.cookieName, https.session.secureCookie, https.hsts], ['__Host-gatehouse_session', true, true]);
    // Not only in production: the URL decides.
    assert.equal(loadConfig({ PUBLIC_URL: 'https://id.school.cn:8443', NODE_ENV: 'development' }, {}).session.cookieName, '__Host-gatehouse_session');
    const http = loadConfig({ PUBLIC_URL: 'http://127.0.0.1:9527', ...PRODUCTION }, {});
    assert.deepEqual([http.session.cookieName, http.session.secureCookie, http.hsts], ['gatehouse_session', false, false]);
    // Without PUBLIC_URL, production keeps Secure cookies (now with the prefix) but sends no HSTS: it cannot know the scheme.
    const production = loadConfig(PRODUCTION, {});
    assert.deepEqual([production.session.cookieName, production.session.secureCookie, production.hsts], ['__Host-gatehouse_session', true, false]);
    assert.equal(loadConfig({ PUBLIC_URL: 'https://id.school.cn', SESSION_COOKIE_NAME: 'sid' }, {}).session.cookieName, '__Host-sid');
    assert.equal(loadConfig({ SESSION_COOKIE_NAME: 'sid' }, {}).session.cookieName, 'sid');
  });

  it('COOKIE_DOMAIN: scopes the session cookie to a parent domain of PUBLIC_URL\'s host, named __Secure- when Secure; refuses anything else', () => {
    const secure = loadConfig({ PUBLIC_URL: 'https://id.school.cn', COOKIE_DOMAIN: '.School.CN' }, {});
    assert.deepEqual([secure.session.cookieName, secure.session.secureCookie, secure.session.cookieDomain], ['__Secure-gatehouse_session', true, 'school.cn']);
    assert.equal(loadConfig({ PUBLIC_URL: 'https://school.cn', COOKIE_DOMAIN: 'school.cn' }, {}).session.cookieDomain, 'school.cn', 'the host itself');
    const plain = loadConfig({ PUBLIC_URL: 'http://id.school.test', COOKIE_DOMAIN: 'school.test' }, {});
    assert.deepEqual([plain.session.cookieName, plain.session.cookieDomain], ['gatehouse_session', 'school.test']);
    assert.equal(loadConfig({ PUBLIC_URL: 'https://id.school.cn' }, {}).session.cookieDomain, undefined);
    const refused = (env: Record<string, string>, pattern: RegExp) =>
      assert.throws(() => loadConfig(env, {}), (e: unknown) => e instanceof ConfigError && pattern.test(e.message), JSON.stringify(env));
    refused({ COOKIE_DOMAIN: 'school.cn' }, /COOKIE_DOMAIN needs PUBLIC_URL/);
    for (const outside of ['https://id.other.cn', 'https://badschool.cn', 'https://127.0.0.1']) refused({ PUBLIC_URL: outside, COOKIE_DOMAIN: 'school.cn' }, /is not within COOKIE_DOMAIN school\.cn/);
    for (const bad of ['cn', 'https://school.cn', 'school.cn:443', 'school.cn/x', '10.0.0.1', '*.school.cn', 'school..cn', '学校.cn']) refused({ PUBLIC_URL: 'https://id.school.cn', COOKIE_DOMAIN: bad }, /COOKIE_DOMAIN must be a domain name/);
  });

  it('refuses a PUBLIC_URL that is not a base http(s) URL, and cookie settings that contradict it', () => {
    for (const value of ['id.school.cn', 'ftp://id.school.cn', 'https://id.school.cn/sso', 'https://id.school.cn/?x=1', 'https://id.school.cn/#top', 'https://user:pw@id.school.cn', 'https://']) {
      assert.throws(() => loadConfig({ PUBLIC_URL: value }, {}), (e: unknown) => e instanceof ConfigError && e.message.includes('PUBLIC_URL'), value);
    }
    assert.throws(() => loadConfig({ PUBLIC_URL: 'https://id.school.cn', SECURE_COOKIES: 'false' }, {}), (e: unknown) => e instanceof ConfigError && e.message.includes('SECURE_COOKIES'));
    for (const name of ['__Host-sid', '__secure-sid', 'a b', 'a;b']) {
      assert.throws(() => loadConfig({ SESSION_COOKIE_NAME: name }, {}), (e: unknown) => e instanceof ConfigError && e.message.includes('SESSION_COOKIE_NAME'), name);
    }
  });
});

describe('one secret key per installation', () => {
  it('the first start records the key; a start with another key is refused, naming SECRET_KEY, and the same key passes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-secret-'));
    const database = openSqlite({ file: path.join(dir, 'db.sqlite') });
    try {
      const first = 'the first key, at least 32 characters long';
      await prepareDatabase(database, first);
      await assert.rejects(prepareDatabase(database, 'another key, at least 32 characters long'), (e: unknown) => e instanceof ConfigError && /SECRET_KEY is not the key this database was set up with/.test(e.message) && !e.message.includes('another key'));
      await prepareDatabase(database, first);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the OpenID Connect issuer is PUBLIC_URL; http only on loopback in production; without PUBLIC_URL, localhost outside production and off in production', () => {
    assert.equal(loadConfig({ PUBLIC_URL: 'https://id.school.cn' }, {}).oidc.issuer, 'https://id.school.cn');
    assert.equal(loadConfig({ PUBLIC_URL: 'http://127.0.0.1:9527', ...PRODUCTION }, {}).oidc.issuer, 'http://127.0.0.1:9527');
    assert.equal(loadConfig({ PUBLIC_URL: 'http://localhost:9527', ...PRODUCTION }, {}).oidc.issuer, 'http://localhost:9527');
    assert.throws(() => loadConfig({ PUBLIC_URL: 'http://id.school.cn', ...PRODUCTION }, {}), /PUBLIC_URL must be https in production/);
    assert.equal(loadConfig({ PUBLIC_URL: 'http://id.school.cn' }, {}).oidc.issuer, 'http://id.school.cn');
    assert.equal(loadConfig({ PORT: '8080' }, {}).oidc.issuer, 'http://localhost:8080');
    assert.equal(loadConfig({ ...PRODUCTION }, {}).oidc.issuer, undefined);
    assert.throws(() => loadConfig({ OIDC_REFRESH_TOKEN_REUSE_SECONDS: '301' }, {}), /OIDC_REFRESH_TOKEN_REUSE_SECONDS/);
  });
});
