// What an administrator does to accounts and their sessions, from the console or the command line:
// each action once, with its rules and its audit event, whoever asks. An organization administrator
// acts only on the members of their own organization, never on a platform administrator, and makes
// nobody a platform administrator.
import type { AccountService } from '../accounts/service.js';
import type { ApiKeyService } from '../apikeys/service.js';
import { maskPhone } from '../text/phone.js';
import type { TwoFactorSettings } from '../accounts/two-factor-settings.js';
import { deletedDetail } from '../accounts/views.js';
import type { AuditLog } from '../audit/service.js';
import type { Role, UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import { isUser, type Principal } from '../principal.js';
import type { SessionService } from '../sessions/service.js';
import { confinedTo, requireOrganization, requirePlatform } from '../principal.js';

export interface UserChanges {
  name?: string | undefined;
  phone?: string | undefined;
  organizationId?: number | undefined;
  role?: Role | undefined;
}

const noSuchUser = () => new AppError('NOT_FOUND', { message: 'No such user.' });

export class UserAdmin {
  constructor(private readonly deps: { accounts: AccountService; twoFactor: TwoFactorSettings; sessions: SessionService; apiKeys: ApiKeyService; audit: AuditLog }) {}

  /**
   * Disables an account, which is signed out everywhere, and revokes the API keys it made. Not one's
   * own: that would end one's own session and leave nobody, perhaps, to undo it.
   */
  disable(by: Principal, userId: number): Promise<UserRow> {
    return this.act(by, userId, 'admin.user_disabled', async (user) => {
      if (isUser(by, user.id)) throw new AppError('FORBIDDEN', { message: 'You cannot disable your own account; ask another administrator.' });
      await this.deps.accounts.setStatus(user.id, 'disabled');
      await this.deps.apiKeys.revokeCreatedBy(by, user.id, 'creator_disabled');
    });
  }

  enable(by: Principal, userId: number): Promise<UserRow> {
    return this.act(by, userId, 'admin.user_enabled', (user) => this.deps.accounts.setStatus(user.id, 'active'));
  }

  /** Lifts an account's lockout (clears its failed-password count). */
  async unlock(by: Principal, userId: number): Promise<UserRow> {
    const found = await this.managed(by, userId);
    await this.liftLockout(by, found.phone, found);
    return this.current(found.id);
  }

  /**
   * Lifts the lockout of a phone number, which need not have an account: wrong passwords for a number
   * without one lock it too, so that lockouts do not tell which numbers are registered.
   */
  async unlockPhone(by: Principal, rawPhone: string): Promise<void> {
    requirePlatform(by, 'lift the lockout of a phone number'); // which may belong to anyone, or to nobody
    const phone = this.deps.accounts.parsePhone(rawPhone).e164;
    await this.liftLockout(by, phone, await this.deps.accounts.findByPhone(phone));
  }

  /** Removes the password and every session: the owner sets a new one with an SMS code. */
  forcePasswordReset(by: Principal, userId: number): Promise<UserRow> {
    return this.act(by, userId, 'admin.password_reset_forced', (user) => this.deps.accounts.forcePasswordReset(user.id));
  }

  /** Turns off two-factor sign-in for an owner who lost the phone and the recovery codes; TWO_FACTOR_NOT_ENABLED. */
  resetTwoFactor(by: Principal, userId: number): Promise<UserRow> {
    return this.act(by, userId, 'admin.two_factor_reset', (user) => this.deps.twoFactor.reset(user.id));
  }

  /**
   * Corrects a name or phone number, moves the account to another organization, or changes its role.
   * Not one's own role: an administrator who demoted themselves by mistake could leave the console with nobody to run it.
   */
  async change(by: Principal, userId: number, changes: UserChanges): Promise<UserRow> {
    const found = await this.managed(by, userId);
    if (changes.role === 'admin') requirePlatform(by, 'make someone a platform administrator');
    if (changes.organizationId !== undefined) requireOrganization(by, changes.organizationId);
    if (changes.role !== undefined && changes.role !== found.role && isUser(by, found.id)) {
      throw new AppError('FORBIDDEN', { message: 'You cannot change your own role; ask another administrator.' });
    }
    const updated = await this.deps.accounts.updateByAdmin(found.id, changes);
    if (!updated) throw noSuchUser(); // deleted meanwhile
    // Only platform administrators make API keys; an organization administrator's are none.
    if (found.role === 'admin' && updated.role !== 'admin') await this.deps.apiKeys.revokeCreatedBy(by, found.id, 'creator_demoted');
    const detail = {
      ...(changes.name !== undefined ? { name: updated.name } : {}),
      ...(changes.phone !== undefined ? { phone: { from: maskPhone(found.phone), to: maskPhone(updated.phone) } } : {}),
      ...(changes.organizationId !== undefined ? { organization_id: { from: found.organization_id, to: updated.organization_id } } : {}),
      ...(changes.role !== undefined ? { role: updated.role } : {}),
    };
    await this.deps.audit.recordBy(by, { event: 'admin.user_changed', target: `user:${found.id}`, detail });
    return updated;
  }

  /** Deletes an account for good (see AccountService.deleteAccount), and revokes the API keys it made. Not one's own: another administrator does that. */
  async delete(by: Principal, userId: number): Promise<UserRow> {
    if (isUser(by, userId)) throw new AppError('FORBIDDEN', { message: 'You cannot delete your own account; ask another administrator.' });
    await this.managed(by, userId);
    // Before the account goes: its keys then lose their creator (created_by is set null).
    await this.deps.apiKeys.revokeCreatedBy(by, userId, 'creator_deleted');
    const deleted = await this.deps.accounts.deleteAccount(userId);
    if (!deleted) throw noSuchUser();
    await this.deps.audit.recordBy(by, { event: 'admin.user_deleted', target: `user:${deleted.id}`, detail: deletedDetail(deleted) });
    return deleted;
  }

  /** Ends any session (that browser is signed out at its next request); SESSION_NOT_FOUND. */
  async revokeSession(by: Principal, sessionId: number): Promise<void> {
    if (confinedTo(by) === undefined) {
      if (!(await this.deps.sessions.revokeById(sessionId))) throw new AppError('SESSION_NOT_FOUND');
    } else {
      const owner = await this.deps.sessions.ownerOf(sessionId);
      if (owner === undefined) throw new AppError('SESSION_NOT_FOUND');
      await this.managed(by, owner);
      if (!(await this.deps.sessions.revoke(owner, sessionId))) throw new AppError('SESSION_NOT_FOUND');
    }
    await this.deps.audit.recordBy(by, { event: 'admin.session_revoked', target: `session:${sessionId}` });
  }

  private async liftLockout(by: Principal, phone: string, user: UserRow | undefined): Promise<void> {
    await this.deps.accounts.unlock(phone);
    await this.deps.audit.recordBy(by, { event: 'admin.user_unlocked', target: user ? `user:${user.id}` : `phone:${maskPhone(phone)}` });
  }

  /**
   * An account the principal may administer: NOT_FOUND when there is none; for an organization
   * administrator, 403 OUTSIDE_ORGANIZATION for another organization's member and FORBIDDEN for a
   * platform administrator (who answers only to another).
   */
  async managed(by: Principal, userId: number): Promise<UserRow> {
    const found = await this.deps.accounts.findById(userId);
    if (!found) throw noSuchUser();
    requireOrganization(by, found.organization_id);
    if (found.role === 'admin') requirePlatform(by, "act on a platform administrator's account");
    return found;
  }

  /** The account as it is now; NOT_FOUND when it was deleted meanwhile. */
  private async current(userId: number): Promise<UserRow> {
    const user = await this.deps.accounts.findById(userId);
    if (!user) throw noSuchUser();
    return user;
  }

  /** An action on one existing account: NOT_FOUND, the action, its audit event, and the account as it is now. */
  private async act(by: Principal, userId: number, event: 'admin.user_disabled' | 'admin.user_enabled' | 'admin.password_reset_forced' | 'admin.two_factor_reset', action: (user: UserRow) => Promise<unknown>): Promise<UserRow> {
    const found = await this.managed(by, userId);
    await action(found);
    await this.deps.audit.recordBy(by, { event, target: `user:${found.id}` });
    return this.current(found.id);
  }
}
