// The network a per-address rate limit counts a client under (src/http/client-identity.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientClassifier, rateLimitNetwork } from '../../src/security/client-network.js';

describe('rateLimitNetwork', () => {
  it('counts an IPv4 client by its address', () => {
    assert.equal(rateLimitNetwork('203.0.113.7', 64), '203.0.113.7');
    assert.notEqual(rateLimitNetwork('203.0.113.7', 64), rateLimitNetwork('203.0.113.8', 64));
  });

  it('counts an IPv4-mapped IPv6 address (a dual-stack listener) as the IPv4 client it is', () => {
    assert.equal(rateLimitNetwork('::ffff:203.0.113.7', 64), '203.0.113.7');
    assert.notEqual(rateLimitNetwork('::ffff:203.0.113.7', 64), rateLimitNetwork('::ffff:203.0.113.8', 64));
  });

  it('counts an IPv6 client by its network of the configured prefix', () => {
    assert.equal(rateLimitNetwork('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 64), '2001:db8:1:2::/64');
    assert.equal(rateLimitNetwork('2001:db8:1:2::1', 64), rateLimitNetwork('2001:db8:1:2:ffff::9', 64));
    assert.notEqual(rateLimitNetwork('2001:db8:1:2::1', 64), rateLimitNetwork('2001:db8:1:3::1', 64));
    assert.equal(rateLimitNetwork('2001:db8:1:2ff::1', 56), '2001:db8:1:200::/56');
    assert.equal(rateLimitNetwork('2001:db8:1:2ff::1', 56), rateLimitNetwork('2001:db8:1:200::1', 56));
  });

  it('writes one network one way, whatever the spelling of the address', () => {
    assert.equal(rateLimitNetwork('2001:DB8:0:0:1::5', 128), '2001:db8::1:0:0:5');
    assert.equal(rateLimitNetwork('2001:DB8:0:0:1::5', 128), rateLimitNetwork('2001:db8::1:0:0:5', 128));
    assert.equal(rateLimitNetwork('2001:db8::1%eth0', 64), rateLimitNetwork('2001:db8::2', 64));
  });

  it('with a prefix of 128, each IPv6 address is its own client', () => {
    assert.notEqual(rateLimitNetwork('2001:db8::1', 128), rateLimitNetwork('2001:db8::2', 128));
  });

  it('anything that is not an address counts as itself', () => {
    assert.equal(rateLimitNetwork('unknown', 64), 'unknown');
    assert.equal(rateLimitNetwork('', 64), '');
  });
});

describe('clientClassifier: exemption (RATE_LIMIT_EXEMPT) and network in one', () => {
  const classify = clientClassifier({ ipv6Prefix: 64, exempt: ['203.0.113.0/24', '2001:db8:5::/48', '198.51.100.7/32'] });
  const exempt = (address: string) => classify(address).exempt;

  it('matches addresses inside the ranges and nothing else', () => {
    assert.equal(exempt('203.0.113.200'), true);
    assert.equal(exempt('203.0.114.1'), false);
    assert.equal(exempt('198.51.100.7'), true);
    assert.equal(exempt('198.51.100.8'), false);
    assert.equal(exempt('2001:db8:5:ffff::1'), true);
    assert.equal(exempt('2001:db8:6::1'), false);
  });

  it('an IPv4 client of a dual-stack listener matches as IPv4; what is not an address matches nothing', () => {
    assert.equal(exempt('::ffff:203.0.113.9'), true);
    assert.equal(exempt('unknown'), false);
    assert.equal(clientClassifier({ ipv6Prefix: 64, exempt: [] })('203.0.113.9').exempt, false);
    assert.deepEqual(classify('unknown'), { network: 'unknown', exempt: false });
    assert.deepEqual(classify('2001:db8:5:1:2:3:4:5'), { network: '2001:db8:5:1::/64', exempt: true });
  });
});

