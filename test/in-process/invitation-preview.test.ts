// GET /api/auth/invitations/:code: what a registration link shows before anyone fills the form — the
// organization's name and whether the code admits anyone now — and nothing more (no quota, uses,
// dates or ids); unknown codes are 404 INVITATION_NOT_FOUND; looking is rate-limited per address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminSession, createTestApp, register, type TestApp } from '../helpers/app.js';

describe('the invitation preview', () => {
  let t: TestApp;
  let admin: string;

  before(async () => {
    t = await createTestApp({ RATE_LIMIT_INVITATION_PER_IP: '40/60' });
    admin = (await adminSession(t)).cookie;
  });
  after(() => t.close());

  const preview = (code: string, ip = '203.0.113.7') => t.app.inject({ method: 'GET', url: `/api/auth/invitations/${encodeURIComponent(code)}`, remoteAddress: ip });

  /** A new code of the first organization, made by an administrator. */
  async function newCode(body: Record<string, unknown> = {}): Promise<string> {
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/organizations/1/invitations', headers: { cookie: admin }, payload: body });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().invitation.invitation_code;
  }

  it("a live code: the organization's name, valid, whether an SMS code is needed — and no other field", async () => {
    const res = await preview(t.invitationCode);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const name = (await t.database.db.selectFrom('organizations').select('name').where('id', '=', 1).executeTakeFirstOrThrow()).name;
    assert.deepEqual(res.json(), { organization: { name }, valid: true, requires_sms: false });
    assert.deepEqual((await preview(t.invitationCode.toLowerCase())).json().valid, true, 'as registration reads it: any case');
  });

  it('says when registering needs an SMS code', async () => {
    const set = (on: boolean) => t.app.inject({ method: 'PATCH', url: '/api/admin/organizations/1', headers: { cookie: admin }, payload: { register_requires_sms: on } });
    assert.equal((await set(true)).statusCode, 200);
    try {
      assert.equal((await preview(t.invitationCode)).json().requires_sms, true);
    } finally {
      await set(false);
    }
  });

  it('a revoked, an expired and a used-up code: not valid, with the reason, and still nothing about quota or dates', async () => {
    const revoked = await newCode();
    assert.equal((await t.app.inject({ method: 'POST', url: `/api/admin/invitations/${revoked}/revoke`, headers: { cookie: admin } })).statusCode, 200);
    const expired = await newCode({ expires_in_days: 1 });
    await t.database.db.updateTable('invitation_codes').set({ expires_at: Date.now() - 1000 }).where('code', '=', expired).execute();
    const usedUp = await newCode({ max_uses: 1 });
    assert.equal((await register(t, { invitation_code: usedUp })).statusCode, 201);
    for (const [code, reason] of [[revoked, 'revoked'], [expired, 'expired'], [usedUp, 'used_up']] as const) {
      const res = await preview(code);
      assert.equal(res.statusCode, 200, code);
      assert.deepEqual(Object.keys(res.json()).sort(), ['organization', 'reason', 'requires_sms', 'valid'], `${reason}: ${res.body}`);
      assert.equal(res.json().valid, false);
      assert.equal(res.json().reason, reason);
    }
    // An administrator adds places: the link is valid again at once, whatever this process had cached.
    assert.equal((await t.app.inject({ method: 'PATCH', url: `/api/admin/invitations/${usedUp}`, headers: { cookie: admin }, payload: { max_uses: 5 } })).statusCode, 200);
    assert.equal((await preview(usedUp)).json().valid, true);
  });

  it('an unknown or malformed code is 404 INVITATION_NOT_FOUND', async () => {
    for (const code of ['NOPE2345', 'ab', '!!!!????', 'A'.repeat(64)]) {
      const res = await preview(code);
      assert.equal(res.statusCode, 404, code);
      assert.equal(res.json().error.code, 'INVITATION_NOT_FOUND');
    }
  });

  it('is rate-limited per address (invitation_ip), and other addresses are not affected', async () => {
    const ip = '198.51.100.9';
    let limited;
    for (let i = 0; i < 41 && !limited; i++) {
      const res = await preview(`GUESS${String(i).padStart(3, '0')}`, ip);
      if (res.statusCode === 429) limited = res;
      else assert.equal(res.statusCode, 404);
    }
    assert.ok(limited, 'the 41st look within a minute is refused');
    assert.equal(limited.json().error.limit, 'invitation_ip');
    assert.equal(limited.json().error.scope, 'address');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal((await preview(t.invitationCode, ip)).statusCode, 429, 'a real code too, from that address');
    assert.equal((await preview(t.invitationCode, '198.51.100.10')).statusCode, 200);
  });
});
