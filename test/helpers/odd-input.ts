// Inputs that have broken services before: empty, huge, invalid UTF-16, direction overrides, injection
// attempts, numbers JSON cannot hold, and values of the wrong JSON type.
export const ODD_STRINGS = [
  '',
  ' ',
  'x'.repeat(10_000),
  '\u0000',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u202d',
  '\u200b\u200b\u200b',
  '🙂'.repeat(300),
  'Ω≈ç√∫',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '../../etc/passwd',
  '%00',
];

export const WRONG_TYPES: unknown[] = [null, 0, -1, 1.5, true, [], ['a'], {}, { $ne: null }];

/** Strings that look like numbers or dates but are not ones a route can use. */
export const ODD_NUMBERS = ['-1', '0', '1.5', '1e3', '1e309', '-0', 'NaN', 'Infinity', '0x10', '9007199254740993', '99999999999999999999', '2026-13-45T99:99:99Z'];

/** Path parameters: wrong types, out of range, malformed or decoded-away %-escapes, far too long. */
export const ODD_PATH_PARAMETERS = ['abc', ...ODD_NUMBERS, '%00', '%ff', '%2e%2e', '%20', '%2F', 'a'.repeat(3000)];
