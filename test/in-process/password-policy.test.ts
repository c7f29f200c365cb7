// The password policy (src/security/password.ts): length, the common-password lists, repetition, the phone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { preloadCommonPasswords } from '../../src/security/common-passwords.js';
import { checkPasswordPolicy } from '../../src/security/password.js';

describe('password policy', () => {
  it('refuses what tops the public breach lists, in any case: the worldwide list and the mainland-China one', () => {
    for (const password of ['samantha', 'Steelers', 'INTERNET', 'q1w2e3r4t5', 'football1', 'iloveyou!']) assert.equal(checkPasswordPolicy(password), 'common', password);
    for (const password of ['woaini1314', '5201314520', '88888888', 'qq123456']) assert.equal(checkPasswordPolicy(password), 'common', password);
    assert.ok(preloadCommonPasswords() > 17_000, 'the breach list of 8+ characters is loaded');
  });

  it('accepts a passphrase that is on no list', () => {
    for (const password of ['correct horse battery', '张老师的第二个密码', 'maverick-in-the-classroom']) assert.equal(checkPasswordPolicy(password), null, password);
  });

  it('refuses too short, too long, one character repeated, and the phone number inside', () => {
    assert.equal(checkPasswordPolicy('Ab1!xyz'), 'too_short');
    assert.equal(checkPasswordPolicy('x'.repeat(129)), 'too_long');
    assert.equal(checkPasswordPolicy('zzzzzzzzzz'), 'repetitive');
    assert.equal(checkPasswordPolicy('my 13800138000 number', { phoneDigits: '13800138000' }), 'contains_phone');
  });
});
