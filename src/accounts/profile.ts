// What the owner of an account does on their account page, and the password reset by SMS code: a new
// password, a new phone number, a copy of their personal data, the account's deletion.
import type { CountryCode } from 'libphonenumber-js';
import type { AuditLog } from '../audit/service.js';
import type { Database } from '../db/database.js';
import { isUniqueViolation } from '../db/store-errors.js';
import type { UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { OrgService } from '../orgs/service.js';
import type { ClientContext } from '../security/client-network.js';
import type { HashAdmission } from '../security/hash-admission.js';
import type { Lockout } from '../security/lockout.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { SessionService } from '../sessions/service.js';
import type { SmsCodes } from '../sms/codes.js';
import type { Passwords } from './passwords.js';
import { personalData, type PersonalData, type PersonalDataDeps } from './personal-data.js';
import { maskPhone } from '../text/phone.js';
import { createAccountRepo } from './repo.js';
import { checkNewPassword, parsePhone } from './rules.js';
import type { AccountService } from './service.js';
import { deletedDetail } from './views.js';

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

export interface ProfileDeps {
  database: Database;
  accounts: AccountService;
  orgs: OrgService;
  sessions: SessionService;
  rateLimits: RateLimits;
  lockout: Lockout;
  hashing: HashAdmission;
  passwords: Passwords;
  audit: AuditLog;
  smsCodes: SmsCodes;
  defaultRegion: CountryCode;
  now: () => number;
  /** The account's passkeys, for the personal data download. */
  passkeysOf?: PersonalDataDeps['passkeysOf'];
}

export class Profile {
  constructor(private readonly deps: ProfileDeps) {}

  /** Sets a new password with an SMS code (purpose reset_password) and signs the account out everywhere. */
  async resetPassword(input: PasswordResetInput, client: ClientContext): Promise<void> {
    const phone = parsePhone(input.phone, this.deps.defaultRegion);
    // The new password's problems first, so that a weak one does not use up the code.
    checkNewPassword(input.newPassword, phone);
    const limits = this.deps.rateLimits;
    // Admitted before the code is used: a reset refused for overload leaves the code valid for a retry.
    const user = await this.deps.hashing.admitAfter(() => limits.enforceForClient(limits.loginPerIp, client), async () => {
      const ok = await this.deps.smsCodes.consume(phone.e164, 'reset_password', input.code);
      const found = ok ? await this.deps.accounts.findByPhone(phone.e164) : undefined;
      if (!found) throw new AppError('INVALID_SMS_CODE');
      await this.deps.passwords.replace(found, input.newPassword, null);
      // The code proved the phone, and the password is now the phone holder's.
      await createAccountRepo(this.deps.database.db).markPhoneProven(found.id, this.deps.now());
      return found;
    });
    await this.deps.lockout.reset(phone.e164);
    await this.deps.audit.record({ event: 'password.reset', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { method: 'sms' } });
  }

  /**
   * A signed-in user's new password. The current one is required when there is one (an account
   * imported from a roster has none until its owner sets it). Other sessions are signed out.
   */
  async changePassword(user: UserRow, input: { currentPassword?: string | undefined; newPassword: string }, keepSessionId: number, client: ClientContext): Promise<void> {
    const phone = parsePhone(user.phone, this.deps.defaultRegion);
    checkNewPassword(input.newPassword, phone);
    // One admission for both computations: once the current password is checked, the new one is stored.
    await this.deps.hashing.admit(async () => {
      await this.deps.passwords.checkCurrent(user, input.currentPassword, client);
      await this.deps.passwords.replace(user, input.newPassword, keepSessionId);
    });
    await this.deps.audit.record({ event: 'password.changed', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip });
  }

  /**
   * The signed-in owner moves the account to a new phone number: the current password (when set)
   * and a code sent to the new number prove both the account and the number. The password is
   * checked first, so that a wrong one does not use up the code. Other sessions end, as for a new
   * password: the number is how the account signs in.
   */
  async changePhone(user: UserRow, input: PhoneChangeInput, keepSessionId: number, client: ClientContext): Promise<UserRow> {
    const phone = parsePhone(input.newPhone, this.deps.defaultRegion);
    if (phone.e164 === user.phone) throw new AppError('VALIDATION_FAILED', { message: 'This is already the phone number of the account.', details: { field: 'body.new_phone' } });
    const limits = this.deps.rateLimits;
    await limits.enforceForClient(limits.loginPerIp, client);
    await this.deps.passwords.requireCurrent(user, input.currentPassword, client);
    if (!(await this.deps.smsCodes.consume(phone.e164, 'change_phone', input.code))) throw new AppError('INVALID_SMS_CODE');
    let changed: UserRow | undefined;
    try {
      changed = await this.deps.database.write(async (trx) => {
        const row = await createAccountRepo(trx).setPhone(user.id, phone.e164, this.deps.now());
        if (row) await this.deps.sessions.endAllWith(trx, user.id, keepSessionId);
        return row;
      });
    } catch (error) {
      // Registered, or moved to by another account, after the code was sent.
      if (isUniqueViolation(error)) throw new AppError('PHONE_TAKEN');
      throw error;
    }
    if (!changed) throw new AppError('UNAUTHENTICATED'); // deleted meanwhile
    await this.deps.audit.record({ event: 'phone.changed', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { from: maskPhone(user.phone), to: maskPhone(phone.e164) } });
    return changed;
  }

  /**
   * The owner deletes their account for good (see AccountService.deleteAccount). An administrator's
   * account is deleted by another administrator, so that nobody removes the last one by a slip.
   */
  async deleteOwnAccount(user: UserRow, currentPassword: string | undefined, client: ClientContext): Promise<void> {
    if (user.role === 'admin') throw new AppError('FORBIDDEN', { message: "An administrator's account is deleted by another administrator." });
    await this.deps.passwords.requireCurrent(user, currentPassword, client);
    const deleted = await this.deps.accounts.deleteAccount(user.id);
    if (deleted) await this.deps.audit.record({ event: 'account.deleted', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: deletedDetail(deleted) });
  }

  /** Everything held about the account, for its owner to download. */
  personalData(user: UserRow): Promise<PersonalData> {
    return personalData({ orgs: this.deps.orgs, sessions: this.deps.sessions, audit: this.deps.audit, passkeysOf: this.deps.passkeysOf }, user, this.deps.now());
  }
}
