// The provider of one process, wired from the product's services: started by the composition root.
import type { FastifyBaseLogger } from 'fastify';
import { ReadThroughCache } from '../cache/read-through.js';
import type { Config } from '../config.js';
import type { CredentialResolver } from '../http/auth.js';
import type { KeyValueStore } from '../kv/store.js';
import type { AccountService } from '../accounts/service.js';
import type { OrgService } from '../orgs/service.js';
import type { SessionService } from '../sessions/service.js';
import { createAdapterFactory } from './adapter.js';
import type { ClientRegistry } from './clients/service.js';
import type { OidcGrants } from './grants.js';
import { LiveProvider } from './live-provider.js';
import { createProvider } from './provider.js';
import type { SigningKeys } from './signing-keys.js';

export interface ProviderServices {
  accounts: AccountService;
  orgs: OrgService;
  sessions: SessionService;
  clients: ClientRegistry;
  oidcGrants: OidcGrants;
  signingKeys: SigningKeys;
}

export function startProvider(deps: { config: Config; secret: string; kv: KeyValueStore; services: ProviderServices; credentials: CredentialResolver; log: FastifyBaseLogger }): Promise<LiveProvider> {
  const { config, services, log } = deps;
  // Organization names change rarely and go only into the organization claim: a rename reaches tokens within 5 s.
  const organizationNames = new ReadThroughCache<string>({ name: 'oidc_organization_names', ttlMs: 5_000, maxEntries: 10_000, load: async (id) => (await services.orgs.findOrganization(Number(id)))?.name ?? '' });
  const accounts = {
    async bySubject(subject: string) {
      const user = await services.accounts.findBySubject(subject);
      if (!user) return undefined;
      return { user, organizationName: await organizationNames.get(String(user.organization_id)) };
    },
    userIdOf: async (subject: string) => (await services.accounts.findBySubject(subject))?.id,
  };
  const adapter = createAdapterFactory({ kv: deps.kv, grants: services.oidcGrants, clients: services.clients });
  return LiveProvider.start({
    keys: services.signingKeys,
    refreshMs: config.oidc.keyRefreshSeconds * 1000,
    onError: (error) => log.warn({ err: error }, 'reading the OpenID Connect signing keys failed'),
    build: (signingKeys) => {
      const provider = createProvider(
        {
          config,
          secret: deps.secret,
          adapter,
          grants: services.oidcGrants,
          accounts,
          session: deps.credentials.session,
          endSession: async (token) => {
            await services.sessions.endByToken(token);
          },
          cookieName: config.session.cookieName,
        },
        signingKeys,
      );
      provider.on('server_error', (_ctx: unknown, error: unknown) => log.error({ err: error }, 'OpenID Connect provider error'));
      // An app that was not told of a sign-out keeps its session: say so where operators look.
      provider.on('backchannel.error', (_ctx: unknown, error: unknown, client: { clientId?: string }) => log.warn({ err: error, client_id: client?.clientId }, 'back-channel logout failed'));
      return provider;
    },
  });
}
