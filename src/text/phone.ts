import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export interface NormalizedPhone {
  /** E.164, e.g. +8613800138000: the form every table and key uses. */
  e164: string;
  /** The national significant number, e.g. 13800138000. */
  national: string;
}

/** Parses a phone number written with or without a country code; null when it is not a valid number. */
export function normalizePhone(input: string, defaultRegion: CountryCode): NormalizedPhone | null {
  if (input.length > 32 || !/^[+\d\s().-]+$/.test(input)) return null;
  const parsed = parsePhoneNumberFromString(input, defaultRegion);
  if (!parsed || !parsed.isValid()) return null;
  return { e164: parsed.number, national: parsed.nationalNumber };
}

/** For logs: +86138****8000. Phone numbers never appear whole in a log line. */
export function maskPhone(e164: string): string {
  if (e164.length <= 8) return '****';
  return `${e164.slice(0, e164.length - 8)}****${e164.slice(-4)}`;
}
