import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ERROR_CATALOGUE } from '../../src/errors.js';

it('docs/errors.md lists every error code with its status, and no code that does not exist', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, number>();
  for (const match of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) rows.set(match[1]!, Number(match[2]));
  for (const [code, { status }] of Object.entries(ERROR_CATALOGUE)) {
    assert.ok(rows.has(code), `docs/errors.md is missing ${code}`);
    assert.equal(rows.get(code), status, `docs/errors.md gives ${code} the wrong status`);
  }
  for (const code of rows.keys()) assert.ok(code in ERROR_CATALOGUE, `docs/errors.md lists ${code}, which src/errors.ts does not define`);
});
