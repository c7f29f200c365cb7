// External identities linked to accounts: one row per provider and subject (a WeChat unionid, a
// WeCom corp + user id…), never merged into an account by name or nickname. The sign-in flow finds
// and links them; their owners list and unlink them from the account page, but never the last way
// to sign in; administrators see them. Every link and unlink is audited.
import type { AuditLog } from '../audit/service.js';
import type { Database, Db } from '../db/database.js';
import type { IdentityRow } from '../db/schema.js';
import { isUniqueViolation } from '../db/store-errors.js';
import { AppError } from '../errors.js';
import { actorName, addressOf, type Principal } from '../principal.js';
import { createIdentityRepo } from './identities-repo.js';
import type { ExternalIdentity, ProviderName } from './types.js';

export interface LinkedIdentity {
  id: number;
  provider: ProviderName;
  subject: string;
  userId: number;
  displayName: string | null;
  avatarUrl: string | null;
  details: Readonly<Record<string, string>>;
  createdAt: number;
  lastSignInAt: number | null;
}

export interface IdentitiesDeps {
  database: Database;
  audit: AuditLog;
  now?: () => number;
}

function toLinked(row: IdentityRow): LinkedIdentity {
  return {
    id: row.id,
    provider: row.provider as ProviderName,
    subject: row.subject,
    userId: row.user_id,
    displayName: row.display_name,
    avatarUrl: row.avatar_url,
    details: JSON.parse(row.details) as Record<string, string>,
    createdAt: Number(row.created_at),
    lastSignInAt: row.last_sign_in_at === null ? null : Number(row.last_sign_in_at),
  };
}

const taken = () => new AppError('IDENTITY_TAKEN');

/** WeChat's logins whose identities meet by unionid. */
const WECHAT_FAMILY: readonly ProviderName[] = ['wechat', 'wechat_mp'];

export class Identities {
  private readonly repo;
  private readonly now: () => number;

  constructor(private readonly deps: IdentitiesDeps) {
    this.repo = createIdentityRepo(deps.database.db);
    this.now = deps.now ?? Date.now;
  }

  async find(provider: ProviderName, subject: string): Promise<LinkedIdentity | undefined> {
    const row = await this.repo.find(provider, subject);
    return row ? toLinked(row) : undefined;
  }

  /**
   * The link of the identity that came back from a provider. A WeChat identity keyed by its unionid is
   * the same person under WeChat's website and in-app logins (WeChat gives one unionid per person across
   * the apps of one Open Platform account): found under the other, it is linked under this one too, to
   * the same account (audited), so that each login shows its own record. Nothing is matched by name.
   */
  async findLinked(identity: ExternalIdentity): Promise<LinkedIdentity | undefined> {
    const exact = await this.find(identity.provider, identity.subject);
    if (exact) return exact;
    if (!WECHAT_FAMILY.includes(identity.provider) || identity.details.unionid !== identity.subject) return undefined;
    const sibling = await this.repo.findAmong(WECHAT_FAMILY, identity.subject);
    if (!sibling) return undefined;
    return this.link(undefined, sibling.user_id, identity, { via: 'unionid' });
  }

  /**
   * Links the identity to the account, inside the caller's transaction when given one (so that a
   * registration and its first identity commit together), else in its own; audited as the account's
   * own act. Linking it again to the same account answers with the existing link; IDENTITY_TAKEN
   * when another account has it (also when two links race: the unique key decides).
   */
  async link(trx: Db | undefined, userId: number, identity: ExternalIdentity, how: Readonly<Record<string, string>> = {}): Promise<LinkedIdentity> {
    if (trx) return this.linkWith(trx, userId, identity, how);
    try {
      return await this.deps.database.write((own) => this.linkWith(own, userId, identity, how));
    } catch (error) {
      throw isUniqueViolation(error) ? taken() : error;
    }
  }

  private async linkWith(trx: Db, userId: number, identity: ExternalIdentity, how: Readonly<Record<string, string>>): Promise<LinkedIdentity> {
    const repo = createIdentityRepo(trx);
    // Looked up first: on PostgreSQL a failed insert would abort the caller's whole transaction.
    const existing = await repo.find(identity.provider, identity.subject);
    if (existing) {
      if (existing.user_id !== userId) throw taken();
      return toLinked(existing);
    }
    let row: IdentityRow;
    try {
      row = await repo.insert({
        provider: identity.provider,
        subject: identity.subject,
        user_id: userId,
        display_name: identity.displayName,
        avatar_url: identity.avatarUrl,
        details: JSON.stringify(identity.details),
        created_at: this.now(),
        last_sign_in_at: null,
      });
    } catch (error) {
      throw isUniqueViolation(error) ? taken() : error;
    }
    await this.deps.audit.insertWith(trx, {
      event: 'identity.linked',
      actor: `user:${userId}`,
      target: `user:${userId}`,
      detail: { identity_id: row.id, provider: row.provider, subject: row.subject, ...how },
    });
    return toLinked(row);
  }

  /**
   * Unlinks one of the account's identities; IDENTITY_NOT_FOUND when it is not the account's,
   * LAST_SIGN_IN_METHOD when the account has no password and no other identity (it could never
   * sign in again).
   */
  async unlink(by: Principal, userId: number, identityId: number): Promise<LinkedIdentity> {
    const removed = await this.deps.database.write(async (trx) => {
      const repo = createIdentityRepo(trx);
      // The account's row is locked first, then its ways in counted, in the transaction of the delete:
      // two unlinks at once cannot remove both of the last two.
      const hasPassword = await repo.ownerHasPassword(userId, this.deps.database.dialect === 'postgres');
      if (hasPassword === undefined) throw new AppError('NOT_FOUND', { message: 'No such account.' });
      const row = await repo.findById(identityId);
      if (!row || row.user_id !== userId) throw new AppError('IDENTITY_NOT_FOUND');
      if (!hasPassword && (await repo.countFor(userId)) <= 1) throw new AppError('LAST_SIGN_IN_METHOD');
      const deleted = await repo.delete(identityId, userId);
      if (!deleted) throw new AppError('IDENTITY_NOT_FOUND');
      await this.deps.audit.insertWith(trx, {
        event: 'identity.unlinked',
        actor: actorName(by),
        ip: addressOf(by),
        target: `user:${userId}`,
        detail: { identity_id: deleted.id, provider: deleted.provider, subject: deleted.subject },
      });
      return deleted;
    });
    return toLinked(removed);
  }

  async listFor(userId: number): Promise<LinkedIdentity[]> {
    return (await this.repo.listFor(userId)).map(toLinked);
  }

  /** Notes a sign-in with the identity (shown to its owner and administrators). */
  async touch(identityId: number): Promise<void> {
    await this.deps.database.batched((trx) => createIdentityRepo(trx).touch(identityId, this.now()));
  }
}
