// `gatehouse keys …`: the OpenID Connect provider's signing keys.
import { OPERATOR } from '../principal.js';
import { json, print, UsageError, withServices, type Command, type FlagValue } from './command.js';

/** A whole number of seconds from 0 up to `max`, or the default. */
function seconds(value: FlagValue, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value) || Number(value) > max) throw new UsageError(`${flag} takes a whole number of seconds from 0 to ${max}`);
  return Number(value);
}

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

export const keyCommands: Record<string, Command> = {
  'keys list': {
    summary: 'List the signing keys: which one signs, which are only published',
    usage: 'gatehouse keys list [--json]',
    options: { json },
    async run(values) {
      await withServices(async ({ signingKeys }) => {
        await signingKeys.ensure();
        const keys = (await signingKeys.list()).map((k) => ({ kid: k.kid, alg: k.alg, state: k.state, created_at: iso(k.createdAt), activates_at: iso(k.activatesAt), superseded_at: iso(k.supersededAt), retires_at: iso(k.retiresAt) }));
        print({ keys }, values.json === true, () => keys.map((k) => `${k.kid}\t${k.alg}\t${k.state}\tsigns from ${k.activates_at}${k.retires_at ? `\tpublished until ${k.retires_at}` : ''}`).join('\n'));
      });
    },
  },
  'keys rotate': {
    summary: 'Add a signing key: published at once, signing after --activate-in; the old one stays published for --retire-after',
    usage: 'gatehouse keys rotate [--activate-in SECONDS (default 120)] [--retire-after SECONDS (default 86400)] [--json]',
    options: { 'activate-in': { type: 'string' }, 'retire-after': { type: 'string' }, json },
    async run(values) {
      const { DEFAULT_ROTATION } = await import('../oidc/signing-keys.js');
      const activateInSeconds = seconds(values['activate-in'], '--activate-in', DEFAULT_ROTATION.activateInSeconds, 7 * 86_400);
      const retireAfterSeconds = seconds(values['retire-after'], '--retire-after', DEFAULT_ROTATION.retireAfterSeconds, 365 * 86_400);
      await withServices(async ({ signingKeys }) => {
        await signingKeys.ensure();
        const key = await signingKeys.rotate(OPERATOR, { activateInSeconds, retireAfterSeconds });
        print({ key: { kid: key.kid, alg: key.alg, activates_at: iso(key.activatesAt) } }, values.json === true, () => `new key ${key.kid} (${key.alg}): published now, signs from ${iso(key.activatesAt)}; the old one stays published ${retireAfterSeconds} s after that`);
      });
    },
  },
};
