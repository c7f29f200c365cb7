// A neighbour for bench/hash-neighbours.ts: Gatehouse's own registration work, without the hashing —
// the embedded stores (SQLite, durable and key-value), Fastify, captcha, rate limit, invitation,
// account, session — in a loop until killed. The password "hash" is a fixed string: what is measured
// is how this work slows argon2 on the other core, so it must not hash itself.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { PasswordHasher } from '../../src/security/password.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { openRuntime } from '../../src/server/runtime.js';

const config = loadConfig(
  { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'gatehouse-neighbour-')), GATEHOUSE_TEST_CAPTCHA: 'TEST', LOG_LEVEL: 'silent', RATE_LIMIT_REGISTER_PER_IP: '100000000/60', RATE_LIMIT_CAPTCHA_PER_IP: '100000000/60' },
  {},
);
const runtime = await openRuntime(config);
const prepared = await prepareDatabase(runtime.database, runtime.secret);
const storedHash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0123456789abcdefghijklmnopqrstuvwxyzABCDE';
const noHashing: PasswordHasher = { hash: async () => storedHash, verify: async () => false, verifyAgainstDummy: async () => false, needsUpgrade: () => false };
const app = await buildApp({ config, database: runtime.database, kv: runtime.kv, secret: runtime.secret, hasher: noHashing, logger: false });
const invitationCode = prepared.firstOrganization!.invitationCode;

process.stdout.write('ready\n');
for (let batch = 0; ; batch++) {
  const ids = await Promise.all(
    Array.from({ length: 50 }, async () => (await app.inject({ method: 'GET', url: '/api/auth/captcha/generate?purpose=register' })).json().captcha_id as string),
  );
  await Promise.all(
    ids.map((captchaId, i) =>
      app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { phone: `13${String(batch * 50 + i).padStart(9, '0')}`, password: 'workshop passphrase 2026', name: `Teacher ${i}`, invitation_code: invitationCode, captcha_id: captchaId, captcha: 'TEST' },
      }),
    ),
  );
}
