// Registration by invitation code and phone + password login.
import type { CountryCode } from 'libphonenumber-js';
import type { CaptchaService } from '../captcha/service.js';
import type { Database } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Role, UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { OrgService } from '../orgs/service.js';
import { checkPasswordPolicy, hashPassword, verifyAgainstDummy, verifyPassword } from '../security/password.js';
import { createAccountRepo, type AccountRepo } from './repo.js';
import { normalizePhone, type NormalizedPhone } from './phone.js';

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
}

export interface LoginInput {
  phone: string;
  password: string;
  captchaId: string;
  captcha: string;
}

export interface AccountDeps {
  database: Database;
  captcha: CaptchaService;
  orgs: OrgService;
  defaultRegion: CountryCode;
  now?: () => number;
}

/** Names are shown to other people: printable text only, no control or format characters. */
export function normalizeName(raw: string): string | null {
  if (!raw.isWellFormed()) return null;
  const name = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
  const length = [...name].length;
  if (length < 1 || length > 64) return null;
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}]/u.test(name)) return null;
  return name;
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

  async register(input: RegisterInput): Promise<UserRow> {
    // Cheap checks of the request's own fields first, so that a typo does not cost the captcha.
    const phone = this.parsePhone(input.phone);
    const name = normalizeName(input.name);
    if (!name) throw new AppError('INVALID_NAME', { message: 'The name must be 1-64 printable characters.' });
    if (!input.password.isWellFormed()) throw new AppError('WEAK_PASSWORD', { message: 'The password contains invalid characters.' });
    const problem = checkPasswordPolicy(input.password, { phoneDigits: phone.national });
    if (problem) throw new AppError('WEAK_PASSWORD', { message: PASSWORD_PROBLEM_MESSAGES[problem], details: { reason: problem } });

    // The captcha gates everything that touches accounts (taken phones must not be enumerable).
    await this.deps.captcha.verify(input.captchaId, input.captcha, 'register');
    const invitation = await this.deps.orgs.resolveInvitation(input.invitationCode);
    if (await this.repo.phoneExists(phone.e164)) throw new AppError('PHONE_TAKEN');

    // Hash before any write: the transaction stays short and the write lock is never held while hashing.
    const passwordHash = await hashPassword(input.password);
    const now = this.now();
    try {
      return await this.deps.database.retrying(() =>
        this.repo.insertUser({
          organization_id: invitation.organizationId,
          phone: phone.e164,
          name,
          password_hash: passwordHash,
          role: 'user',
          status: 'active',
          created_at: now,
          updated_at: now,
        }),
      );
    } catch (error) {
      // Two registrations of one phone raced past phoneExists: the unique constraint decides.
      if (isUniqueViolation(error)) throw new AppError('PHONE_TAKEN');
      throw error;
    }
  }

  /**
   * Checks phone + password. Unknown phone and wrong password fail the same way and cost the same
   * time (the unknown phone is verified against a dummy hash).
   */
  async login(input: LoginInput): Promise<UserRow> {
    const phone = normalizePhone(input.phone, this.deps.defaultRegion);
    await this.deps.captcha.verify(input.captchaId, input.captcha, 'login');
    const user = phone ? await this.repo.findByPhone(phone.e164) : undefined;
    if (!user || user.password_hash === null) {
      await verifyAgainstDummy(input.password);
      throw new AppError('INVALID_CREDENTIALS');
    }
    if (!(await verifyPassword(user.password_hash, input.password))) throw new AppError('INVALID_CREDENTIALS');
    if (user.status !== 'active') throw new AppError('ACCOUNT_DISABLED');
    return user;
  }

  findById(id: number): Promise<UserRow | undefined> {
    return this.repo.findById(id);
  }

  /** Creates an account directly (CLI: first admin). Same phone and password rules as registration. */
  async createUser(input: { phone: string; name: string; password: string; organizationId: number; role: Role }): Promise<UserRow> {
    const phone = this.parsePhone(input.phone);
    const name = normalizeName(input.name);
    if (!name) throw new AppError('INVALID_NAME');
    const problem = checkPasswordPolicy(input.password, { phoneDigits: phone.national });
    if (problem) throw new AppError('WEAK_PASSWORD', { message: PASSWORD_PROBLEM_MESSAGES[problem] });
    const passwordHash = await hashPassword(input.password);
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
