// New accounts: registration by invitation code (captcha, optionally an SMS code, one group-committed
// transaction), and the command line's direct creation of an account (the first administrator).
import type { CountryCode } from 'libphonenumber-js';
import type { AuditLog } from '../audit/service.js';
import type { CaptchaGate, CaptchaProof } from '../captcha/gate.js';
import type { Database, Db } from '../db/database.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/store-errors.js';
import type { Role, UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { OrgService } from '../orgs/service.js';
import { actorName, addressOf, type Principal } from '../principal.js';
import type { ClientContext } from '../security/client-network.js';
import type { HashAdmission } from '../security/hash-admission.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { SessionService } from '../sessions/service.js';
import type { SmsCodes } from '../sms/codes.js';
import { counted, type Passwords } from './passwords.js';
import { createAccountRepo } from './repo.js';
import { checkNewAccount, personName } from './rules.js';

export interface RegisterInput extends CaptchaProof {
  phone: string;
  password: string;
  name: string;
  invitationCode: string;
  /** Needed when the organization requires an SMS code to register. */
  smsCode?: string | undefined;
}

export interface SignedIn {
  user: UserRow;
  token: string;
}

export interface RegistrationDeps {
  database: Database;
  captcha: CaptchaGate;
  orgs: OrgService;
  sessions: SessionService;
  rateLimits: RateLimits;
  hashing: HashAdmission;
  passwords: Passwords;
  audit: AuditLog;
  smsCodes: SmsCodes;
  metrics?: Metrics | undefined;
  defaultRegion: CountryCode;
  now: () => number;
}

export class Registration {
  constructor(private readonly deps: RegistrationDeps) {}

  register(input: RegisterInput, client: ClientContext): Promise<SignedIn> {
    return counted(this.deps.metrics, 'registrations', () => this.registerUncounted(input, client));
  }

  private async registerUncounted(input: RegisterInput, client: ClientContext): Promise<SignedIn> {
    // Cheap checks of the request's own fields first, so that a typo does not cost the captcha.
    const { phone, name } = checkNewAccount(input, this.deps.defaultRegion);
    const limits = this.deps.rateLimits;

    return this.deps.hashing.admitAfter(() => limits.enforceForClient(limits.registerPerIp, client), async () => {
      // The captcha gates everything that touches accounts (taken phones must not be enumerable).
      await this.deps.captcha.verify(input, 'register', phone.e164);
      let invitation = await this.deps.orgs.resolveInvitation(input.invitationCode);
      // A cached "needs an SMS code" may predate an admin turning it off: ask the database before refusing.
      if (invitation.requiresSms && !input.smsCode) invitation = await this.deps.orgs.resolveInvitation(input.invitationCode, { fresh: true });
      if (invitation.requiresSms) {
        if (!input.smsCode) throw new AppError('SMS_CODE_REQUIRED');
        if (!(await this.deps.smsCodes.consume(phone.e164, 'register', input.smsCode))) throw new AppError('INVALID_SMS_CODE');
      }
      if (await createAccountRepo(this.deps.database.db).phoneExists(phone.e164)) throw new AppError('PHONE_TAKEN');

      // Hash before the transaction: the write lock is never held while hashing.
      const passwordHash = await this.deps.passwords.hash(input.password);
      const now = this.deps.now();
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
            // The SMS code proved the phone; without one, whoever typed the number set the password.
            phone_verified_at: invitation.requiresSms ? now : null,
          });
          const proof = invitation.requiresSms ? { password: now, sms: now } : { password: now };
          const { token } = await this.deps.sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent }, proof, trx);
          await this.deps.audit.insertWith(trx, { event: 'register', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { organization_id: organizationId } });
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

  /**
   * Registers an account whose phone number an SMS code has just proven, for a person who signed in
   * through an upstream provider (WeChat, WeCom…): no password (the owner may set one later), the
   * organization of an invitation code or of the provider's binding, and `within` (linking the
   * identity) in the same transaction as the account and its first session: all or nothing.
   */
  async registerProven(
    input: { phone: string; name: string; invitationCode: string | null; organizationId: number | null; via: string },
    client: ClientContext,
    within: (trx: Db, user: UserRow) => Promise<unknown>,
  ): Promise<SignedIn> {
    const name = personName(input.name);
    const limits = this.deps.rateLimits;
    await limits.enforceForClient(limits.registerPerIp, client);
    let organizationId = input.organizationId;
    let invitationCode: string | null = null;
    if (organizationId === null) {
      if (!input.invitationCode) throw new AppError('INVITATION_CODE_REQUIRED', { details: { field: 'body.invitation_code' } });
      const invitation = await this.deps.orgs.resolveInvitation(input.invitationCode);
      organizationId = invitation.organizationId;
      invitationCode = invitation.code;
    }
    const now = this.deps.now();
    try {
      return await this.deps.database.write(async (trx) => {
        const user = await createAccountRepo(trx).insertUser({
          organization_id: organizationId,
          phone: input.phone,
          name,
          password_hash: null,
          role: 'user',
          status: 'active',
          created_at: now,
          updated_at: now,
          invitation_code: invitationCode,
          phone_verified_at: now,
        });
        await within(trx, user);
        const { token } = await this.deps.sessions.create(user.id, { ip: client.ip, userAgent: client.userAgent }, { federated: now }, trx);
        await this.deps.audit.insertWith(trx, { event: 'register', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { organization_id: organizationId, via: input.via } });
        // The phone was proven, whatever the organization asks of registrations.
        if (invitationCode !== null) await this.deps.orgs.takeInvitationUse(trx, invitationCode, true);
        return { user, token };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('PHONE_TAKEN');
      if (isForeignKeyViolation(error)) throw new AppError(invitationCode === null ? 'ORGANIZATION_NOT_FOUND' : 'INVALID_INVITATION_CODE');
      throw error;
    }
  }

  /**
   * Creates an account directly (CLI: `admin create`). Same phone and password rules as registration;
   * an administrator's creation is in the audit log (`admin.created`), committed with the account.
   */
  async createUser(by: Principal, input: { phone: string; name: string; password: string; organizationId: number; role: Role }): Promise<UserRow> {
    const { phone, name } = checkNewAccount(input, this.deps.defaultRegion);
    const passwordHash = await this.deps.passwords.hash(input.password);
    const now = this.deps.now();
    try {
      return await this.deps.database.write(async (trx) => {
        const user = await createAccountRepo(trx).insertUser({
          organization_id: input.organizationId,
          phone: phone.e164,
          name,
          password_hash: passwordHash,
          role: input.role,
          status: 'active',
          created_at: now,
          updated_at: now,
          // The operator at the server's console vouches for the number.
          phone_verified_at: now,
        });
        if (user.role === 'admin') {
          await this.deps.audit.insertWith(trx, { event: 'admin.created', actor: actorName(by), target: `user:${user.id}`, ip: addressOf(by), detail: { organization_id: user.organization_id, via: by.kind === 'operator' ? 'cli' : 'api' } });
        }
        return user;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('PHONE_TAKEN');
      throw error;
    }
  }
}
