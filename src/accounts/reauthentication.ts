// Confirming, in a session that is already signed in, that its holder is still the account's owner:
// the password, or a code from the authenticator app (or a recovery code). It renews the session's
// record of that factor, which sensitive actions need to be recent (REAUTH_MAX_AGE_SECONDS) and the
// console needs for a second factor. Wrong answers count towards the account's lockout like wrong
// sign-ins, so that a borrowed session cannot be used to guess the password or the code.
import type { AuditLog } from '../audit/service.js';
import type { SessionRow, UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { ClientContext } from '../security/client-network.js';
import type { HashAdmission } from '../security/hash-admission.js';
import type { Lockout } from '../security/lockout.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { Factor, SessionService } from '../sessions/service.js';
import type { Passwords } from './passwords.js';
import { TwoFactor } from './two-factor.js';

export type ReauthenticationInput = { password: string; code?: undefined } | { code: string; password?: undefined };

export class Reauthentication {
  constructor(
    private readonly deps: { passwords: Passwords; twoFactor: TwoFactor; sessions: SessionService; lockout: Lockout; hashing: HashAdmission; rateLimits: RateLimits; audit: AuditLog },
  ) {}

  /** Which factor the holder proved; INVALID_CREDENTIALS (with attempts_left) for a wrong answer, ACCOUNT_LOCKED when locked. */
  async confirm(user: UserRow, session: SessionRow, input: ReauthenticationInput, client: ClientContext): Promise<Factor> {
    const limits = this.deps.rateLimits;
    await limits.enforceForClient(limits.loginPerIp, client);
    // The device's own count when the account knows it (as it knows the one its session signed in on).
    const failures = this.deps.lockout.counter(user.phone, client);
    await failures.assertNotLocked();
    const factor: Factor = input.password !== undefined ? 'password' : 'second_factor';
    if (factor === 'second_factor' && !TwoFactor.isEnabled(user)) throw new AppError('TWO_FACTOR_NOT_ENABLED');
    const ok = input.password !== undefined ? await this.passwordIsRight(user, input.password) : (await this.deps.twoFactor.verify(user, input.code)).ok;
    if (!ok) {
      await this.deps.audit.record({ event: 'session.reauthentication_failed', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { factor } });
      const field = factor === 'password' ? { name: 'body.password', message: 'The password is wrong.' } : { name: 'body.code', message: 'The code is wrong or was already used.' };
      return failures.recordFailure(field);
    }
    if (!(await this.deps.sessions.recordProof(session.id, factor))) throw new AppError('UNAUTHENTICATED');
    await this.deps.audit.record({ event: 'session.reauthenticated', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { factor } });
    return factor;
  }

  /** An account without a password (reset by an administrator) cannot confirm with one: it fails as a wrong one, at the same cost. */
  private passwordIsRight(user: UserRow, password: string): Promise<boolean> {
    return this.deps.hashing.admit(() => this.deps.passwords.verify(user, password));
  }
}
