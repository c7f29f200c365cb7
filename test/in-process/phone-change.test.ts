// Moving an account to a new phone number: by its owner (a code sent to the new number, and the
// current password when set) or by an administrator correcting a roster's typo.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TaskConsumer } from '../../src/tasks/types.js';
import { adminSession, createTestApp, login, newCaptcha, register, sessionCookie, settledDelivery, smsCode, startTaskConsumer, TEST_CAPTCHA, uniquePhone, type TestApp } from '../helpers/app.js';

const PASSWORD = 'correct horse battery';


describe('changing the phone number', () => {
  let t: TestApp;
  let consumer: TaskConsumer;
  before(async () => {
    t = await createTestApp({ SMS_RESEND_SECONDS: '1' });
    consumer = startTaskConsumer(t);
  });
  after(async () => {
    await consumer.stop(1_000);
    await t.close();
  });

  async function account() {
    const phone = uniquePhone();
    const res = await register(t, { phone, password: PASSWORD });
    assert.equal(res.statusCode, 201, res.body);
    return { phone, id: res.json().user.id as number, cookie: sessionCookie(res) };
  }
  const change = (cookie: string, payload: object) => t.app.inject({ method: 'POST', url: '/api/auth/phone', headers: { cookie }, payload });
  const me = (cookie: string) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });

  it('with the code sent to the new number and the current password: the account signs in with the new number only; other devices are signed out', async () => {
    const { phone, id, cookie } = await account();
    const otherDevice = sessionCookie(await login(t, phone, PASSWORD));
    const newPhone = uniquePhone();
    const code = await smsCode(t, newPhone, 'change_phone', { cookie });

    const changed = await change(cookie, { new_phone: newPhone, code, current_password: PASSWORD });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(changed.json().user.phone, `+86${newPhone}`);
    assert.equal(changed.json().user.id, id);
    assert.equal((await me(cookie)).json().user.phone, `+86${newPhone}`, 'this session goes on');
    assert.equal((await me(otherDevice)).statusCode, 401, 'the other device is signed out');
    assert.equal((await login(t, phone, PASSWORD)).statusCode, 401, 'the old number no longer signs in');
    assert.equal((await login(t, newPhone, PASSWORD)).statusCode, 200);
    assert.equal((await register(t, { phone })).statusCode, 201, 'the old number is free for someone else');

    const again = await change(cookie, { new_phone: uniquePhone(), code, current_password: PASSWORD });
    assert.equal(again.json().error.code, 'INVALID_SMS_CODE', 'a code is used once');
    const events = await t.database.db.selectFrom('audit_events').select('detail').where('event', '=', 'phone.changed').where('target', '=', `user:${id}`).execute();
    assert.equal(events.length, 1);
    assert.doesNotMatch(String(events[0]!.detail), new RegExp(newPhone), 'numbers are masked in the audit log');
  });

  it('a wrong password keeps the code usable; a wrong code changes nothing; the same number is refused', async () => {
    const { phone, cookie } = await account();
    const newPhone = uniquePhone();
    const code = await smsCode(t, newPhone, 'change_phone', { cookie });
    const wrongPassword = await change(cookie, { new_phone: newPhone, code, current_password: 'not my password' });
    assert.equal(wrongPassword.statusCode, 401);
    assert.equal(wrongPassword.json().error.field, 'body.current_password');
    const wrongCode = await change(cookie, { new_phone: newPhone, code: code === '000000' ? '111111' : '000000', current_password: PASSWORD });
    assert.equal(wrongCode.statusCode, 401);
    assert.equal(wrongCode.json().error.code, 'INVALID_SMS_CODE');
    const same = await change(cookie, { new_phone: phone, code, current_password: PASSWORD });
    assert.equal(same.statusCode, 400);
    assert.equal(same.json().error.field, 'body.new_phone');
    const right = await change(cookie, { new_phone: newPhone, code, current_password: PASSWORD });
    assert.equal(right.statusCode, 200, 'the code survived the wrong password and a wrong guess');
  });

  it('a number that has an account receives no code; one registered after its code was sent is PHONE_TAKEN', async () => {
    const { cookie } = await account();
    const taken = (await account()).phone;
    const send = (headers: Record<string, string>) =>
      newCaptcha(t.app, 'sms').then((captcha_id) => t.app.inject({ method: 'POST', url: '/api/auth/sms/send', headers, payload: { phone: taken, purpose: 'change_phone', captcha_id, captcha: TEST_CAPTCHA } }));
    const anonymous = await send({});
    assert.equal(anonymous.statusCode, 401, 'a new number is sent a code only for a signed-in account');
    assert.equal(anonymous.json().error.code, 'UNAUTHENTICATED');
    const sent = await send({ cookie });
    assert.equal(sent.statusCode, 202, 'the same answer as for a free number');
    const task = await settledDelivery(t, `+86${taken}`);
    assert.deepEqual(task.result, { sent: 'nothing' }, 'but no code was sent');

    const racing = uniquePhone();
    const code = await smsCode(t, racing, 'change_phone', { cookie });
    assert.equal((await register(t, { phone: racing })).statusCode, 201);
    const lost = await change(cookie, { new_phone: racing, code, current_password: PASSWORD });
    assert.equal(lost.statusCode, 409);
    assert.equal(lost.json().error.code, 'PHONE_TAKEN');
  });

  it("an administrator corrects a user's phone number: the user signs in with it and stays signed in; a taken number is 409", async () => {
    const admin = await adminSession(t);
    const { id, cookie } = await account();
    const corrected = uniquePhone();
    const patch = (payload: object) => t.app.inject({ method: 'PATCH', url: `/api/admin/users/${id}`, headers: { cookie: admin.cookie }, payload });
    const res = await patch({ phone: corrected });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().user.phone, `+86${corrected}`);
    assert.equal((await me(cookie)).statusCode, 200, 'a correction does not sign the user out');
    assert.equal((await login(t, corrected, PASSWORD)).statusCode, 200);
    assert.equal((await patch({ phone: admin.phone })).json().error.code, 'PHONE_TAKEN');
    assert.equal((await patch({ phone: '12345' })).json().error.code, 'INVALID_PHONE');
    const [event] = await t.database.db.selectFrom('audit_events').select('detail').where('event', '=', 'admin.user_changed').where('target', '=', `user:${id}`).execute();
    assert.doesNotMatch(String(event!.detail), new RegExp(corrected));
  });
});
