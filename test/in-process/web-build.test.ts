// The built pages (npm test builds them first): no inline script, nothing loaded from another host,
// and at most 100 KB of gzipped JavaScript per page.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { it } from 'node:test';
import { WEB_ROOT } from '../../src/web/routes.js';

it('every page loads only its own files, without inline script, within 100 KB of gzipped JavaScript', () => {
  const pages = readdirSync(WEB_ROOT).filter((f) => f.endsWith('.html'));
  assert.deepEqual(pages.sort(), ['account.html', 'admin.html', 'consent.html', 'login.html', 'register.html', 'reset.html', 'sign-in-continue.html', 'sms-login.html']);
  for (const page of pages) {
    const html = readFileSync(path.join(WEB_ROOT, page), 'utf8');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, `${page} has an inline script`);
    assert.doesNotMatch(html, /\bstyle=|<style/, `${page} has inline style`);
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) assert.ok(ref.startsWith('/') || ref === 'data:,', `${page} loads ${ref} from elsewhere`);
    const scripts = refs.filter((r) => r.endsWith('.js'));
    assert.ok(scripts.length > 0, `${page} has its script`);
    const gzipped = scripts.reduce((sum, src) => sum + gzipSync(readFileSync(path.join(WEB_ROOT, src))).length, 0);
    assert.ok(gzipped <= 100 * 1024, `${page}: ${gzipped} bytes of gzipped JavaScript`);
  }
  for (const asset of readdirSync(path.join(WEB_ROOT, 'assets'))) {
    const text = readFileSync(path.join(WEB_ROOT, 'assets', asset), 'utf8');
    // Allowed: XML namespaces, and the link to its documentation that @simplewebauthn/browser puts in a console warning (text, never loaded).
    assert.doesNotMatch(text, /https?:\/\/(?!www\.w3\.org|simplewebauthn\.dev\/docs\/)[a-z0-9.-]+\.[a-z]{2,}\//i, `${asset} refers to another host`);
  }
});
