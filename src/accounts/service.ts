// Registration by invitation code and phone + password login.
import type { CountryCode } from 'libphonenumber-js';
import type { CaptchaService } from '../captcha/service.js';
import { sql } from 'kysely';
import { readAt, type Database, type Db, type Freshness } from '../db/database.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/store-errors.js';
import type { Role, UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import { TwoFactor } from './two-factor.js';
import type { OrgService } from '../orgs/service.js';
import { checkPasswordPolicy, type PasswordHasher } from '../security/password.js';
import type { Metrics } from '../observability/metrics.js';
import type { HashAdmission } from '../security/hash-admission.js';
import type { Lockout } from '../security/lockout.js';
import type { ClientContext } from '../security/client-network.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { SessionService } from '../sessions/service.js';
import { personalData, type PersonalData } from './personal-data.js';
import { createAccountRepo, type AccountRepo } from './repo.js';
import { createSessionRepo } from '../sessions/repo.js';
import { maskPhone, normalizePhone, type NormalizedPhone } from './phone.js';
import type { AuditLog } from '../audit/service.js';
import type { SmsCodes, SmsPurpose } from '../sms/codes.js';
import { printableName } from '../text/printable-name.js';

const PASSWORD_PROBLEM_MESSAGES = {
  too_short: 'The password must be at least 8 characters long.',
  too_long: 'The password must be at most 128 characters long.',
  common: 'This password is too common; choose another.',
  repetitive: 'The password must not be one character repeated.',
  contains_phone: 'The password must not contain your phone number.',
} as const;

export interface RegisterInput {
  phone: string;
  password: string;
  name: string;
  invitationCode: string;
  captchaId: string;
  captcha: string;
  /** Needed when the organization requires an SMS code to register. */
  smsCode?: string | undefined;
}

export interface LoginInput {
  phone: string;
  password: string;
  captchaId: string;
  captcha: string;
}

export interface SmsLoginInput {
  phone: string;
  code: string;
}

export interface PasswordResetInput {
  phone: string;
  code: string;
  newPassword: string;
}

export interface PhoneChangeInput {
  newPhone: string;
  /** The SMS code sent to the new number (purpose change_phone). */
  code: string;
  currentPassword?: string | undefined;
}

export interface SignedIn {
  user: UserRow;
  token: string;
}

export interface AccountDeps {
  database: Database;
  captcha: CaptchaService;
  orgs: OrgService;
  sessions: SessionService;
  rateLimits: RateLimits;
  lockout: Lockout;
  hashing: HashAdmission;
  hasher: PasswordHasher;
  /** Security events (logins, registrations); none recorded when absent. */
  audit?: AuditLog;
  /** SMS verification codes (SMS login, password reset, registration where an organization asks for it). */
  smsCodes?: SmsCodes;
  /** Two-factor sign-in with an authenticator app. */
  twoFactor: TwoFactor;
  metrics?: Metrics;
  defaultRegion: CountryCode;
  now?: () => number;
}

/** A person's name: printable, 1-64 characters. */
export function normalizeName(raw: string): string | null {
  return printableName(raw, 64);
}

/** A person's name as stored; INVALID_NAME otherwise. */
function personName(raw: string): string {
  const name = normalizeName(raw);
  if (!name) throw new AppError('INVALID_NAME', { message: 'The name must be 1-64 printable characters.' });
  return name;
}

/**
 * Accounts from a roster, inside the caller's transaction: no password yet (the owner signs in with an
 * SMS code and sets one). Phones already taken are left alone. Returns the phones it created.
 */
export function insertRosterAccounts(trx: Db, organizationId: number, people: Array<{ phone: string; name: string; role: Role }>, now: number): Promise<Set<string>> {
  return createAccountRepo(trx).insertIfAbsent(
    people.map((p) => ({ organization_id: organizationId, phone: p.phone, name: p.name, password_hash: null, role: p.role, status: 'active', created_at: now, updated_at: now })),
  );
}

export interface MemberRow {
  id: number;
  name: string;
  phone: string;
  role: Role;
  status: UserRow['status'];
  created_at: number;
  invitation_code: string | null;
  password_set: boolean;
}

/** What the audit log keeps of a deleted account: enough to tell which one it was, not who. */
export function deletedDetail(user: UserRow): Record<string, unknown> {
  return { phone: maskPhone(user.phone), organization_id: user.organization_id, role: user.role };
}

/** One page of an organization's members, by id, after `afterId` (for a roster export). */
export async function organizationMembers(db: Db, organizationId: number, afterId: number, limit: number): Promise<MemberRow[]> {
  const rows = await db
    .selectFrom('users')
    .select(['id', 'name', 'phone', 'role', 'status', 'created_at', 'invitation_code'])
    .select((eb) => eb('password_hash', 'is not', null).as('password_set'))
    .where('organization_id', '=', organizationId)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  // SQLite answers a comparison with 0/1, PostgreSQL with a boolean.
  return rows.map((r) => ({ ...r, created_at: Number(r.created_at), password_set: Boolean(r.password_set) }));
}

export class AccountService {
  private readonly repo: AccountRepo;
  private readonly now: () => number;

  constructor(private readonly deps: AccountDeps) {
    this.repo = createAccountRepo(deps.database.db);
    this.now = deps.now ?? Date.now;
  }

  parsePhone(raw: string): NormalizedPhone {
    const phone = normalizePhone(raw, this.deps.defaultRegion);
    if (!phone) throw new AppError('INVALID_PHONE');
    return phone;
  }

  /** Runs one argon2 computation, timed (queueing for a hashing thread included). */
  private async timed<T>(op: 'hash' | 'verify', fn: () => Promise<T>): Promise<T> {
    const stop = this.deps.metrics?.hashDuration.startTimer({ op });
    try {
      return await fn();
    } finally {
      stop?.();
    }
  }

  /** Counts the outcome of a registration or login by its error code. */
  private async counted<T>(counter: 'registrations' | 'logins', fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      this.deps.metrics?.[counter].inc({ result: 'ok' });
      return result;
    } catch (error) {
      this.deps.metrics?.[counter].inc({ result: error instanceof AppError ? error.code : 'INTERNAL_ERROR' });
      throw error;
    }
  }

  register(input: RegisterInput, client: ClientContext): Promise<SignedIn> {
    return this.counted('registrations', () => this.registerUncounted(input, client));
  }

  /** The rules every new account meets, however it is created: valid phone, name and password. */
  private checkNewAccount(input: { phone: string; name: string; password: string }): { phone: NormalizedPhone; name: string } {
    const phone = this.parsePhone(input.phone);
    const name = personName(input.name);
    this.checkNewPassword(input.password, phone);
    return { phone, name };
  }

  private async registerUncounted(input: RegisterInput, client: ClientContext): Promise<SignedIn> {
    // Cheap checks of the request's own fields first, so that a typo does not cost the captcha.
    const { phone, name } = this.checkNewAccount(input);
    const limits = this.deps.rateLimits;

    return this.deps.hashing.admitAfter(() => limits.enforceForClient(limits.registerPerIp, client), async () => {
      // The captcha gates everything that touches accounts (taken phones must not be enumerable).
      await this.deps.captcha.verify(input.captchaId, input.captcha, 'register');
      let invitation = await this.deps.orgs.resolveInvitation(input.invitationCode);
      // A cached "needs an SMS code" may predate an admin turning it off: ask the database before refusing.
      if (invitation.requiresSms && !input.smsCode) invitation = await this.deps.orgs.resolveInvitation(input.invitationCode, { fresh: true });
      if (invitation.requiresSms) {
        if (!input.smsCode) throw new AppError('SMS_CODE_REQUIRED');
        if (!(await this.smsCodes().consume(phone.e164, 'register', input.smsCode))) throw new AppError('INVALID_SMS_CODE');
      }
      if (await this.repo.phoneExists(phone.e164)) throw new AppError('PHONE_TAKEN');

      // Hash before the transaction: the write lock is never held while hashing.
      const passwordHash = await this.timed('hash', () => this.deps.hasher.hash(input.password));
      const now = this.now();
      try {
        // One short transaction, shared with concurrent registrations (group commit): the invitation's
        // use, the account and its first session are written together or not at all. A code belongs to
        // one organization for life, so the account can name it before the code's use is taken.
        return await this.deps.database.batched(async (trx) => {
          const organizationId = invitation.organizationId;
          const user = await createAccountRepo(trx).insertUser({
            organization_id: organizationId,
            phone: phone.e164,
            name,
            password_hash: passwordHash,
            role: 'user',
            status: 'active',
            created_at: now,
            updated_at: now,
            invitation_code: invitation.code,
          });
          const { token } = await this.deps.sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent }, trx);
          await this.deps.audit?.insertWith(trx, { event: 'register', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { organization_id: organizationId } });
          // Last: every registration with this code updates its one row, and on PostgreSQL the row stays
          // locked until COMMIT, so it is taken just before the COMMIT. Taken first, each registration
          // held it through three more round trips and a burst queued behind it into timeouts.
          await this.deps.orgs.takeInvitationUse(trx, invitation.code, invitation.requiresSms);
          return { user, token };
        });
      } catch (error) {
        // Two registrations of one phone raced past phoneExists: the unique constraint decides.
        if (isUniqueViolation(error)) throw new AppError('PHONE_TAKEN');
        // The organization went away after this process cached its code (which went with it).
        if (isForeignKeyViolation(error)) {
          this.deps.orgs.forgetInvitation(invitation.code);
          throw new AppError('INVALID_INVITATION_CODE');
        }
        throw error;
      }
    });
  }

  login(input: LoginInput, client: ClientContext): Promise<SignedIn> {
    return this.counted('logins', () => this.auditedLogin(input, client));
  }

  /** Records the outcome of a password login that got as far as the password: ok, failed or locked. */
  private async auditedLogin(input: LoginInput, client: ClientContext): Promise<SignedIn> {
    const audit = this.deps.audit;
    try {
      const signedIn = await this.loginUncounted(input, client);
      await audit?.record({ event: 'login.ok', actor: `user:${signedIn.user.id}`, target: `user:${signedIn.user.id}`, ip: client.ip, detail: { method: 'password' } });
      return signedIn;
    } catch (error) {
      const code = error instanceof AppError ? error.code : undefined;
      if (audit && (code === 'INVALID_CREDENTIALS' || code === 'ACCOUNT_LOCKED')) {
        const phone = normalizePhone(input.phone, this.deps.defaultRegion);
        await audit.record({
          event: code === 'ACCOUNT_LOCKED' ? 'login.locked' : 'login.failed',
          target: phone ? `phone:${maskPhone(phone.e164)}` : null,
          ip: client.ip,
          detail: { method: 'password' },
        });
      }
      throw error;
    }
  }

  /**
   * Checks phone + password. Unknown phone and wrong password fail the same way and cost the same
   * time (the unknown phone is verified against a dummy hash), and both count towards the lockout of
   * that phone number, so that lockout behaviour does not reveal which numbers have accounts.
   */
  private async loginUncounted(input: LoginInput, client: ClientContext): Promise<SignedIn> {
    const phone = normalizePhone(input.phone, this.deps.defaultRegion);
    const account = phone?.e164 ?? `invalid:${input.phone.slice(0, 32)}`;
    const limits = this.deps.rateLimits;

    return this.deps.hashing.admitAfter(() => limits.enforceForClient(limits.loginPerIp, client), async () => {
      await this.deps.captcha.verify(input.captchaId, input.captcha, 'login');
      // The account's budgets are charged only after the captcha, so that requests which cost their
      // sender nothing cannot spend an account's budget and keep its owner out; and per account and
      // address first, so that one network's attempts stop at its own limit without spending the
      // account's shared one.
      await limits.enforce(limits.loginPerAccountIp, `${account}|${client.network}`);
      await limits.enforce(limits.loginPerAccount, account);
      // A locked account is refused before any password work: attacking it costs the server nothing.
      await this.deps.lockout.assertNotLocked(account);
      const user = phone ? await this.repo.findByPhone(phone.e164) : undefined;
      const passwordOk =
        user && user.password_hash !== null
          ? await this.timed('verify', () => this.deps.hasher.verify(user.password_hash!, input.password))
          : await this.timed('verify', () => this.deps.hasher.verifyAgainstDummy(input.password));
      if (!passwordOk || !user) return this.deps.lockout.recordFailure(account);
      if (user.status !== 'active') throw new AppError('ACCOUNT_DISABLED');
      if (this.deps.hasher.needsUpgrade(user.password_hash!)) await this.upgradePasswordHash(user.id, user.password_hash!, input.password);
      // The failure count stays until the second factor too is right: a stolen password does not reset it.
      if (TwoFactor.isEnabled(user)) throw await this.deps.twoFactor.challenge(user, 'password');
      await this.deps.lockout.reset(account);
      const { token } = await this.deps.sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent });
      return { user, token };
    });
  }

  /**
   * Re-hashes a password that was hashed with other parameters than the service's now (the only
   * moment the password is at hand). Only if the stored hash is still the one verified: a password
   * changed meanwhile stays changed.
   */
  private async upgradePasswordHash(userId: number, verifiedHash: string, password: string): Promise<void> {
    const upgraded = await this.timed('hash', () => this.deps.hasher.hash(password));
    await this.deps.database.batched((trx) =>
      trx.updateTable('users').set({ password_hash: upgraded }).where('id', '=', userId).where('password_hash', '=', verifiedHash).execute(),
    );
  }

  private smsCodes(): SmsCodes {
    if (!this.deps.smsCodes) throw new Error('SMS codes are not configured for this AccountService');
    return this.deps.smsCodes;
  }

  /** Whether an SMS code for `purpose` would be usable by this phone: an active account (login, reset), or none yet (register, change_phone). */
  async canReceiveCode(e164: string, purpose: SmsPurpose): Promise<boolean> {
    const user = await this.repo.findByPhone(e164);
    return purpose === 'register' || purpose === 'change_phone' ? user === undefined : user !== undefined && user.status === 'active';
  }

  /**
   * Signs in with an SMS code. A wrong code and a phone without an account fail the same way. Guessing
   * is bounded by the code itself (a few wrong tries destroy it) and by how often codes are sent
   * (cooldown, daily cap), so besides the per-address limit this path does not spend the account's
   * password-login budget: it is how an owner gets in while someone else is guessing at the password
   * (and it lifts the lockout).
   */
  async loginWithSms(input: SmsLoginInput, client: ClientContext): Promise<SignedIn> {
    const phone = this.parsePhone(input.phone);
    await this.deps.rateLimits.enforceForClient(this.deps.rateLimits.loginPerIp, client);
    const ok = await this.smsCodes().consume(phone.e164, 'login', input.code);
    const user = ok ? await this.repo.findByPhone(phone.e164) : undefined;
    if (!user) {
      await this.deps.audit?.record({ event: 'login.failed', target: `phone:${maskPhone(phone.e164)}`, ip: client.ip, detail: { method: 'sms' } });
      throw new AppError('INVALID_SMS_CODE');
    }
    if (user.status !== 'active') throw new AppError('ACCOUNT_DISABLED');
    // An SMS code proves the phone, which is not a second factor beside the authenticator app.
    if (TwoFactor.isEnabled(user)) throw await this.deps.twoFactor.challenge(user, 'sms');
    await this.deps.lockout.reset(phone.e164);
    const { token } = await this.deps.sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent });
    await this.deps.audit?.record({ event: 'login.ok', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { method: 'sms' } });
    return { user, token };
  }

  /**
   * The second step of a sign-in with two-factor on: the challenge from TWO_FACTOR_REQUIRED and a code
   * from the authenticator app, or a recovery code. A wrong code counts towards the account's lockout
   * like a wrong password (and the challenge stays, for the owner's next try within its 5 minutes).
   */
  async completeTwoFactorLogin(input: { challenge: string; code: string }, client: ClientContext): Promise<SignedIn> {
    await this.deps.rateLimits.enforceForClient(this.deps.rateLimits.loginPerIp, client);
    const { userId, method } = await this.deps.twoFactor.challenged(input.challenge);
    const user = await this.repo.findById(userId);
    if (!user || user.status !== 'active') throw new AppError(user ? 'ACCOUNT_DISABLED' : 'TWO_FACTOR_EXPIRED');
    await this.deps.lockout.assertNotLocked(user.phone);
    const verified = await this.deps.twoFactor.verify(user, input.code);
    if (!verified.ok) {
      await this.deps.audit?.record({ event: 'login.failed', target: `user:${user.id}`, ip: client.ip, detail: { method, second_factor: true } });
      await this.deps.lockout.recordFailure(user.phone, { name: 'body.code', message: 'The code is wrong or was already used.' });
    }
    if (!(await this.deps.twoFactor.endChallenge(input.challenge))) throw new AppError('TWO_FACTOR_EXPIRED');
    await this.deps.lockout.reset(user.phone);
    const { token } = await this.deps.sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent });
    const secondFactor = verified.recoveryCodesLeft === undefined ? { second_factor: 'totp' } : { second_factor: 'recovery_code', recovery_codes_left: verified.recoveryCodesLeft };
    await this.deps.audit?.record({ event: 'login.ok', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { method, ...secondFactor } });
    return { user, token };
  }

  /** Starts turning two-factor sign-in on: the current password (when set) first, as for any change a borrowed session must not make. */
  async beginTwoFactor(user: UserRow, currentPassword: string | undefined): Promise<{ secret: string; uri: string }> {
    await this.requireCurrentPassword(user, currentPassword);
    return this.deps.twoFactor.begin(user);
  }

  /** Turns two-factor sign-in on with a first code from the app; returns the recovery codes (shown once). */
  async enableTwoFactor(user: UserRow, code: string, client: ClientContext): Promise<string[]> {
    const recoveryCodes = await this.deps.twoFactor.confirm(user, code);
    await this.deps.audit?.record({ event: 'two_factor.enabled', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip });
    return recoveryCodes;
  }

  /** Turns two-factor sign-in off: the current password (when set) and a code from the app or a recovery code. */
  async disableTwoFactor(user: UserRow, input: { currentPassword?: string | undefined; code: string }, client: ClientContext): Promise<void> {
    if (!TwoFactor.isEnabled(user)) throw new AppError('TWO_FACTOR_NOT_ENABLED');
    await this.requireCurrentPassword(user, input.currentPassword);
    if (!(await this.deps.twoFactor.verify(user, input.code)).ok) throw new AppError('INVALID_TWO_FACTOR_CODE', { details: { field: 'body.code' } });
    await this.deps.twoFactor.turnOff(user.id);
    await this.deps.audit?.record({ event: 'two_factor.disabled', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip });
  }

  /** An administrator turns off an account's two-factor sign-in (its owner lost the phone and the recovery codes). */
  async resetTwoFactor(userId: number): Promise<void> {
    if (!(await this.deps.twoFactor.turnOff(userId))) throw new AppError('TWO_FACTOR_NOT_ENABLED');
  }

  /** Sets a new password with an SMS code (purpose reset_password) and signs the account out everywhere. */
  async resetPassword(input: PasswordResetInput, client: ClientContext): Promise<void> {
    const phone = this.parsePhone(input.phone);
    // The new password's problems first, so that a weak one does not use up the code.
    this.checkNewPassword(input.newPassword, phone);
    const limits = this.deps.rateLimits;
    // Admitted before the code is used: a reset refused for overload leaves the code valid for a retry.
    const user = await this.deps.hashing.admitAfter(() => limits.enforceForClient(limits.loginPerIp, client), async () => {
      const ok = await this.smsCodes().consume(phone.e164, 'reset_password', input.code);
      const found = ok ? await this.repo.findByPhone(phone.e164) : undefined;
      if (!found) throw new AppError('INVALID_SMS_CODE');
      await this.replacePassword(found, input.newPassword, null);
      return found;
    });
    await this.deps.lockout.reset(phone.e164);
    await this.deps.audit?.record({ event: 'password.reset', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { method: 'sms' } });
  }

  /**
   * A signed-in user's new password. The current one is required when there is one (an account
   * imported from a roster has none until its owner sets it). Other sessions are signed out.
   */
  async changePassword(user: UserRow, input: { currentPassword?: string | undefined; newPassword: string }, keepSessionId: number, client: ClientContext): Promise<void> {
    const phone = this.parsePhone(user.phone);
    this.checkNewPassword(input.newPassword, phone);
    // One admission for both computations: once the current password is checked, the new one is stored.
    await this.deps.hashing.admit(async () => {
      await this.checkCurrentPassword(user, input.currentPassword);
      await this.replacePassword(user, input.newPassword, keepSessionId);
    });
    await this.deps.audit?.record({ event: 'password.changed', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip });
  }

  /**
   * The signed-in user's proof, before a change that a borrowed session must not make: the current
   * password, when the account has one. Wrong guesses count towards the account's lockout, so that a
   * session cannot be used to try passwords one after another.
   */
  private async checkCurrentPassword(user: UserRow, currentPassword: string | undefined): Promise<void> {
    if (user.password_hash === null) return;
    await this.deps.lockout.assertNotLocked(user.phone);
    const ok = await this.timed('verify', () => this.deps.hasher.verify(user.password_hash!, currentPassword ?? ''));
    if (!ok) await this.deps.lockout.recordFailure(user.phone, { name: 'body.current_password', message: 'The current password is wrong.' });
  }

  /** checkCurrentPassword on its own: admitted to the hashing queue when there is a password to verify. */
  private async requireCurrentPassword(user: UserRow, currentPassword: string | undefined): Promise<void> {
    if (user.password_hash !== null) await this.deps.hashing.admit(() => this.checkCurrentPassword(user, currentPassword));
  }

  /**
   * The signed-in owner moves the account to a new phone number: the current password (when set)
   * and a code sent to the new number prove both the account and the number. The password is
   * checked first, so that a wrong one does not use up the code. Other sessions end, as for a new
   * password: the number is how the account signs in.
   */
  async changePhone(user: UserRow, input: PhoneChangeInput, keepSessionId: number, client: ClientContext): Promise<UserRow> {
    const phone = this.parsePhone(input.newPhone);
    if (phone.e164 === user.phone) throw new AppError('VALIDATION_FAILED', { message: 'This is already the phone number of the account.', details: { field: 'body.new_phone' } });
    const limits = this.deps.rateLimits;
    await limits.enforceForClient(limits.loginPerIp, client);
    await this.requireCurrentPassword(user, input.currentPassword);
    if (!(await this.smsCodes().consume(phone.e164, 'change_phone', input.code))) throw new AppError('INVALID_SMS_CODE');
    let changed: UserRow | undefined;
    try {
      changed = await this.deps.database.write(async (trx) => {
        const row = await trx.updateTable('users').set({ phone: phone.e164, updated_at: this.now() }).where('id', '=', user.id).returningAll().executeTakeFirst();
        if (row) await createSessionRepo(trx).deleteForUser(user.id, keepSessionId);
        return row;
      });
    } catch (error) {
      // Registered, or moved to by another account, after the code was sent.
      if (isUniqueViolation(error)) throw new AppError('PHONE_TAKEN');
      throw error;
    }
    if (!changed) throw new AppError('UNAUTHENTICATED'); // deleted meanwhile
    await this.deps.audit?.record({ event: 'phone.changed', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { from: maskPhone(user.phone), to: maskPhone(phone.e164) } });
    return changed;
  }

  /**
   * The owner deletes their account for good (see deleteAccount). An administrator's account is
   * deleted by another administrator, so that nobody removes the last one by a slip.
   */
  async deleteOwnAccount(user: UserRow, currentPassword: string | undefined, client: ClientContext): Promise<void> {
    if (user.role === 'admin') throw new AppError('FORBIDDEN', { message: "An administrator's account is deleted by another administrator." });
    await this.requireCurrentPassword(user, currentPassword);
    const deleted = await this.deleteAccount(user.id);
    if (deleted) await this.deps.audit?.record({ event: 'account.deleted', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: deletedDetail(deleted) });
  }

  /**
   * Deletes an account: its row and, by foreign key, its sessions (every device is signed out at its
   * next request); its failed-password count. The phone number can register again. The audit log keeps
   * the account's events (they name it by id and a masked phone number) for AUDIT_RETENTION_DAYS.
   * Returns the deleted row, or undefined when there was none.
   */
  async deleteAccount(userId: number): Promise<UserRow | undefined> {
    const deleted = await this.deps.database.write((trx) => trx.deleteFrom('users').where('id', '=', userId).returningAll().executeTakeFirst());
    if (deleted) await this.deps.lockout.reset(deleted.phone);
    return deleted;
  }

  private checkNewPassword(password: string, phone: NormalizedPhone): void {
    if (!password.isWellFormed()) throw new AppError('WEAK_PASSWORD', { message: 'The password contains invalid characters.' });
    const problem = checkPasswordPolicy(password, { phoneDigits: phone.national });
    if (problem) throw new AppError('WEAK_PASSWORD', { message: PASSWORD_PROBLEM_MESSAGES[problem], details: { reason: problem } });
  }

  /**
   * Hashes and stores a new password and deletes the account's sessions (but `keepSessionId`), in one
   * transaction. Callers run it inside hashing.admit(), before anything that cannot be undone.
   */
  private async replacePassword(user: UserRow, password: string, keepSessionId: number | null): Promise<void> {
    const passwordHash = await this.timed('hash', () => this.deps.hasher.hash(password));
    const now = this.now();
    await this.deps.database.write(async (trx) => {
      await trx.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', user.id).execute();
      await createSessionRepo(trx).deleteForUser(user.id, keepSessionId);
    });
  }

  /** Admin search: users whose phone (3+ digits) or name contains the query, newest first; optionally in one organization. */
  search(query: string, limit: number, organizationId?: number, freshness: Freshness = 'latest'): Promise<UserRow[]> {
    return readAt(this.deps.database, freshness, (db) => createAccountRepo(db).search(query, limit, organizationId));
  }

  /** Disables (signing the account out everywhere) or re-enables an account. */
  async setStatus(userId: number, status: 'active' | 'disabled'): Promise<UserRow | undefined> {
    return this.deps.database.write(async (trx) => {
      const user = await trx.updateTable('users').set({ status, updated_at: this.now() }).where('id', '=', userId).returningAll().executeTakeFirst();
      if (user && status === 'disabled') await createSessionRepo(trx).deleteForUser(userId);
      return user;
    });
  }

  /**
   * An admin's correction of a name or a phone number (a roster's typo: the owner signs in with the
   * corrected number, their sessions go on), a move to another organization (a teacher changing
   * schools), or a change of role (which the next request of the user's sessions sees).
   */
  async updateByAdmin(userId: number, changes: { name?: string | undefined; phone?: string | undefined; organizationId?: number | undefined; role?: Role | undefined }): Promise<UserRow | undefined> {
    const set: { name?: string; phone?: string; organization_id?: number; role?: Role; updated_at: number } = { updated_at: this.now() };
    if (changes.name !== undefined) set.name = personName(changes.name);
    if (changes.phone !== undefined) set.phone = this.parsePhone(changes.phone).e164;
    if (changes.organizationId !== undefined) set.organization_id = changes.organizationId;
    if (changes.role !== undefined) set.role = changes.role;
    try {
      return await this.deps.database.write((trx) => trx.updateTable('users').set(set).where('id', '=', userId).returningAll().executeTakeFirst());
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
      const user = await trx.updateTable('users').set({ password_hash: null, updated_at: this.now() }).where('id', '=', userId).returningAll().executeTakeFirst();
      if (user) await createSessionRepo(trx).deleteForUser(userId);
      return user;
    });
  }

  /** Registrations with an invitation code per minute since `since` (the workshop's live view). */
  async registrationsPerMinute(invitationCode: string, since: number, freshness: Freshness = 'latest'): Promise<Array<{ minute: number; count: number }>> {
    const rows = await readAt(this.deps.database, freshness, (db) =>
      db
        .selectFrom('users')
        .select((eb) => [sql<number>`(created_at / 60000) * 60000`.as('minute'), eb.fn.countAll<number>().as('count')])
        .where('invitation_code', '=', invitationCode.trim().toUpperCase())
        .where('created_at', '>=', since)
        .groupBy(sql`created_at / 60000`)
        .orderBy('minute')
        .execute(),
    );
    return rows.map((r) => ({ minute: Number(r.minute), count: Number(r.count) }));
  }

  /** Each account's wrong passwords in the lockout window and the end of a lock, for the console's user list. */
  async lockoutStates(users: UserRow[]): Promise<Map<number, { failedLogins: number; lockedUntil: number | null }>> {
    const now = this.now();
    const states = await Promise.all(users.map((u) => this.deps.lockout.status(u.phone)));
    return new Map(users.map((u, i) => [u.id, { failedLogins: states[i]!.failures, lockedUntil: states[i]!.lockedForMs > 0 ? now + states[i]!.lockedForMs : null }]));
  }

  /** An administrator's unlock: clears the failure count of the account with this phone. */
  async unlock(rawPhone: string): Promise<void> {
    await this.deps.lockout.reset(this.parsePhone(rawPhone).e164);
  }

  /** Everything held about the account, for its owner to download. */
  personalData(user: UserRow): Promise<PersonalData> {
    return personalData({ database: this.deps.database, sessions: this.deps.sessions, audit: this.deps.audit }, user, this.now());
  }

  findById(id: number): Promise<UserRow | undefined> {
    return this.repo.findById(id);
  }

  findByPhone(e164: string): Promise<UserRow | undefined> {
    return this.repo.findByPhone(e164);
  }

  /** Creates an account directly (CLI: first admin). Same phone and password rules as registration. */
  async createUser(input: { phone: string; name: string; password: string; organizationId: number; role: Role }): Promise<UserRow> {
    const { phone, name } = this.checkNewAccount(input);
    const passwordHash = await this.deps.hasher.hash(input.password);
    const now = this.now();
    try {
      return await this.deps.database.retrying(() =>
        this.repo.insertUser({ organization_id: input.organizationId, phone: phone.e164, name, password_hash: passwordHash, role: input.role, status: 'active', created_at: now, updated_at: now }),
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('PHONE_TAKEN');
      throw error;
    }
  }
}
