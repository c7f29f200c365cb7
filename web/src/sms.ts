// The "send me a code" control shared by SMS login, password reset, the phone change, registration
// into an organization that checks phone numbers and proving one's phone after signing in with a
// provider: a captcha (purpose sms), then a button that counts down until another code may be asked for.
import { captchaWidget } from './captcha.js';
import { t, tn } from './i18n.js';
import { el, showError, type Field } from './ui.js';

/**
 * `captchaName` tells this captcha's field apart from another captcha on the same page (registration's
 * own); `extra` adds fields to the request (registration's invitation code, which a register code needs).
 */
export function smsSender(purpose: 'register' | 'login' | 'reset_password' | 'change_phone' | 'link_identity', phone: Field, problem: HTMLElement, captchaName = 'captcha', extra: () => Record<string, string> = () => ({})) {
  // Proving a phone for a provider's sign-in sends a code whether or not the number has an account.
  const sent = purpose === 'link_identity' ? 'sms.sent_any' : 'sms.sent';
  const captcha = captchaWidget('sms', false, captchaName);
  const button = el('button', { type: 'button', class: 'secondary send-code' }, t('sms.send'));
  const status = el('p', { class: 'hint', role: 'status' });
  button.addEventListener('click', async () => {
    problem.textContent = '';
    const res = await captcha.send<{ resend_after: number }>('/api/auth/sms/send', { phone: phone.input.value.trim(), purpose, ...extra() });
    if (!res.ok) return showError(res.error, { phone, captcha: captcha.field }, problem);
    let left = res.data.resend_after;
    status.textContent = tn(sent, left);
    button.disabled = true;
    const timer = setInterval(() => {
      left -= 1;
      status.textContent = tn(sent, left);
      if (left <= 0) {
        clearInterval(timer);
        button.disabled = false;
      }
    }, 1000);
  });
  return { node: el('div', { class: 'sms-sender' }, captcha.node, button, status) };
}
