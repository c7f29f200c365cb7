// Who sent a request, as the services see it: the address (kept exact, for sessions and the audit
// log) and the network that the per-address rate limits count.
//
// An IPv6 client is normally given a whole network (a /64 at least), so a limit that counts single
// IPv6 addresses limits nobody: the client takes the next address. The per-address limits therefore
// count an IPv6 client by its network prefix (RATE_LIMIT_IPV6_PREFIX, default /64), and an IPv4 client
// by its address — including one that a dual-stack listener (HOST=::) sees as an IPv4-mapped IPv6
// address (::ffff:a.b.c.d), which masked as IPv6 would put every IPv4 client in one bucket.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import type { ClientContext } from '../accounts/service.js';

/** The key a per-address limit counts `address` under. Anything that is not an address counts as itself. */
export function rateLimitNetwork(address: string, ipv6Prefix: number): string {
  if (!ipaddr.isValid(address)) return address;
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') return ip.toString();
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${ip.toNormalizedString()}/${ipv6Prefix}`).toRFC5952String();
  return ipv6Prefix === 128 ? network : `${network}/${ipv6Prefix}`;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The client's network for the per-address rate limits (see rateLimitNetwork). */
    readonly clientNetwork: string;
  }
}

export function installClientNetwork(app: FastifyInstance, ipv6Prefix: number): void {
  app.decorateRequest('clientNetwork', {
    getter(this: FastifyRequest) {
      return rateLimitNetwork(this.ip, ipv6Prefix);
    },
  });
}

export function clientOf(request: FastifyRequest): ClientContext {
  return { ip: request.ip, network: request.clientNetwork, userAgent: request.headers['user-agent'] ?? null };
}
