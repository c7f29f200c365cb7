// The provider's only seam to storage (oidc-provider's adapter interface). Durable records (grants,
// refresh tokens) go to the database; short-lived ones (sessions, interactions, authorization codes,
// access tokens) to the shared key-value store, so that every worker and server sees the same and a
// code is single-use everywhere. Clients come from the registry.
import { errors, Provider } from 'oidc-provider';
import type { KeyValueStore } from '../kv/store.js';
import type { ClientLookup } from './clients/types.js';
import { clientMetadata } from './client-metadata.js';
import { GrantRefused, type OidcGrants, type ProviderPayload } from './grants.js';

/** What the provider asks of each model's store. */
export interface ProviderAdapter {
  upsert(id: string, payload: ProviderPayload, expiresIn: number): Promise<void>;
  find(id: string): Promise<ProviderPayload | undefined>;
  findByUid(uid: string): Promise<ProviderPayload | undefined>;
  findByUserCode(userCode: string): Promise<ProviderPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export interface AdapterDeps {
  kv: KeyValueStore;
  grants: OidcGrants;
  clients: ClientLookup;
}

/** How long a record without its own expiry is kept (the provider gives every model one today). */
const DEFAULT_TTL_SECONDS = 3600;
/** A consumed mark outlives the code it marks (codes live 60 s). */
const CONSUMED_MARK_TTL_MS = 15 * 60_000;

class ShortLivedAdapter implements ProviderAdapter {
  constructor(private readonly name: string, private readonly kv: KeyValueStore) {}

  private key(id: string): string {
    return `oidc:${this.name}:${id}`;
  }

  async upsert(id: string, payload: ProviderPayload, expiresIn: number): Promise<void> {
    const ttlMs = (expiresIn || DEFAULT_TTL_SECONDS) * 1000;
    await this.kv.put(this.key(id), JSON.stringify(payload), ttlMs);
    // Sessions are also found by their uid (the provider's cookie names the uid, not the id).
    if (typeof payload.uid === 'string' && this.name === 'Session') await this.kv.put(`oidc:Session-uid:${payload.uid}`, id, ttlMs);
  }

  async find(id: string): Promise<ProviderPayload | undefined> {
    const [stored, consumed] = await Promise.all([this.kv.get(this.key(id)), this.name === 'AuthorizationCode' ? this.kv.get(`oidc:consumed:${id}`) : null]);
    if (stored === null) return undefined;
    const payload = JSON.parse(stored) as ProviderPayload;
    if (consumed !== null) payload.consumed = Number(consumed);
    return payload;
  }

  async findByUid(uid: string): Promise<ProviderPayload | undefined> {
    const id = await this.kv.get(`oidc:Session-uid:${uid}`);
    return id === null ? undefined : this.find(id);
  }

  async findByUserCode(): Promise<ProviderPayload | undefined> {
    // The device flow is not enabled: nothing is ever stored by user code.
    return undefined;
  }

  /**
   * Single use across every worker and server: the counter's increment is atomic in every store, so
   * of two token requests racing with one code exactly one sees 1. The provider checks `consumed`
   * only after its own read, which both racers may pass; refusing here closes that window.
   */
  async consume(id: string): Promise<void> {
    const mark = await this.kv.increment(`oidc:consumed:${id}`, CONSUMED_MARK_TTL_MS);
    if (mark.value > 1) throw new errors.InvalidGrant('authorization code already consumed');
  }

  async destroy(id: string): Promise<void> {
    await this.kv.delete(this.key(id));
  }

  async revokeByGrantId(): Promise<void> {
    // Nothing to find here by grant: every short-lived record is checked against its grant when used
    // (codes at the token endpoint, access tokens at userinfo and introspection), and revoking
    // deletes the grant from the database, so they are all dead at once.
  }
}

/** The grants service's refusals, as the provider's OAuth errors (a 4xx to the app, never a 500). */
async function asProviderErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof GrantRefused)) throw error;
    throw error.reason === 'account_gone' ? new errors.AccessDenied(error.message) : new errors.InvalidGrant(error.message);
  }
}

class GrantAdapter implements ProviderAdapter {
  constructor(private readonly grants: OidcGrants) {}
  upsert(id: string, payload: ProviderPayload, expiresIn: number) {
    return asProviderErrors(this.grants.saveGrant(id, payload, expiresIn || DEFAULT_TTL_SECONDS));
  }
  find(id: string) {
    return this.grants.findGrant(id);
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume() {}
  destroy(id: string) {
    return this.grants.destroyGrant(id);
  }
  revokeByGrantId(grantId: string) {
    return this.grants.destroyGrant(grantId);
  }
}

/** The refresh token a refresh grant is rotating, while its request runs (oidc-provider keeps the request's context in AsyncLocalStorage). */
function rotatingRefreshToken(): string | undefined {
  const ctx = Provider.ctx as { oidc?: { route?: string; params?: { grant_type?: string }; entities?: { RotatedRefreshToken?: { jti?: string } } } } | undefined;
  if (ctx?.oidc?.route !== 'token' || ctx.oidc.params?.grant_type !== 'refresh_token') return undefined;
  return ctx.oidc.entities?.RotatedRefreshToken?.jti;
}

function isRefreshGrant(): boolean {
  const ctx = Provider.ctx as { oidc?: { route?: string; params?: { grant_type?: string } } } | undefined;
  return ctx?.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token';
}

/**
 * Refresh tokens. A rotation is two calls from the provider, the used token's consume() then its
 * successor's upsert(); inside a refresh grant the first is folded into the second, so that a
 * rotation costs one commit (the provider issues nothing between them, and nothing at all when the
 * combined write refuses a replay).
 */
class RefreshTokenAdapter implements ProviderAdapter {
  constructor(private readonly grants: OidcGrants) {}
  upsert(id: string, payload: ProviderPayload, expiresIn: number) {
    const used = rotatingRefreshToken();
    if (used !== undefined && used !== id) return asProviderErrors(this.grants.rotateRefreshToken(used, id, payload, expiresIn || DEFAULT_TTL_SECONDS));
    return this.grants.saveRefreshToken(id, payload, expiresIn || DEFAULT_TTL_SECONDS);
  }
  find(id: string) {
    return this.grants.findRefreshToken(id);
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume(id: string) {
    // Inside a refresh grant the mark is written with the successor (upsert above).
    if (isRefreshGrant()) return;
    await asProviderErrors(this.grants.consumeRefreshToken(id));
  }
  destroy(id: string) {
    return this.grants.destroyRefreshToken(id);
  }
  revokeByGrantId(grantId: string) {
    // The grant's tokens only: whether the grant itself goes is the provider's call (revokeGrantPolicy).
    return this.grants.destroyRefreshTokensOf(grantId);
  }
}

class ClientAdapter implements ProviderAdapter {
  constructor(private readonly clients: ClientLookup) {}
  async find(id: string) {
    const client = await this.clients.find(id);
    return client && !client.disabled ? clientMetadata(client) : undefined;
  }
  async upsert() {
    throw new Error('clients are registered with the registry, not by the provider');
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume() {}
  async destroy() {}
  async revokeByGrantId() {}
}

/** The adapter factory the provider is configured with: one adapter per model name. */
export function createAdapterFactory(deps: AdapterDeps): (name: string) => ProviderAdapter {
  return (name) => {
    if (name === 'Grant') return new GrantAdapter(deps.grants);
    if (name === 'RefreshToken') return new RefreshTokenAdapter(deps.grants);
    if (name === 'Client') return new ClientAdapter(deps.clients);
    return new ShortLivedAdapter(name, deps.kv);
  };
}
