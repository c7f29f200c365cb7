// `gatehouse limits …`: the per-address rate limits of a network.
import { isIP } from 'node:net';
import { OPERATOR } from '../principal.js';
import type { AddressLimits } from '../security/rate-limits.js';
import { json, print, UsageError, withServices, type Command, type FlagValue } from './command.js';

function ipAddress(value: FlagValue): string {
  if (typeof value !== 'string' || !isIP(value)) throw new UsageError('--address takes an IPv4 or IPv6 address');
  return value;
}

function addressLimitsText(state: AddressLimits): string {
  const head = `${state.network}${state.exempt ? ' (exempt: RATE_LIMIT_EXEMPT)' : ''}`;
  const rows = state.limits.map((l) => `  ${l.limit.padEnd(12)} ${l.used}/${l.points}${l.used > 0 ? `, resets in ${l.resets_in_seconds} s` : ''}`);
  return [head, ...rows].join('\n');
}

export const limitsCommands: Record<string, Command> = {
  'limits show': {
    summary: "An address's use of the per-address rate limits (captcha, registration, login, SMS)",
    usage: 'gatehouse limits show --address ADDRESS [--json]',
    options: { address: { type: 'string' }, json },
    async run(values) {
      const address = ipAddress(values.address);
      await withServices(async ({ rateLimits }) => {
        const state = await rateLimits.forAddress(address);
        print(state, values.json === true, () => addressLimitsText(state));
      });
    },
  },
  'limits reset': {
    summary: "Lift the per-address rate limits for an address's network (their counts start again)",
    usage: "gatehouse limits reset --address ADDRESS [--json]\n\n  For a workshop behind one address that met 'too many requests'. An IPv6 address lifts its whole\n  network (RATE_LIMIT_IPV6_PREFIX). To stop counting an address at all, see RATE_LIMIT_EXEMPT.",
    options: { address: { type: 'string' }, json },
    async run(values) {
      const address = ipAddress(values.address);
      await withServices(async ({ admin }) => {
        const { network, state } = await admin.rateLimits.reset(OPERATOR, address);
        print(state, values.json === true, () => `limits lifted for ${network}\n${addressLimitsText(state)}`);
      });
    },
  },
};
