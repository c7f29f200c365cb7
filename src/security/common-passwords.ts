// Passwords of 8+ characters that top the public breach-frequency lists (worldwide and mainland China).
// NIST SP 800-63B asks verifiers to refuse such values; shorter ones already fail the length rule.
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
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
  '123654789', '741852963', '963852741', '159753456', '789456123', '456789123', 'gatehouse', 'gatehouse1',
]);
