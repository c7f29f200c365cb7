// The sign-in pages' `return_to`: a path on this site passes; anything a browser would take to another
// host (or cannot read) falls back to the account page — no open redirect.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_RETURN_TO, returnToFrom, safeReturnTo, signInPath } from '../../web/src/return-to.js';

it('a local path passes, with its query and hash', () => {
  assert.equal(safeReturnTo('/admin'), '/admin');
  assert.equal(safeReturnTo('/admin#users'), '/admin#users');
  assert.equal(safeReturnTo('/account?tab=2#two-factor'), '/account?tab=2#two-factor');
  assert.equal(safeReturnTo('/admin/../account'), '/account', 'as the browser would resolve it');
});

it('another host, a scheme, or anything not starting with a single slash goes to the account page', () => {
  const refused = [
    '//evil.example',
    '//evil.example/admin',
    '/\\evil.example',
    '/\\/evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/%0a/x\u0000',
    'https://evil.example/',
    'http:evil.example',
    'javascript:alert(1)',
    'data:text/html,x',
    'evil.example',
    'admin',
    ' /admin',
    '',
    `/${'a'.repeat(3000)}`,
  ];
  for (const raw of refused) assert.equal(safeReturnTo(raw), DEFAULT_RETURN_TO, JSON.stringify(raw));
  assert.equal(safeReturnTo(null), DEFAULT_RETURN_TO);
  assert.equal(safeReturnTo(undefined), DEFAULT_RETURN_TO);
});

it('a sign-in page is not a destination (it would send the signed-in visitor straight back)', () => {
  for (const page of ['/login', '/login/sms', '/register', '/login?return_to=/admin']) assert.equal(safeReturnTo(page), DEFAULT_RETURN_TO, page);
});

it('is read from return_to, else next; and a page builds the way back to itself', () => {
  assert.equal(returnToFrom('?return_to=%2Fadmin%23keys'), '/admin#keys');
  assert.equal(returnToFrom('?next=/admin'), '/admin');
  assert.equal(returnToFrom('?return_to=//evil.example&next=/admin'), DEFAULT_RETURN_TO, 'return_to wins, and is refused');
  assert.equal(returnToFrom(''), DEFAULT_RETURN_TO);
  assert.equal(signInPath('/admin#users'), '/login?return_to=%2Fadmin%23users');
  assert.equal(signInPath('/account'), '/login', 'the default needs no parameter');
  assert.equal(returnToFrom(new URL(signInPath('/admin#users'), 'http://x').search), '/admin#users', 'round trip');
});
