// Grants and refresh tokens: what a user allowed each app, durable in the database (SQLite or
// PostgreSQL, the same code), revoked as one when the account's access changes. It does not load the
// provider library: the command line uses it too.
import type { Database, Db } from '../db/database.js';
import type { ClientGrantRevoker } from './clients/types.js';
import { createGrantRepo } from './grants-repo.js';

/** A refresh token used again after its reuse window, or an account gone while it signed in: the adapter answers the provider's way. */
export class GrantRefused extends Error {
  constructor(readonly reason: 'refresh_token_reused' | 'account_gone') {
    super(reason === 'refresh_token_reused' ? 'refresh token already used' : 'the account no longer exists');
  }
}

/** A provider record as oidc-provider hands it to an adapter. */
export type ProviderPayload = Record<string, unknown> & { grantId?: string; accountId?: string; clientId?: string; consumed?: unknown };

/** An app the user has allowed, for the account page. */
export interface ConnectedApp {
  clientId: string;
  scopes: string[];
  grantedAt: number;
}

export interface OidcGrantsOptions {
  /** A rotated refresh token still works this long (parallel refreshes); after it, its reuse revokes the grant. */
  refreshTokenReuseMs: number;
  /** The account a subject names (grants are kept per account, so that the account's events reach them). */
  userIdOf: (subject: string) => Promise<number | undefined>;
  now?: () => number;
}

export class OidcGrants implements ClientGrantRevoker {
  private readonly repo;
  private readonly now: () => number;

  constructor(private readonly database: Database, private readonly options: OidcGrantsOptions) {
    this.repo = createGrantRepo(database.db);
    this.now = options.now ?? Date.now;
  }

  async saveGrant(id: string, payload: ProviderPayload, expiresInSeconds: number): Promise<void> {
    const subject = String(payload.accountId ?? '');
    const userId = await this.options.userIdOf(subject);
    // The account went away while it was signing in: nothing to keep, and nothing will find it.
    if (userId === undefined) throw new GrantRefused('account_gone');
    const now = this.now();
    await this.database.batched((trx) =>
      createGrantRepo(trx).upsertGrant({ id, userId, clientId: String(payload.clientId ?? ''), payload: JSON.stringify(payload), createdAt: now, expiresAt: now + expiresInSeconds * 1000 }),
    );
  }

  async findGrant(id: string): Promise<ProviderPayload | undefined> {
    const row = await this.repo.findGrant(id);
    if (!row || row.expiresAt <= this.now()) return undefined;
    return JSON.parse(row.payload) as ProviderPayload;
  }

  async destroyGrant(id: string): Promise<void> {
    await this.database.batched((trx) => createGrantRepo(trx).deleteGrants([id]));
  }

  async saveRefreshToken(id: string, payload: ProviderPayload, expiresInSeconds: number): Promise<void> {
    const expiresAt = this.now() + expiresInSeconds * 1000;
    await this.database.batched((trx) => createGrantRepo(trx).insertRefreshToken({ id, grantId: String(payload.grantId ?? ''), payload: JSON.stringify(payload), expiresAt, consumedAt: null }));
  }

  /**
   * The refresh token, marked consumed only once its reuse window has passed: within the window a
   * second use (a parallel refresh from another tab) succeeds; after it, the provider sees a reused
   * token and revokes the whole grant (the token family), as RFC 9700 §4.14.2 asks.
   */
  async findRefreshToken(id: string): Promise<ProviderPayload | undefined> {
    const row = await this.repo.findRefreshToken(id);
    if (!row) return undefined;
    const payload = JSON.parse(row.payload) as ProviderPayload;
    if (row.consumedAt !== null && this.now() - row.consumedAt > this.options.refreshTokenReuseMs) payload.consumed = Math.floor(row.consumedAt / 1000);
    return payload;
  }

  /** Marks the token used; a second use is admitted only inside the reuse window. */
  async consumeRefreshToken(id: string): Promise<void> {
    await this.database.batched((trx) => this.consumeWith(trx, id, this.now()));
  }

  /**
   * A rotation in one write: the used token marked and its successor stored together, one commit
   * instead of two. The successor is stored only when the mark is admitted, so a token replayed
   * after its window never gets a successor.
   */
  async rotateRefreshToken(usedId: string, id: string, payload: ProviderPayload, expiresInSeconds: number): Promise<void> {
    const now = this.now();
    await this.database.batched(async (trx) => {
      await this.consumeWith(trx, usedId, now);
      await createGrantRepo(trx).insertRefreshToken({ id, grantId: String(payload.grantId ?? ''), payload: JSON.stringify(payload), expiresAt: now + expiresInSeconds * 1000, consumedAt: null });
    });
  }

  private async consumeWith(trx: Db, id: string, now: number): Promise<void> {
    const repo = createGrantRepo(trx);
    if (await repo.consumeRefreshToken(id, now)) return;
    const row = await repo.findRefreshToken(id);
    if (row?.consumedAt !== null && row?.consumedAt !== undefined && now - row.consumedAt <= this.options.refreshTokenReuseMs) return;
    throw new GrantRefused('refresh_token_reused');
  }

  async destroyRefreshToken(id: string): Promise<void> {
    await this.database.batched((trx) => createGrantRepo(trx).deleteRefreshToken(id));
  }

  /** Every refresh token of the grant; the grant stays. */
  async destroyRefreshTokensOf(grantId: string): Promise<void> {
    await this.database.batched((trx) => createGrantRepo(trx).deleteRefreshTokensOf(grantId));
  }

  /** The user's grant for the client, so that consent given once is not asked again in a new session. */
  grantIdFor(userId: number, clientId: string): Promise<string | undefined> {
    return this.repo.latestGrantFor(userId, clientId, this.now());
  }

  async connectedApps(userId: number): Promise<ConnectedApp[]> {
    const byClient = new Map<string, ConnectedApp>();
    for (const row of await this.repo.grantsOf(userId, this.now())) {
      const payload = JSON.parse(row.payload) as { openid?: { scope?: string } };
      const scopes = (payload.openid?.scope ?? '').split(' ').filter(Boolean);
      const known = byClient.get(row.client_id);
      byClient.set(row.client_id, known ? { ...known, scopes: [...new Set([...known.scopes, ...scopes])] } : { clientId: row.client_id, scopes, grantedAt: row.created_at });
    }
    return [...byClient.values()];
  }

  /** Revokes what the user allowed the client and every token it holds; whether there was anything. */
  async disconnect(userId: number, clientId: string): Promise<boolean> {
    return this.database.write(async (trx) => {
      const repo = createGrantRepo(trx);
      return (await repo.deleteGrants(await repo.grantIdsWhere({ userId, clientId }))) > 0;
    });
  }

  /** Inside the caller's transaction: every grant and refresh token of the user (disabled, signed out everywhere, moved, reset). */
  async revokeUserWith(trx: Db, userId: number): Promise<number> {
    const repo = createGrantRepo(trx);
    return repo.deleteGrants(await repo.grantIdsWhere({ userId }));
  }

  async revokeClient(clientId: string): Promise<void> {
    await this.database.write(async (trx) => {
      const repo = createGrantRepo(trx);
      await repo.deleteGrants(await repo.grantIdsWhere({ clientId }));
    });
  }

  sweepExpired(): Promise<number> {
    return this.database.retrying(() => this.repo.deleteExpired(this.now()));
  }
}
