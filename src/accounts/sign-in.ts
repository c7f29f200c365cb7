// Signing in: phone + password (behind a captcha), an SMS code, and the second step when two-factor
// sign-in is on. Each ends in a session, a lockout count and an audit event.
import type { CountryCode } from 'libphonenumber-js';
import type { AuditLog } from '../audit/service.js';
import type { CaptchaGate, CaptchaProof } from '../captcha/gate.js';
import type { Database } from '../db/database.js';
import type { UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { ClientContext } from '../security/client-network.js';
import type { HashAdmission } from '../security/hash-admission.js';
import type { Lockout } from '../security/lockout.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { SessionService } from '../sessions/service.js';
import type { SmsCodes } from '../sms/codes.js';
import { counted, type Passwords } from './passwords.js';
import { maskPhone, normalizePhone } from '../text/phone.js';
import type { SignedIn } from './registration.js';
import { createAccountRepo } from './repo.js';
import { parsePhone } from './rules.js';
import { TwoFactor, type SignInMethod } from './two-factor.js';

export interface LoginInput extends CaptchaProof {
  phone: string;
  password: string;
}

export interface SmsLoginInput {
  phone: string;
  code: string;
}

export interface SignInDeps {
  database: Database;
  captcha: CaptchaGate;
  sessions: SessionService;
  rateLimits: RateLimits;
  lockout: Lockout;
  hashing: HashAdmission;
  passwords: Passwords;
  twoFactor: TwoFactor;
  audit: AuditLog;
  smsCodes: SmsCodes;
  metrics?: Metrics | undefined;
  defaultRegion: CountryCode;
}

export class SignIn {
  private readonly repo;

  constructor(private readonly deps: SignInDeps) {
    this.repo = createAccountRepo(deps.database.db);
  }

  login(input: LoginInput, client: ClientContext): Promise<SignedIn> {
    return counted(this.deps.metrics, 'logins', () => this.auditedLogin(input, client));
  }

  /** Records the outcome of a password login that got as far as the password: ok, failed or locked. */
  private async auditedLogin(input: LoginInput, client: ClientContext): Promise<SignedIn> {
    try {
      const signedIn = await this.loginUncounted(input, client);
      await this.signedIn(signedIn.user.id, client, { method: 'password' });
      return signedIn;
    } catch (error) {
      const code = error instanceof AppError ? error.code : undefined;
      if (code === 'INVALID_CREDENTIALS' || code === 'ACCOUNT_LOCKED') {
        const phone = normalizePhone(input.phone, this.deps.defaultRegion);
        await this.deps.audit.record({
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
      await this.deps.captcha.verify(input, 'login', account);
      const failures = this.deps.lockout.counter(account, client);
      // The account's budgets are charged only after the captcha, so that requests which cost their
      // sender nothing cannot spend an account's budget and keep its owner out; and per account and
      // address first, so that one network's attempts stop at its own limit without spending the
      // account's shared one. A device the account knows has its own count instead: what strangers
      // spend of the shared budgets does not keep it out.
      if (!failures.ownCount) {
        await limits.enforce(limits.loginPerAccountIp, `${account}|${client.network}`);
        await limits.enforce(limits.loginPerAccount, account);
      }
      // A locked count is refused before any password work: attacking it costs the server nothing.
      await failures.assertNotLocked();
      const user = phone ? await this.repo.findByPhone(phone.e164) : undefined;
      const passwordOk = await this.deps.passwords.verify(user, input.password);
      if (!passwordOk || !user) return failures.recordFailure();
      if (user.status !== 'active') throw new AppError('ACCOUNT_DISABLED');
      await this.deps.passwords.upgradeIfNeeded(user, input.password);
      // The failure count stays until the second factor too is right: a stolen password does not reset it.
      if (TwoFactor.isEnabled(user)) throw await this.deps.twoFactor.challenge(user, 'password');
      await failures.succeeded();
      const { token } = await this.deps.sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent }, { password: Date.now() });
      return { user, token };
    });
  }

  /**
   * Signs in with an SMS code. A wrong code and a phone without an account fail the same way. Guessing
   * is bounded by the code itself (a few wrong tries destroy it) and by how often codes are sent
   * (cooldown, daily cap), so besides the per-address limit this path does not spend the account's
   * password-login budget and does not wait for its lock: it is how an owner gets in while someone
   * else is guessing at the password (and it lifts the lock, as any complete sign-in does).
   */
  async loginWithSms(input: SmsLoginInput, client: ClientContext): Promise<SignedIn> {
    const phone = parsePhone(input.phone, this.deps.defaultRegion);
    await this.deps.rateLimits.enforceForClient(this.deps.rateLimits.loginPerIp, client);
    const ok = await this.deps.smsCodes.consume(phone.e164, 'login', input.code);
    const user = ok ? await this.repo.findByPhone(phone.e164) : undefined;
    if (!user) {
      await this.deps.audit.record({ event: 'login.failed', target: `phone:${maskPhone(phone.e164)}`, ip: client.ip, detail: { method: 'sms' } });
      throw new AppError('INVALID_SMS_CODE');
    }
    if (user.status !== 'active') throw new AppError('ACCOUNT_DISABLED');
    // An SMS code proves the phone, which is not a second factor beside the authenticator app.
    if (TwoFactor.isEnabled(user)) throw await this.deps.twoFactor.challenge(user, 'sms');
    const reclaimed = await this.proveOwnership(user);
    await this.deps.lockout.counter(phone.e164, client).succeeded();
    const { token } = await this.deps.sessions.create(reclaimed.user.id, { ip: client.ip, userAgent: client.userAgent }, { sms: Date.now() });
    await this.signedIn(user.id, client, { method: 'sms', ...(reclaimed.passwordCleared ? { password_cleared: true } : {}) });
    return { user: reclaimed.user, token };
  }

  /**
   * The first SMS sign-in of an account whose phone no code ever proved. Where an organization does not
   * check phone numbers at registration, anyone can register someone else's number and set its password
   * (pre-hijacking): so the phone's holder, proven now, takes the account over — the password set
   * without proof is removed and every other session ends, and the owner sets a new password (the
   * account page asks for one). An account without a password (a roster's) has nothing to remove.
   */
  async proveOwnership(user: UserRow): Promise<{ user: UserRow; passwordCleared: boolean }> {
    if (user.phone_verified_at !== null) return { user, passwordCleared: false };
    const clearPassword = user.password_hash !== null;
    const proven = await this.deps.database.write(async (trx) => {
      const row = await createAccountRepo(trx).proveUnprovenPhone(user.id, Date.now(), clearPassword);
      if (row && clearPassword) await this.deps.sessions.endAllWith(trx, user.id);
      return row;
    });
    // Another sign-in proved it a moment ago: the account is as that one left it.
    if (!proven) return { user: (await this.repo.findById(user.id)) ?? user, passwordCleared: false };
    return { user: proven, passwordCleared: clearPassword };
  }

  /**
   * The second step of a sign-in with two-factor on: the challenge from TWO_FACTOR_REQUIRED and a code
   * from the authenticator app, or a recovery code. A wrong code counts like a wrong password (and the
   * challenge stays, for the owner's next try within its 5 minutes): on the device's count after a
   * password, or on the challenge's own after a right SMS code — that proof of the phone is what lets
   * an owner in while strangers have locked the account for every client it does not know.
   */
  async completeTwoFactorLogin(input: { challenge: string; code: string }, client: ClientContext): Promise<SignedIn> {
    await this.deps.rateLimits.enforceForClient(this.deps.rateLimits.loginPerIp, client);
    const { userId, method, at: firstFactorAt } = await this.deps.twoFactor.challenged(input.challenge);
    const user = await this.repo.findById(userId);
    if (!user || user.status !== 'active') throw new AppError(user ? 'ACCOUNT_DISABLED' : 'TWO_FACTOR_EXPIRED');
    const lockout = this.deps.lockout;
    const onDevice = lockout.counter(user.phone, client);
    // After an SMS code or a provider's sign-in, the owner proved more than a password: the challenge's own count.
    const failures = method !== 'password' && !onDevice.ownCount ? lockout.counterForProof(user.phone, TwoFactor.challengeId(input.challenge)) : onDevice;
    await failures.assertNotLocked();
    const verified = await this.deps.twoFactor.verify(user, input.code);
    if (!verified.ok) {
      await this.deps.audit.record({ event: 'login.failed', target: `user:${user.id}`, ip: client.ip, detail: { method, second_factor: true } });
      await failures.recordFailure({ name: 'body.code', message: 'The code is wrong or was already used.' });
    }
    if (!(await this.deps.twoFactor.endChallenge(input.challenge))) throw new AppError('TWO_FACTOR_EXPIRED');
    await failures.succeeded();
    const { token } = await this.deps.sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent }, { [method]: firstFactorAt, second_factor: Date.now() });
    const secondFactor = verified.recoveryCodesLeft === undefined ? { second_factor: 'totp' } : { second_factor: 'recovery_code', recovery_codes_left: verified.recoveryCodesLeft };
    await this.signedIn(user.id, client, { method, ...secondFactor });
    return { user, token };
  }

  /** The audit event of every successful sign-in, whichever its method. */
  private signedIn(userId: number, client: ClientContext, detail: { method: SignInMethod } & Record<string, unknown>): Promise<void> {
    return this.deps.audit.record({ event: 'login.ok', actor: `user:${userId}`, target: `user:${userId}`, ip: client.ip, detail });
  }
}
