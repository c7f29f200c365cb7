// The rules every account meets however it is made or changed — by registration, a roster, the
// command line or an administrator's correction: a valid phone number, a printable name, a password
// that passes the policy.
import type { CountryCode } from 'libphonenumber-js';
import { AppError } from '../errors.js';
import { checkPasswordPolicy } from '../security/password.js';
import { printableName } from '../text/printable-name.js';
import { normalizePhone, type NormalizedPhone } from '../text/phone.js';

const PASSWORD_PROBLEM_MESSAGES = {
  too_short: 'The password must be at least 8 characters long.',
  too_long: 'The password must be at most 128 characters long.',
  common: 'This password is too common; choose another.',
  repetitive: 'The password must not be one character repeated.',
  contains_phone: 'The password must not contain your phone number.',
} as const;

/** A phone number as stored; INVALID_PHONE otherwise. */
export function parsePhone(raw: string, defaultRegion: CountryCode): NormalizedPhone {
  const phone = normalizePhone(raw, defaultRegion);
  if (!phone) throw new AppError('INVALID_PHONE');
  return phone;
}

/** A person's name: printable, 1-64 characters. */
export function normalizeName(raw: string): string | null {
  return printableName(raw, 64);
}

/** A person's name as stored; INVALID_NAME otherwise. */
export function personName(raw: string): string {
  const name = normalizeName(raw);
  if (!name) throw new AppError('INVALID_NAME', { message: 'The name must be 1-64 printable characters.' });
  return name;
}

/** WEAK_PASSWORD, with the reason, for a password the policy refuses for this phone number. */
export function checkNewPassword(password: string, phone: NormalizedPhone): void {
  if (!password.isWellFormed()) throw new AppError('WEAK_PASSWORD', { message: 'The password contains invalid characters.' });
  const problem = checkPasswordPolicy(password, { phoneDigits: phone.national });
  if (problem) throw new AppError('WEAK_PASSWORD', { message: PASSWORD_PROBLEM_MESSAGES[problem], details: { reason: problem } });
}

/** The rules every new account meets: valid phone, name and password. */
export function checkNewAccount(input: { phone: string; name: string; password: string }, defaultRegion: CountryCode): { phone: NormalizedPhone; name: string } {
  const phone = parsePhone(input.phone, defaultRegion);
  const name = personName(input.name);
  checkNewPassword(input.password, phone);
  return { phone, name };
}
