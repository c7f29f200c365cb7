// Turning two-factor sign-in on and off: by the owner (who proves the account first), or by an
// administrator for an owner who lost the phone and the recovery codes. The codes themselves are
// two-factor.ts's business.
import type { AuditLog } from '../audit/service.js';
import type { UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { ClientContext } from '../security/client-network.js';
import type { SessionService } from '../sessions/service.js';
import type { Passwords } from './passwords.js';
import { TwoFactor } from './two-factor.js';

export class TwoFactorSettings {
  constructor(private readonly deps: { twoFactor: TwoFactor; passwords: Passwords; sessions: SessionService; audit: AuditLog }) {}

  /** Starts turning two-factor sign-in on: the current password (when set) first, as for any change a borrowed session must not make. */
  async begin(user: UserRow, currentPassword: string | undefined): Promise<{ secret: string; uri: string }> {
    await this.deps.passwords.requireCurrent(user, currentPassword);
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

  /** Turns two-factor sign-in off: the current password (when set) and a code from the app or a recovery code. */
  async disable(user: UserRow, input: { currentPassword?: string | undefined; code: string }, client: ClientContext): Promise<void> {
    if (!TwoFactor.isEnabled(user)) throw new AppError('TWO_FACTOR_NOT_ENABLED');
    await this.deps.passwords.requireCurrent(user, input.currentPassword);
    if (!(await this.deps.twoFactor.verify(user, input.code)).ok) throw new AppError('INVALID_TWO_FACTOR_CODE', { details: { field: 'body.code' } });
    await this.deps.twoFactor.turnOff(user.id);
    await this.deps.audit.record({ event: 'two_factor.disabled', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip });
  }

  /** An administrator turns off an account's two-factor sign-in (see admin/users.ts); TWO_FACTOR_NOT_ENABLED. */
  async reset(userId: number): Promise<void> {
    if (!(await this.deps.twoFactor.turnOff(userId))) throw new AppError('TWO_FACTOR_NOT_ENABLED');
  }
}
