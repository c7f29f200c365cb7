// The accounts themselves: finding them, and what administrators change in them (status, corrections,
// a forced password reset, deletion, a lockout lifted). How accounts are made, signed in to and
// managed by their owners lives beside it, one job per file: registration.ts, sign-in.ts,
// profile.ts, two-factor-settings.ts.
import type { CountryCode } from 'libphonenumber-js';
import { readAt, type Database, type Db, type Freshness } from '../db/database.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/store-errors.js';
import type { Role, UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Lockout } from '../security/lockout.js';
import type { SessionService } from '../sessions/service.js';
import type { SmsPurpose } from '../sms/codes.js';
import type { NormalizedPhone } from '../text/phone.js';
import { createAccountRepo, type AccountCorrections, type AccountRepo, type MemberRow } from './repo.js';
import { parsePhone, personName } from './rules.js';

export type { MemberRow };

export interface AccountDeps {
  database: Database;
  sessions: SessionService;
  lockout: Lockout;
  defaultRegion: CountryCode;
  now?: () => number;
}

/**
 * Accounts from a roster, inside the caller's transaction: no password yet (the owner signs in with an
 * SMS code and sets one). Phones already taken are left alone. Returns the created accounts' ids by phone.
 */
export function insertRosterAccounts(trx: Db, organizationId: number, people: Array<{ phone: string; name: string; role: Role }>, now: number): Promise<Map<string, number>> {
  return createAccountRepo(trx).insertIfAbsent(
    people.map((p) => ({ organization_id: organizationId, phone: p.phone, name: p.name, password_hash: null, role: p.role, status: 'active', created_at: now, updated_at: now })),
  );
}

/** One page of an organization's members, by id, after `afterId` (for a roster export). */
export function organizationMembers(db: Db, organizationId: number, afterId: number, limit: number): Promise<MemberRow[]> {
  return createAccountRepo(db).membersPage(organizationId, afterId, limit);
}

/**
 * What an SMS for `purpose` to this phone carries, decided by the delivery task: a login or reset code
 * only for an active account, a registration or change-of-number code only for a free number, and for
 * a registration of a taken number a notice to its owner that someone tried (so that registration
 * answers the same for taken and free numbers, and the owner learns of it).
 */
export async function smsContentFor(db: Db, e164: string, purpose: SmsPurpose): Promise<'code' | 'taken_notice' | 'nothing'> {
  const user = await createAccountRepo(db).findByPhone(e164);
  if (purpose === 'login' || purpose === 'reset_password') return user?.status === 'active' ? 'code' : 'nothing';
  if (purpose === 'register') return user ? 'taken_notice' : 'code';
  // A first sign-in through a provider links to the number's account or registers one: either way a code, but never for a disabled account.
  if (purpose === 'link_identity') return user && user.status !== 'active' ? 'nothing' : 'code';
  return user ? 'nothing' : 'code';
}

export class AccountService {
  private readonly repo: AccountRepo;
  private readonly now: () => number;

  constructor(private readonly deps: AccountDeps) {
    this.repo = createAccountRepo(deps.database.db);
    this.now = deps.now ?? Date.now;
  }

  parsePhone(raw: string): NormalizedPhone {
    return parsePhone(raw, this.deps.defaultRegion);
  }

  findById(id: number): Promise<UserRow | undefined> {
    return this.repo.findById(id);
  }

  /** The account other systems know by this opaque subject (OpenID Connect `sub`). */
  findBySubject(subject: string): Promise<UserRow | undefined> {
    return this.repo.findBySubject(subject);
  }

  findByPhone(e164: string): Promise<UserRow | undefined> {
    return this.repo.findByPhone(e164);
  }

  /** Admin search: users whose phone (3+ digits) or name contains the query, newest first; optionally in one organization. */
  search(query: string, limit: number, organizationId?: number, freshness: Freshness = 'latest'): Promise<UserRow[]> {
    return readAt(this.deps.database, freshness, (db) => createAccountRepo(db).search(query, limit, organizationId));
  }

