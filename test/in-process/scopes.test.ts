// The words an app's access is shown in, on the consent page and under "Connected apps": every scope
// Gatehouse grants has a line in both languages, and a scope without words is shown by its name —
// never dropped, or the user would allow (or see allowed) less than the app gets.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { KNOWN_SCOPES, SCOPE_LINES, scopeLines } from '../../web/src/scopes.js';

const LANGS = ['zh-CN', 'en'] as const;

it('every scope the provider grants has its own line in Chinese and in English', () => {
  assert.deepEqual([...KNOWN_SCOPES].sort(), ['offline_access', 'openid', 'organization', 'phone', 'profile']);
  assert.deepEqual(Object.keys(SCOPE_LINES).sort(), [...KNOWN_SCOPES].sort(), 'no line for a scope the list does not know');
  for (const lang of LANGS) {
    const lines = KNOWN_SCOPES.map((scope) => SCOPE_LINES[scope][lang]);
    for (const [i, line] of lines.entries()) assert.ok(line.trim().length > 0, `${KNOWN_SCOPES[i]} in ${lang}`);
    assert.equal(new Set(lines).size, lines.length, `two scopes read alike in ${lang}`);
  }
  for (const scope of KNOWN_SCOPES) {
    assert.match(SCOPE_LINES[scope]['zh-CN'], /\p{Script=Han}/u, `${scope}'s Chinese line is in Chinese`);
    assert.doesNotMatch(SCOPE_LINES[scope].en, /\p{Script=Han}/u, `${scope}'s English line is in English`);
  }
});

it('shows each scope asked for as its line, in the page language, in one fixed order', () => {
  for (const lang of LANGS) {
    const all = scopeLines(['offline_access', 'phone', 'openid', 'organization', 'profile'], lang);
    assert.deepEqual(all, KNOWN_SCOPES.map((scope) => SCOPE_LINES[scope][lang]));
    assert.deepEqual(scopeLines(['profile', 'openid'], lang), [SCOPE_LINES.openid[lang], SCOPE_LINES.profile[lang]]);
  }
  assert.equal(scopeLines(['phone'], 'en')[0], 'Your phone number');
  assert.equal(scopeLines(['phone'], 'zh-CN')[0], '您的手机号');
  assert.deepEqual(scopeLines(['phone', 'phone'], 'en'), ['Your phone number'], 'a scope asked twice is one line');
  assert.deepEqual(scopeLines([], 'en'), []);
});

it('a scope without words is shown by its raw name, after the known ones, not dropped', () => {
  const lines = scopeLines(['email', 'openid', 'https://school.example/grades.read'], 'en');
  assert.deepEqual(lines, [SCOPE_LINES.openid.en, 'email', 'https://school.example/grades.read']);
  // Names that are also properties of every object are scopes like any other.
  assert.deepEqual(scopeLines(['constructor', 'toString', '__proto__'], 'zh-CN'), ['constructor', 'toString', '__proto__']);
});
