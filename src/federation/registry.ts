// The sign-in providers an administrator set up (WeChat, WeCom, DingTalk, Feishu, any OpenID Connect
// provider): set, listed, enabled and disabled by platform administrators from the console, the API
// or the command line, each change audited. The app secret is sealed with SECRET_KEY before it is
// stored, never listed and never audited; only settings(), for the sign-in flow, unseals it.
import type { AuditLog } from '../audit/service.js';
import { ReadThroughCache } from '../cache/read-through.js';
import type { Database } from '../db/database.js';
import type { SignInProviderRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { OrgService } from '../orgs/service.js';
import { actorName, addressOf, requirePlatform, type Principal } from '../principal.js';
import { seal, unseal } from '../security/seal.js';
import { appId, appSecret, baseUrl, extraSettings, PROVIDER_NAMES, providerName } from './provider-rules.js';
import { createSignInProviderRepo } from './providers-repo.js';
import type { ProviderName, ProviderSettings } from './types.js';

/** How long a process answers enabled() from memory: a change made on another worker or server shows on its login page within this. */
export const ENABLED_TTL_MS = 5_000;

/** A provider on the login page: its name, and the administrator's label for it (a generic OpenID Connect provider's). */
export interface OfferedProvider {
  name: ProviderName;
  displayName: string | null;
}

export interface ProviderInput {
  appId: string;
  /** Required the first time; absent on a change, the stored secret stays. */
  appSecret?: string | undefined;
  /** null or absent: the provider's default. */
  authorizeUrl?: string | null | undefined;
  apiUrl?: string | null | undefined;
  extra?: Readonly<Record<string, string>> | undefined;
  /** Accounts this provider registers join this organization without an invitation code; null or absent: an invitation code is needed. */
  boundOrganizationId?: number | null | undefined;
}

/** A provider as the console and the command line see it: never its secret. */
export interface ProviderView {
  name: ProviderName;
  /** Whether an administrator set it up; the other fields are empty until then. */
  configured: boolean;
  enabled: boolean;
  appId: string | null;
  appSecretSet: boolean;
  authorizeUrl: string | null;
  apiUrl: string | null;
  extra: Readonly<Record<string, string>>;
  boundOrganizationId: number | null;
  createdAt: number | null;
  updatedAt: number | null;
}

export interface SignInProvidersDeps {
  database: Database;
  audit: AuditLog;
  /** The service secret (SECRET_KEY): the seal's key is derived from it. */
  secret: string;
  /** A bound organization must exist. */
  orgs: Pick<OrgService, 'findOrganization'>;
  now?: () => number;
}

const PURPOSE = 'sign-in provider secret';

const notSetUp = (name: string) => new AppError('SIGN_IN_PROVIDER_NOT_FOUND', { message: `The sign-in provider ${name} is not set up: set it first (gatehouse providers set ${name} …).` });

function toView(name: ProviderName, row: SignInProviderRow | undefined): ProviderView {
  if (!row) return { name, configured: false, enabled: false, appId: null, appSecretSet: false, authorizeUrl: null, apiUrl: null, extra: {}, boundOrganizationId: null, createdAt: null, updatedAt: null };
  return {
    name,
    configured: true,
    enabled: row.enabled === 1,
    appId: row.app_id,
    appSecretSet: row.app_secret !== '',
    authorizeUrl: row.authorize_url,
    apiUrl: row.api_url,
    extra: JSON.parse(row.extra) as Record<string, string>,
    boundOrganizationId: row.bound_organization_id,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export class SignInProviders {
  private readonly repo;
  private readonly now: () => number;
  private readonly enabledCache: ReadThroughCache<readonly OfferedProvider[]>;

  constructor(private readonly deps: SignInProvidersDeps) {
    this.repo = createSignInProviderRepo(deps.database.db);
    this.now = deps.now ?? Date.now;
    // The login page asks on every visit; a school has at most six rows, read once per TTL.
    this.enabledCache = new ReadThroughCache({
      name: 'sign-in-providers-enabled',
      ttlMs: ENABLED_TTL_MS,
      maxEntries: 1,
      load: async () => {
        const rows = new Map((await this.repo.enabled()).map((row) => [row.name, row]));
        return PROVIDER_NAMES.flatMap((name) => {
          const row = rows.get(name);
          if (!row) return [];
          const label = (JSON.parse(row.extra) as Record<string, string>).display_name;
          return [{ name, displayName: label ?? null }];
        });
      },
      now: this.now,
    });
  }

  /** Sets a provider up, or replaces its settings (the secret stays when none is given); new providers start enabled. */
  async set(by: Principal, rawName: string, input: ProviderInput): Promise<ProviderView> {
    requirePlatform(by, 'set up sign-in providers');
    const name = providerName(rawName);
    const id = appId(input.appId);
    const secret = input.appSecret === undefined ? undefined : appSecret(input.appSecret);
    const authorizeUrl = baseUrl(input.authorizeUrl, 'authorize_url');
    const apiUrl = baseUrl(input.apiUrl, 'api_url');
    const extra = extraSettings(name, input.extra);
    const organizationId = input.boundOrganizationId ?? null;
    if (organizationId !== null && !(await this.deps.orgs.findOrganization(organizationId))) {
      throw new AppError('ORGANIZATION_NOT_FOUND', { message: `No organization ${organizationId}.`, details: { field: 'bound_organization_id' } });
    }
    const now = this.now();
    const { row, created } = await this.deps.database.write(async (trx) => {
      const repo = createSignInProviderRepo(trx);
      const current = await repo.find(name);
      const sealed = secret === undefined ? current?.app_secret : seal(this.deps.secret, PURPOSE, secret);
      if (sealed === undefined) throw new AppError('INVALID_SIGN_IN_PROVIDER_SETTINGS', { message: `Give ${name}'s app secret: it is set up for the first time.`, details: { field: 'app_secret' } });
      const saved = await repo.upsert({
        name,
        app_id: id,
        app_secret: sealed,
        authorize_url: authorizeUrl,
        api_url: apiUrl,
        extra: JSON.stringify(extra),
        bound_organization_id: organizationId,
        enabled: current?.enabled ?? 1,
        created_at: current?.created_at ?? now,
        updated_at: now,
      });
      await this.deps.audit.insertWith(trx, {
        event: 'sign_in_provider.set',
        actor: actorName(by),
        ip: addressOf(by),
        target: `sign_in_provider:${name}`,
        // Never the secret: only whether it changed.
        detail: { created: current === undefined, app_id: id, app_secret_changed: secret !== undefined, authorize_url: authorizeUrl, api_url: apiUrl, extra, bound_organization_id: organizationId },
      });
      return { row: saved, created: current === undefined };
    });
    // A new provider starts enabled; a changed label shows on the login page.
    this.enabledCache.clear();
    return toView(name, row);
  }

  /** Every provider Gatehouse knows, set up or not, in the login page's order; never a secret. */
  async list(): Promise<ProviderView[]> {
    const rows = new Map((await this.repo.list()).map((row) => [row.name, row]));
    return PROVIDER_NAMES.map((name) => toView(name, rows.get(name)));
  }

  /** One provider as the console shows it; SIGN_IN_PROVIDER_NOT_FOUND for an unknown name. */
  async show(rawName: string): Promise<ProviderView> {
    const name = providerName(rawName);
    return toView(name, await this.repo.find(name));
  }

  /** The settings with the secret unsealed, for the sign-in flow only; SIGN_IN_PROVIDER_NOT_FOUND when unknown or not set up. */
  async settings(rawName: string): Promise<ProviderSettings> {
    const name = providerName(rawName);
    const row = await this.repo.find(name);
    if (!row) throw notSetUp(name);
    return {
      name,
      appId: row.app_id,
      appSecret: unseal(this.deps.secret, PURPOSE, row.app_secret),
      authorizeUrl: row.authorize_url,
      apiUrl: row.api_url,
      extra: Object.freeze(JSON.parse(row.extra) as Record<string, string>),
      boundOrganizationId: row.bound_organization_id,
      enabled: row.enabled === 1,
    };
  }

  /** The providers the login page offers, with the administrator's label where one was set; at most ENABLED_TTL_MS old (this process's own changes show at once). */
  offered(): Promise<readonly OfferedProvider[]> {
    return this.enabledCache.get('enabled');
  }

  /** The names of the providers the login page offers. */
  async enabled(): Promise<readonly ProviderName[]> {
    return (await this.offered()).map((p) => p.name);
  }

  async disable(by: Principal, rawName: string): Promise<ProviderView> {
    return this.setEnabled(by, rawName, false);
  }

  async enable(by: Principal, rawName: string): Promise<ProviderView> {
    return this.setEnabled(by, rawName, true);
  }

  private async setEnabled(by: Principal, rawName: string, enabled: boolean): Promise<ProviderView> {
    requirePlatform(by, `${enabled ? 'enable' : 'disable'} sign-in providers`);
    const name = providerName(rawName);
    const row = await this.deps.database.write(async (trx) => {
      const updated = await createSignInProviderRepo(trx).setEnabled(name, enabled, this.now());
      if (!updated) throw notSetUp(name);
      await this.deps.audit.insertWith(trx, {
        event: enabled ? 'sign_in_provider.enabled' : 'sign_in_provider.disabled',
        actor: actorName(by),
        ip: addressOf(by),
        target: `sign_in_provider:${name}`,
      });
      return updated;
    });
    this.enabledCache.clear();
    return toView(name, row);
  }
}
