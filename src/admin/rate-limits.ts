// An administrator lifts the per-address rate limits of a network (a workshop behind one address that
// met "too many requests"), from the console or the command line, with its audit event.
import type { AuditLog } from '../audit/service.js';
import type { Principal } from '../principal.js';
import type { AddressLimits, RateLimits } from '../security/rate-limits.js';

export class RateLimitAdmin {
  constructor(private readonly deps: { rateLimits: RateLimits; audit: AuditLog }) {}

  /** Starts the counts of the address's network again; returns the network and the limits' state now. */
  async reset(by: Principal, address: string): Promise<{ network: string; state: AddressLimits }> {
    const network = await this.deps.rateLimits.resetForAddress(address);
    await this.deps.audit.recordBy(by, { event: 'admin.rate_limits_reset', target: `network:${network}` });
    return { network, state: await this.deps.rateLimits.forAddress(address) };
  }
}
