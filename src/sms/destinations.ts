// Where SMS messages may go: numbers of the regions the operator allows (SMS_ALLOWED_REGIONS), and
// only mobile numbers. Premium-rate and other paid numbers are what SMS pumping sends to, so anything
// the numbering plan does not call mobile is refused before any work is done.
import { parsePhoneNumberFromString, type CountryCode, type NumberType } from 'libphonenumber-js/max';
import { AppError } from '../errors.js';

/**
 * Types that can receive an SMS: MOBILE, and FIXED_LINE_OR_MOBILE, which plans like the US and
 * Canada give every number because their mobile and fixed numbers share ranges (a fixed line there
 * cannot charge a premium rate: premium numbers have ranges of their own, typed PREMIUM_RATE).
 */
const MOBILE_TYPES: ReadonlySet<NumberType> = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

/** The region of an E.164 number that may be sent messages; SMS_REGION_NOT_ALLOWED or SMS_NOT_MOBILE otherwise. */
export function smsDestinationRegion(e164: string, allowedRegions: readonly CountryCode[]): CountryCode {
  const parsed = parsePhoneNumberFromString(e164);
  const region = parsed?.country;
  if (!parsed || !region || !allowedRegions.includes(region)) throw new AppError('SMS_REGION_NOT_ALLOWED');
  const type = parsed.getType();
  if (!type || !MOBILE_TYPES.has(type)) throw new AppError('SMS_NOT_MOBILE');
  return region;
}
