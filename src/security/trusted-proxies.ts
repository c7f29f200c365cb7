// Whether the peer of a connection is one of the proxies TRUST_PROXY names: the only senders whose
// X-Forwarded-* (and nginx's X-Original-URL) describe a request truthfully. Fastify decides the same
// for request.host and request.protocol; forward auth asks it of the original URL it judges.
import ipaddr from 'ipaddr.js';
import type { TrustProxy } from '../config.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

// The names TRUST_PROXY accepts, as proxy-addr (Fastify's) defines them.
const NAMED_RANGES: Record<string, readonly string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function toRange(entry: string): [Address, number] {
  if (ipaddr.isValidCIDR(entry)) return ipaddr.parseCIDR(entry);
  const address = ipaddr.parse(entry);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/**
 * A test of the connection's peer address. A hop count names no address, so it trusts no peer here
 * (as in Fastify): whoever connects directly could be a client claiming to be the proxy.
 */
export function trustedProxyMatcher(trustProxy: TrustProxy): (peer: string | undefined) => boolean {
  if (trustProxy === false || typeof trustProxy === 'number') return () => false;
  const entries = (Array.isArray(trustProxy) ? trustProxy : trustProxy.split(',')).map((e) => e.trim()).filter(Boolean);
  const ranges = entries.flatMap((entry) => (NAMED_RANGES[entry] ?? [entry]).map(toRange));
  return (peer) => {
    if (!peer) return false;
    let address: Address;
    try {
      // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d: judged as the IPv4 address it is.
      address = ipaddr.process(peer);
    } catch {
      return false;
    }
    return ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
  };
}
