// Turning two-factor sign-in on and off: by the owner (who proves the account first), or by an
// administrator for an owner who lost the phone and the recovery codes. The codes themselves are
// two-factor.ts's business.
import type { AuditLog } from '../audit/service.js';
import type { UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { ClientContext } from '../security/client-network.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { SessionService } from '../sessions/service.js';
import type { Passwords } from './passwords.js';
import { TwoFactor } from './two-factor.js';

export class TwoFactorSettings {
  constructor(private readonly deps: { twoFactor: TwoFactor; passwords: Passwords; sessions: SessionService; rateLimits: RateLimits; audit: AuditLog }) {}

  /** Starts turning two-factor sign-in on: the current password (when set) first, as for any change a borrowed session must not make. */
  async begin(user: UserRow, currentPassword: string | undefined, client: ClientContext): Promise<{ secret: string; uri: string }> {
    await this.deps.passwords.requireCurrent(user, currentPassword, client);
    return this.deps.twoFactor.begin(user);
  }

  /**
   * Turns two-factor sign-in on with a first code from the app; returns the recovery codes (shown
   * once). The code is a second factor proved in this session: an administrator walked here from
   * the console goes back to it without signing in again.
   */
  async enable(user: UserRow, sessionId: number, code: string, client: ClientContext): Promise<string[]> {
    const recoveryCodes = await this.deps.twoFactor.confirm(user, code);
    await this.deps.sessions.recordProof(sessionId, 'second_factor');
    await this.deps.audit.record({ event: 'two_factor.enabled', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip });
    return recoveryCodes;
  }

  /**
   * Turns two-factor sign-in off: the current password (when set) and a code from the app or a
   * recovery code. The codes tried are limited per account (RATE_LIMIT_TWO_FACTOR_DISABLE), so that
   * a borrowed session cannot guess its way to turning the second factor off; each is counted before
   * it is checked, so that concurrent guesses on any number of workers stop at exactly the limit. A
   * wrong one answers with the attempts left and is audited; the one that uses up the last attempt,
   * and any after it, 429 RATE_LIMITED (`limit: two_factor_disable`) with Retry-After.
   */
  async disable(user: UserRow, input: { currentPassword?: string | undefined; code: string }, client: ClientContext): Promise<void> {
    if (!TwoFactor.isEnabled(user)) throw new AppError('TWO_FACTOR_NOT_ENABLED');
    await this.deps.passwords.requireCurrent(user, input.currentPassword, client);
    const limits = this.deps.rateLimits;
    const account = String(user.id);
    const attempt = await limits.enforce(limits.twoFactorDisable, account);
    if (!(await this.deps.twoFactor.verify(user, input.code)).ok) {
      await this.deps.audit.record({ event: 'two_factor.disable_failed', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { attempts_left: attempt.remaining } });
      if (attempt.remaining === 0) throw limits.limitedError(limits.twoFactorDisable, attempt.msBeforeNext);
      throw new AppError('INVALID_TWO_FACTOR_CODE', { details: { field: 'body.code', attempts_left: attempt.remaining } });
    }
    await this.deps.twoFactor.turnOff(user.id);
    await limits.twoFactorDisable.delete(account);
    await this.deps.audit.record({ event: 'two_factor.disabled', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip });
  }

  /** An administrator turns off an account's two-factor sign-in (see admin/users.ts); TWO_FACTOR_NOT_ENABLED. */
  async reset(userId: number): Promise<void> {
    if (!(await this.deps.twoFactor.turnOff(userId))) throw new AppError('TWO_FACTOR_NOT_ENABLED');
  }
}
