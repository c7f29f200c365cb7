// argon2id's cost is configurable (PASSWORD_HASH_MEMORY_KIB, PASSWORD_HASH_TIME_COST, never below
// OWASP's weakest row), and a hash made with other parameters is re-made at the account's next
// successful password login — the only moment the password is at hand.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hash } from '@node-rs/argon2';
import { ConfigError, loadConfig } from '../../src/config.js';
import { argon2Options, DEFAULT_ARGON2_PARAMS, hashNeedsUpgrade } from '../../src/security/password.js';
import { createTestApp, login, register, uniquePhone, type TestApp } from '../helpers/app.js';

const PASSWORD = 'correct horse battery';

describe('password hash parameters', () => {
  it('tells a hash made otherwise (parameters, algorithm) from one made with the current parameters', async () => {
    const current = await hash(PASSWORD, argon2Options(DEFAULT_ARGON2_PARAMS));
    assert.equal(hashNeedsUpgrade(current, DEFAULT_ARGON2_PARAMS), false);
    const older = await hash(PASSWORD, argon2Options({ memoryKib: 7168, timeCost: 5 }));
    assert.equal(hashNeedsUpgrade(older, DEFAULT_ARGON2_PARAMS), true);
    assert.equal(hashNeedsUpgrade(older, { memoryKib: 7168, timeCost: 5 }), false);
    const argon2i = await hash(PASSWORD, { ...argon2Options(DEFAULT_ARGON2_PARAMS), algorithm: 1 });
    assert.equal(hashNeedsUpgrade(argon2i, DEFAULT_ARGON2_PARAMS), true);
    assert.equal(hashNeedsUpgrade('$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW', DEFAULT_ARGON2_PARAMS), true);
  });

  it('refuses settings weaker than OWASP recommends, naming the variables', () => {
    assert.deepEqual(loadConfig({}, {}).passwordHash, { memoryKib: 19_456, timeCost: 2 });
    assert.deepEqual(loadConfig({ PASSWORD_HASH_MEMORY_KIB: '47104', PASSWORD_HASH_TIME_COST: '1' }, {}).passwordHash, { memoryKib: 47_104, timeCost: 1 });
    for (const env of [{ PASSWORD_HASH_MEMORY_KIB: '19456', PASSWORD_HASH_TIME_COST: '1' }, { PASSWORD_HASH_MEMORY_KIB: '4096', PASSWORD_HASH_TIME_COST: '10' }]) {
      assert.throws(() => loadConfig(env, {}), (e: unknown) => e instanceof ConfigError && e.message.includes('PASSWORD_HASH_MEMORY_KIB'), JSON.stringify(env));
    }
  });
});

describe('a hash made with older parameters, at login', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ PASSWORD_HASH_MEMORY_KIB: '9216', PASSWORD_HASH_TIME_COST: '4' });
  });
  after(() => t.close());

  const storedHash = async (phone: string) =>
    (await t.database.db.selectFrom('users').select('password_hash').where('phone', '=', `+86${phone}`).executeTakeFirstOrThrow()).password_hash!;

  it('new accounts are hashed with the configured parameters; an older hash is re-made at the next right password only', async () => {
    const phone = uniquePhone();
    assert.equal((await register(t, { phone })).statusCode, 201);
    assert.match(await storedHash(phone), /^\$argon2id\$v=19\$m=9216,t=4,p=1\$/);

    // As an earlier configuration would have left it.
    const older = await hash(PASSWORD, argon2Options(DEFAULT_ARGON2_PARAMS));
    await t.database.db.updateTable('users').set({ password_hash: older }).where('phone', '=', `+86${phone}`).execute();

    assert.equal((await login(t, phone, 'not the password')).statusCode, 401);
    assert.equal(await storedHash(phone), older, 'a wrong password changes nothing');

    assert.equal((await login(t, phone, PASSWORD)).statusCode, 200);
    const upgraded = await storedHash(phone);
    assert.match(upgraded, /^\$argon2id\$v=19\$m=9216,t=4,p=1\$/);
    assert.equal((await login(t, phone, PASSWORD)).statusCode, 200, 'the re-made hash verifies');
    assert.equal(await storedHash(phone), upgraded, 'a current hash is left alone');
  });
});
