// `gatehouse clients …`: the apps (OpenID Connect clients) that sign people in through Gatehouse.
import { clientJson, type ClientDetails, type ClientJson } from '../oidc/clients/views.js';
import { OPERATOR } from '../principal.js';
import { json, print, UsageError, withServices, type Command, type FlagValue } from './command.js';

const many = { type: 'string', multiple: true } as const;
const yesNo = (value: FlagValue, flag: string): boolean | undefined => {
  if (value === undefined) return undefined;
  if (value !== 'yes' && value !== 'no') throw new UsageError(`${flag} takes yes or no`);
  return value === 'yes';
};
const list = (value: FlagValue): string[] | undefined => (Array.isArray(value) ? value : typeof value === 'string' ? [value] : undefined);

/** Organization ids from repeated --organization flags; `all` (alone) lifts the limit. */
function organizationIds(value: FlagValue, allowAll: boolean): number[] | null | undefined {
  const given = list(value);
  if (given === undefined) return undefined;
  if (allowAll && given.length === 1 && given[0] === 'all') return null;
  return given.map((id) => {
    if (!/^\d+$/.test(id) || Number(id) < 1) throw new UsageError(`--organization takes an organization id (a whole number of at least 1)${allowAll ? ', or all' : ''}`);
    return Number(id);
  });
}

/** Roles from repeated --role flags (the registry says which exist); `all` (alone) lifts the limit. */
function roles(value: FlagValue, allowAll: boolean): string[] | null | undefined {
  const given = list(value);
  if (given === undefined) return undefined;
  return allowAll && given.length === 1 && given[0] === 'all' ? null : given;
}

/** A list of URIs to set, where `none` (alone) empties it. */
function uris(value: FlagValue): string[] | undefined {
  const given = list(value);
  return given?.length === 1 && given[0] === 'none' ? [] : given;
}

function clientId(positionals: string[]): string {
  return positionals[0]!;
}

/** A client as the text output shows it, one field a line. */
function describe(c: ClientJson): string {
  return [
    `client_id: ${c.client_id}`,
    `name: ${c.name}`,
    `type: ${c.type}${c.first_party ? ', first-party' : ''}`,
    `status: ${c.status}`,
    `grant types: ${c.grant_types.join(', ')}`,
    `redirect URIs: ${c.redirect_uris.join(' ') || '-'}`,
    `post-logout redirect URIs: ${c.post_logout_redirect_uris.join(' ') || '-'}`,
    `back-channel logout URI: ${c.backchannel_logout_uri ?? '-'}`,
    `organizations: ${c.allowed_organization_ids?.join(', ') ?? 'all'}`,
    `roles: ${c.allowed_roles?.join(', ') ?? 'all'}`,
    `created ${c.created_at} by ${c.created_by ?? '-'}; secret rotated ${c.secret_rotated_at ?? 'never'}`,
  ].join('\n');
}

/** The answer to create and rotate-secret: the client, with the secret (for a confidential client) beside its id. */
function withSecret(client: ClientDetails, secret: string | null, asJson: boolean, said: string): void {
  const shown = clientJson(client);
  print({ ...shown, ...(secret === null ? {} : { client_secret: secret }) }, asJson, () =>
    [said, describe(shown), secret === null ? 'no client secret: a public client signs in with PKCE' : `client_secret (shown once, stored only as its hash): ${secret}`].join('\n'),
  );
}

const CLIENT_ID = ['CLIENT_ID'] as const;

