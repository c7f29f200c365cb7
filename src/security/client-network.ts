// What the per-address rate limits count a client as.
//
// An IPv6 client is normally given a whole network (a /64 at least), so a limit that counts single
// IPv6 addresses limits nobody: the client takes the next address. The per-address limits therefore
// count an IPv6 client by its network prefix (RATE_LIMIT_IPV6_PREFIX, default /64), and an IPv4 client
// by its address — including one that a dual-stack listener (HOST=::) sees as an IPv4-mapped IPv6
// address (::ffff:a.b.c.d), which masked as IPv6 would put every IPv4 client in one bucket.
import ipaddr from 'ipaddr.js';

/** What the per-address limits need to know of a client. */
export interface LimitedClient {
  /** The IPv4 address, or the IPv6 network, that the per-address limits count. */
  network: string;
  /** An address of RATE_LIMIT_EXEMPT: the per-address limits do not count it. */
  exempt: boolean;
}

/** Who sent a request (http/client-identity.ts): the network and exemption are what the per-address limits count. */
export interface ClientContext extends LimitedClient {
  /** The address, exact: recorded with sessions and audit events. */
  ip: string;
  userAgent: string | null;
  /** The known-device cookie it sent (security/known-devices.ts), which the lockout counts by. */
  deviceCookie?: string | undefined;
}

export interface Addressing {
  /** RATE_LIMIT_IPV6_PREFIX */
  readonly ipv6Prefix: number;
  /** RATE_LIMIT_EXEMPT, as CIDRs */
  readonly exempt: readonly string[];
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** `address` parsed once, an IPv4-mapped IPv6 address as the IPv4 address it is; null for anything else. */
function parseAddress(address: string): Address | null {
  try {
    return ipaddr.process(address);
  } catch {
    return null;
  }
}

function networkOf(ip: Address, ipv6Prefix: number): string {
  if (ip.kind() === 'ipv4') return ip.toString();
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${ip.toNormalizedString()}/${ipv6Prefix}`).toRFC5952String();
  return ipv6Prefix === 128 ? network : `${network}/${ipv6Prefix}`;
}

function rangesMatcher(cidrs: readonly string[]): (ip: Address) => boolean {
  const ranges = cidrs.map((cidr) => ipaddr.parseCIDR(cidr));
  return (ip) => ranges.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));
}

/** The key a per-address limit counts `address` under. Anything that is not an address counts as itself. */
export function rateLimitNetwork(address: string, ipv6Prefix: number): string {
  const ip = parseAddress(address);
  return ip ? networkOf(ip, ipv6Prefix) : address;
}

/** How the per-address limits see clients: one parse of each address for its network and its exemption. */
export function clientClassifier(addressing: Addressing): (address: string) => LimitedClient {
  const inRanges = rangesMatcher(addressing.exempt);
  return (address) => {
    const ip = parseAddress(address);
    return ip ? { network: networkOf(ip, addressing.ipv6Prefix), exempt: inRanges(ip) } : { network: address, exempt: false };
  };
}
