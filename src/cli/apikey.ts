// `gatehouse apikey …`: API keys for programs.
import { OPERATOR } from '../principal.js';
import { json, print, UsageError, withServices, type Command } from './command.js';

export const apiKeyCommands: Record<string, Command> = {
  'apikey create': {
    summary: 'Create an API key (shown once)',
    usage: 'gatehouse apikey create --name NAME --scopes tasks:write,tasks:read,admin [--expires-in-days DAYS] [--json]  (default expiry: API_KEY_DEFAULT_TTL_DAYS, 90)',
    options: { name: { type: 'string' }, scopes: { type: 'string' }, 'expires-in-days': { type: 'string' }, json },
    async run(values) {
      if (typeof values.name !== 'string') throw new UsageError('--name is required');
      if (typeof values.scopes !== 'string') throw new UsageError('--scopes is required (comma-separated: tasks:write, tasks:read, admin)');
      const days = values['expires-in-days'];
      if (days !== undefined && (typeof days !== 'string' || !/^\d{1,4}$/.test(days) || Number(days) < 1 || Number(days) > 3650)) throw new UsageError('--expires-in-days must be a whole number from 1 to 3650');
      const expiresInDays = typeof days === 'string' ? Number(days) : undefined;
      const { apiKeyJson } = await import('../apikeys/service.js');
      await withServices(async ({ apiKeys }) => {
        const { key, apiKey } = await apiKeys.create(OPERATOR, { name: values.name as string, scopes: (values.scopes as string).split(','), expiresInDays });
        const shown = apiKeyJson(apiKey);
        print({ key, api_key: shown }, values.json === true, () => `API key ${apiKey.prefix} (${apiKey.name}; ${apiKey.scopes.join(', ')}; expires ${shown.expires_at})\nkey (shown once): ${key}`);
      });
    },
  },
  'apikey list': {
    summary: 'List API keys (never their secrets)',
    usage: 'gatehouse apikey list [--json]',
    options: { json },
    async run(values) {
      const { apiKeyJson } = await import('../apikeys/service.js');
      await withServices(async ({ apiKeys }) => {
        const keys = (await apiKeys.list()).map(apiKeyJson);
        print({ api_keys: keys }, values.json === true, () =>
          keys.length === 0 ? 'no API keys' : keys.map((k) => `${k.id}\t${k.prefix}\t${k.name}\t${k.scopes.join(',')}\t${k.revoked_at ? 'revoked' : k.expires_at !== null && k.expires_at <= new Date().toISOString() ? 'expired' : `live until ${k.expires_at ?? '-'}`}\tlast used ${k.last_used_at ?? 'never'}`).join('\n'),
        );
      });
    },
  },
  'apikey revoke': {
    summary: 'Revoke an API key by its prefix',
    usage: 'gatehouse apikey revoke --prefix PREFIX [--json]',
    options: { prefix: { type: 'string' }, json },
    async run(values) {
      if (typeof values.prefix !== 'string') throw new UsageError('--prefix is required');
      const { apiKeyJson } = await import('../apikeys/service.js');
      await withServices(async ({ apiKeys }) => {
        const revoked = await apiKeys.revoke(OPERATOR, { prefix: values.prefix as string });
        if (!revoked) throw new UsageError(`no live API key with prefix ${values.prefix as string}`);
        print({ api_key: apiKeyJson(revoked) }, values.json === true, () => `revoked ${revoked.prefix}`);
      });
    },
  },
};