  /** Registrations with an invitation code per minute since `since` (the workshop's live view). */
  registrationsPerMinute(invitationCode: string, since: number, freshness: Freshness = 'latest'): Promise<Array<{ minute: number; count: number }>> {
    return readAt(this.deps.database, freshness, (db) => createAccountRepo(db).registrationsPerMinute(invitationCode.trim().toUpperCase(), since));
  }

  /** Each account's wrong passwords in the lockout window and the end of a lock, for the console's user list. */
  async lockoutStates(users: UserRow[]): Promise<Map<number, { failedLogins: number; lockedUntil: number | null }>> {
    const now = this.now();
    const states = await Promise.all(users.map((u) => this.deps.lockout.status(u.phone)));
    return new Map(users.map((u, i) => [u.id, { failedLogins: states[i]!.failures, lockedUntil: states[i]!.lockedForMs > 0 ? now + states[i]!.lockedForMs : null }]));
  }

  /** Disables (signing the account out everywhere) or re-enables an account. */
  async setStatus(userId: number, status: 'active' | 'disabled'): Promise<UserRow | undefined> {
    return this.deps.database.write(async (trx) => {
      const user = await createAccountRepo(trx).setStatus(userId, status, this.now());
      if (user && status === 'disabled') await this.deps.sessions.endAllWith(trx, userId);
      return user;
    });
  }

  /**
   * An admin's correction of a name or a phone number (a roster's typo: the owner signs in with the
   * corrected number, their sessions go on), a move to another organization (a teacher changing
   * schools), or a change of role (which the next request of the user's sessions sees).
   */
  async updateByAdmin(userId: number, changes: { name?: string | undefined; phone?: string | undefined; organizationId?: number | undefined; role?: Role | undefined }): Promise<UserRow | undefined> {
    const corrections: AccountCorrections = {};
    if (changes.name !== undefined) corrections.name = personName(changes.name);
    if (changes.phone !== undefined) corrections.phone = this.parsePhone(changes.phone).e164;
    if (changes.organizationId !== undefined) corrections.organization_id = changes.organizationId;
    if (changes.role !== undefined) corrections.role = changes.role;
    try {
      return await this.deps.database.write(async (trx) => {
        const before = corrections.organization_id === undefined ? undefined : await createAccountRepo(trx).findById(userId);
        const updated = await createAccountRepo(trx).correct(userId, corrections, this.now());
        // Leaving an organization ends what its apps were allowed (their grants and refresh tokens); the user's own sessions go on.
        if (updated && before && before.organization_id !== updated.organization_id) await this.deps.sessions.endDependentsWith(trx, userId);
        return updated;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('PHONE_TAKEN');
      // No such organization (or it was deleted meanwhile).
      if (isForeignKeyViolation(error)) throw new AppError('ORGANIZATION_NOT_FOUND');
      throw error;
    }
  }

  /** Removes the password and every session: the owner must reset it with an SMS code (or sign in with one and set a new one). */
  async forcePasswordReset(userId: number): Promise<UserRow | undefined> {
    return this.deps.database.write(async (trx) => {
      const user = await createAccountRepo(trx).setPasswordHash(userId, null, this.now());
      if (user) await this.deps.sessions.endAllWith(trx, userId);
      return user;
    });
  }

  /**
   * Deletes an account: its row and, by foreign key, its sessions (every device is signed out at its
   * next request); its failed-password count. The phone number can register again. The audit log keeps
   * the account's events (they name it by id and a masked phone number) for AUDIT_RETENTION_DAYS.
   * Returns the deleted row, or undefined when there was none.
   */
  async deleteAccount(userId: number): Promise<UserRow | undefined> {
    const deleted = await this.deps.database.write(async (trx) => {
      await this.deps.sessions.endDependentsWith(trx, userId);
      return createAccountRepo(trx).delete(userId);
    });
    if (deleted) await this.deps.lockout.reset(deleted.phone);
    return deleted;
  }

  /** An administrator's unlock: clears the failure count of the account with this phone. */
  async unlock(rawPhone: string): Promise<void> {
    await this.deps.lockout.reset(this.parsePhone(rawPhone).e164);
  }
}
