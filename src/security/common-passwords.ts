// Passwords that NIST SP 800-63B asks a verifier to refuse: the most frequent in public breach corpora.
// Two sources: zxcvbn-ts's list of the ~49,000 most common passwords (mostly from English-language
// breaches; only its ~18,000 of 8+ characters matter here, shorter ones already fail the length
// rule), and the ones that top the mainland-China lists, which that list lacks.
import { createRequire } from 'node:module';

const CHINA_AND_PRODUCT = [
  '12345678', '123456789', '1234567890', '0123456789', '87654321', '987654321', '11111111', '00000000',
  '88888888', '66666666', '12341234', '11223344', '12121212', '123123123', '147258369', '123456789a',
  '12345678a', 'a12345678', 'a123456789', 'abc12345', 'abcd1234', 'abc123456', 'aa123456', 'qq123456',
  'password', 'password1', 'password12', 'password123', 'passw0rd', 'p@ssw0rd', 'p@ssword', 'iloveyou',
  'iloveyou1', 'qwertyui', 'qwertyuiop', 'qwerty123', 'qwerty12', '1qaz2wsx', '1q2w3e4r', '1q2w3e4r5t',
  'zaq12wsx', 'qazwsxedc', 'asdfghjkl', 'zxcvbnm1', 'sunshine', 'princess', 'football', 'baseball',
  'superman', 'starwars', 'whatever', 'trustno1', 'welcome1', 'welcome123', 'letmein1', 'computer',
  'michelle', 'jennifer', 'corvette', 'mercedes', 'blahblah', 'admin123', 'administrator', 'changeme',
  'woaini1314', 'woaini520', '5201314520', '52013145', 'wodemima', 'woaini123', 'aini1314', 'a1234567',
  'asd123456', 'qwe123456', 'zxc123456', '1234qwer', 'qwer1234', 'q1w2e3r4', 'a1b2c3d4', 'abcdefgh',
  '123654789', '741852963', '963852741', '159753456', '789456123', '456789123', 'gatehouse', 'gatehouse1'];

let common: ReadonlySet<string> | undefined;

function commonPasswords(): ReadonlySet<string> {
  if (!common) {
    // Loaded on first use (decompressing it takes ~60 ms and a few MB), so that processes which never
    // check a password — the cluster primary, the task workers, most CLI commands — never hold it.
    const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as { dictionary: Record<'passwords-common', string[]> };
    common = new Set([...dictionary['passwords-common'].filter((p) => p.length >= 8).map((p) => p.toLowerCase()), ...CHINA_AND_PRODUCT]);
  }
  return common;
}

/** Whether `lowerCased` is a common password. */
export function isCommonPassword(lowerCased: string): boolean {
  return commonPasswords().has(lowerCased);
}

/** Builds the list now: an HTTP worker does it before it listens, so no registration waits for it. */
export function preloadCommonPasswords(): number {
  return commonPasswords().size;
}