export const clientCommands: Record<string, Command> = {
  'clients create': {
    summary: 'Register an app that signs people in with OpenID Connect (its secret is shown once)',
    usage:
      'gatehouse clients create --name NAME --redirect-uri URI [--redirect-uri URI …] [--post-logout-redirect-uri URI …]\n' +
      '         [--backchannel-logout-uri URI] [--public] [--first-party] [--organization ID …] [--role ROLE …] [--grant-type TYPE …] [--json]\n\n' +
      '  --redirect-uri         exact, absolute, no fragment; https, or http on localhost, 127.0.0.1 or [::1] (repeat for more)\n' +
      '  --public               a single-page or mobile app: no secret, PKCE only, no client_credentials\n' +
      '  --first-party          the school\'s own system: no consent page\n' +
      '  --organization, --role only members of these organizations, or these roles (user, org_admin, admin), may sign in\n' +
      '  --grant-type           authorization_code, refresh_token, client_credentials (default: all a confidential client may use;\n' +
      '                         authorization_code and refresh_token for a public one); a client_credentials-only app needs no redirect URI',
    options: {
      name: { type: 'string' },
      'redirect-uri': many,
      'post-logout-redirect-uri': many,
      'backchannel-logout-uri': { type: 'string' },
      public: { type: 'boolean', default: false },
      'first-party': { type: 'boolean', default: false },
      organization: many,
      role: many,
      'grant-type': many,
      json,
    },
    async run(values) {
      if (typeof values.name !== 'string') throw new UsageError('--name is required');
      await withServices(async ({ clients }) => {
        const { client, secret } = await clients.create(OPERATOR, {
          name: values.name as string,
          redirectUris: list(values['redirect-uri']) ?? [],
          postLogoutRedirectUris: list(values['post-logout-redirect-uri']),
          backchannelLogoutUri: typeof values['backchannel-logout-uri'] === 'string' ? values['backchannel-logout-uri'] : null,
          public: values.public === true,
          firstParty: values['first-party'] === true,
          grantTypes: list(values['grant-type']),
          allowedOrganizationIds: organizationIds(values.organization, false),
          allowedRoles: roles(values.role, false),
        });
        withSecret(client, secret, values.json === true, `app ${client.clientId} "${client.name}" registered`);
      });
    },
  },
  'clients list': {
    summary: 'List the registered apps (never their secrets)',
    usage: 'gatehouse clients list [--json]',
    options: { json },
    async run(values) {
      await withServices(async ({ clients }) => {
        const shown = (await clients.list()).map(clientJson);
        print({ clients: shown }, values.json === true, () =>
          shown.length === 0 ? 'no apps' : shown.map((c) => `${c.client_id}\t${c.name}\t${c.type}${c.first_party ? ',first-party' : ''}\t${c.status}\t${c.redirect_uris.join(' ') || '-'}`).join('\n'),
        );
      });
    },
  },
  'clients show': {
    summary: 'Show one app (never its secret)',
    usage: 'gatehouse clients show CLIENT_ID [--json]',
    options: { json },
    positionals: CLIENT_ID,
    async run(values, positionals) {
      await withServices(async ({ clients }) => {
        const shown = clientJson(await clients.show(clientId(positionals)));
        print(shown, values.json === true, () => describe(shown));
      });
    },
  },
  'clients set': {
    summary: "Change an app's name, URIs, first-party flag or who may sign in",
    usage:
      'gatehouse clients set CLIENT_ID [--name NAME] [--redirect-uri URI …] [--post-logout-redirect-uri URI|none …] [--backchannel-logout-uri URI|none]\n' +
      '         [--first-party yes|no] [--organization ID|all …] [--role ROLE|all …] [--json]\n\n' +
      '  A repeated flag replaces the whole list; none empties it, all lifts the limit. Shutting out organizations or roles\n' +
      "  revokes the app's grants (everyone still allowed signs in again without typing anything).",
    options: {
      name: { type: 'string' },
      'redirect-uri': many,
      'post-logout-redirect-uri': many,
      'backchannel-logout-uri': { type: 'string' },
      'first-party': { type: 'string' },
      organization: many,
      role: many,
      json,
    },
    positionals: CLIENT_ID,
    async run(values, positionals) {
      const backchannel = values['backchannel-logout-uri'];
      const changes = {
        name: typeof values.name === 'string' ? values.name : undefined,
        redirectUris: list(values['redirect-uri']),
        postLogoutRedirectUris: uris(values['post-logout-redirect-uri']),
        backchannelLogoutUri: backchannel === 'none' ? null : typeof backchannel === 'string' ? backchannel : undefined,
        firstParty: yesNo(values['first-party'], '--first-party'),
        allowedOrganizationIds: organizationIds(values.organization, true),
        allowedRoles: roles(values.role, true),
      };
      if (Object.values(changes).every((v) => v === undefined)) throw new UsageError('nothing to change: give at least one flag');
      await withServices(async ({ clients }) => {
        const shown = clientJson(await clients.update(OPERATOR, clientId(positionals), changes));
        print(shown, values.json === true, () => describe(shown));
      });
    },
  },
  'clients rotate-secret': {
    summary: "Replace a confidential app's secret (the new one is shown once; the old one stops working at once)",
    usage: "gatehouse clients rotate-secret CLIENT_ID [--json]\n\n  The app's users stay signed in; enter the new secret in the app's settings.",
    options: { json },
    positionals: CLIENT_ID,
    async run(values, positionals) {
      await withServices(async ({ clients }) => {
        const { client, secret } = await clients.rotateSecret(OPERATOR, clientId(positionals));
        withSecret(client, secret, values.json === true, `app ${client.clientId} "${client.name}" has a new secret`);
      });
    },
  },
  'clients disable': {
    summary: 'Refuse an app everywhere and revoke its grants and refresh tokens (until enabled)',
    usage: 'gatehouse clients disable CLIENT_ID [--json]',
    options: { json },
    positionals: CLIENT_ID,
    async run(values, positionals) {
      await withServices(async ({ clients }) => {
        const shown = clientJson(await clients.disable(OPERATOR, clientId(positionals)));
        print(shown, values.json === true, () => `app ${shown.client_id} "${shown.name}" disabled; its grants and refresh tokens are revoked`);
      });
    },
  },
  'clients enable': {
    summary: 'Let a disabled app sign people in again',
    usage: 'gatehouse clients enable CLIENT_ID [--json]',
    options: { json },
    positionals: CLIENT_ID,
    async run(values, positionals) {
      await withServices(async ({ clients }) => {
        const shown = clientJson(await clients.enable(OPERATOR, clientId(positionals)));
        print(shown, values.json === true, () => `app ${shown.client_id} "${shown.name}" enabled`);
      });
    },
  },
  'clients delete': {
    summary: 'Delete an app and revoke its grants and refresh tokens',
    usage: 'gatehouse clients delete CLIENT_ID --yes [--json]\n\n  --yes confirms: it cannot be undone (registering the app again gives it a new client id and secret).',
    options: { yes: { type: 'boolean' }, json },
    positionals: CLIENT_ID,
    async run(values, positionals) {
      if (values.yes !== true) throw new UsageError('deleting an app cannot be undone: add --yes to confirm');
      await withServices(async ({ clients }) => {
        const deleted = await clients.delete(OPERATOR, clientId(positionals));
        print({ deleted: true, client_id: deleted.clientId }, values.json === true, () => `app ${deleted.clientId} "${deleted.name}" deleted`);
      });
    },
  },
};
