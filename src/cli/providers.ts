// `gatehouse providers …`: the upstream sign-in providers (WeChat, WeCom, DingTalk, Feishu, any
// OpenID Connect provider). Running servers offer a newly enabled or disabled one within 5 seconds.
import { providerJson, type ProviderJson } from '../federation/views.js';
import { OPERATOR } from '../principal.js';
import { json, positiveInt, print, UsageError, withServices, type Command, type FlagValue } from './command.js';

const NAME = ['NAME'] as const;

/** key=value pairs from repeated --extra flags. */
function extras(value: FlagValue): Record<string, string> | undefined {
  const given = Array.isArray(value) ? value : typeof value === 'string' ? [value] : undefined;
  if (given === undefined) return undefined;
  const extra: Record<string, string> = {};
  for (const pair of given) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`--extra takes key=value (given ${JSON.stringify(pair)})`);
    extra[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return extra;
}

/** The secret from --app-secret, or from standard input with --app-secret-stdin (out of the shell history and the process list). */
async function secret(values: Record<string, FlagValue>): Promise<string | undefined> {
  const given = values['app-secret'];
  if (values['app-secret-stdin'] !== true) return typeof given === 'string' ? given : undefined;
  if (given !== undefined) throw new UsageError('give --app-secret or --app-secret-stdin, not both');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function describe(p: ProviderJson): string {
  if (!p.configured) return `${p.name}\tnot set up`;
  const extra = Object.entries(p.extra).map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    p.name,
    p.enabled ? 'enabled' : 'disabled',
    `app id ${p.app_id}`,
    p.app_secret_set ? 'secret set' : 'no secret',
    `authorize ${p.authorize_url ?? 'default'}`,
    `api ${p.api_url ?? 'default'}`,
    `organization ${p.bound_organization_id ?? 'none (invitation code needed)'}`,
    ...(extra ? [extra] : []),
  ].join('\t');
}

function toggle(enable: boolean): Command {
  return {
    summary: enable ? 'Offer a sign-in provider on the login page again' : 'Stop offering a sign-in provider on the login page (linked accounts stay)',
    usage: `gatehouse providers ${enable ? 'enable' : 'disable'} NAME [--json]`,
    options: { json },
    positionals: NAME,
    async run(values, positionals) {
      await withServices(async ({ signInProviders }) => {
        const shown = providerJson(await (enable ? signInProviders.enable(OPERATOR, positionals[0]!) : signInProviders.disable(OPERATOR, positionals[0]!)));
        print({ provider: shown }, values.json === true, () => describe(shown));
      });
    },
  };
}

export const providerCommands: Record<string, Command> = {
  'providers set': {
    summary: 'Set up a sign-in provider (wechat, wechat_mp, wecom, dingtalk, feishu, oidc), or replace its settings',
    usage:
      'gatehouse providers set NAME --app-id ID [--app-secret SECRET | --app-secret-stdin] [--authorize-url BASE] [--api-url BASE] [--extra key=value …] [--organization ID] [--json]\n\n' +
      '  --app-secret     sealed at rest, never shown again; --app-secret-stdin reads it from standard input; leave both out to keep the stored one\n' +
      "  --authorize-url  where browsers are sent to authorize; --api-url where the server calls the provider (default: the provider's own;\n" +
      '                   https, or http on localhost, 127.0.0.1 or [::1])\n' +
      '  --extra          wechat_mp: scope=snsapi_userinfo|snsapi_base; wecom: agent_id=… (required), corp_id=…; oidc: issuer=… (required), scopes=…\n' +
      '  --organization   accounts this provider registers join this organization without an invitation code\n' +
      'Settings left out go back to their defaults; a new provider starts enabled.',
    options: {
      'app-id': { type: 'string' },
      'app-secret': { type: 'string' },
      'app-secret-stdin': { type: 'boolean', default: false },
      'authorize-url': { type: 'string' },
      'api-url': { type: 'string' },
      extra: { type: 'string', multiple: true },
      organization: { type: 'string' },
      json,
    },
    positionals: NAME,
    async run(values, positionals) {
      if (typeof values['app-id'] !== 'string') throw new UsageError('--app-id is required');
      const input = {
        appId: values['app-id'],
        appSecret: await secret(values),
        authorizeUrl: typeof values['authorize-url'] === 'string' ? values['authorize-url'] : null,
        apiUrl: typeof values['api-url'] === 'string' ? values['api-url'] : null,
        extra: extras(values.extra),
        boundOrganizationId: positiveInt(values.organization, '--organization') ?? null,
      };
      await withServices(async ({ signInProviders }) => {
        const shown = providerJson(await signInProviders.set(OPERATOR, positionals[0]!, input));
        print({ provider: shown }, values.json === true, () => describe(shown));
      });
    },
  },
  'providers list': {
    summary: 'List the sign-in providers, set up or not (never their secrets)',
    usage: 'gatehouse providers list [--json]',
    options: { json },
    async run(values) {
      await withServices(async ({ signInProviders }) => {
        const shown = (await signInProviders.list()).map(providerJson);
        print({ providers: shown }, values.json === true, () => shown.map(describe).join('\n'));
      });
    },
  },
  'providers disable': toggle(false),
  'providers enable': toggle(true),
};
