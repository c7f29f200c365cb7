// The captcha: a picture with a button for a new one, and a link to the accessible alternative
// (an SMS code) beside it.
import { api, type ApiResult } from './api.js';
import { t } from './i18n.js';
import { el, field, type Field } from './ui.js';

export interface CaptchaWidget {
  field: Field;
  node: HTMLElement;
  refresh(): Promise<void>;
  /**
   * POSTs `body` with this captcha's id and answer. A captcha is single-use, right or wrong, so a new
   * one is shown once the answer is in — after a success too, unless the page is about to leave; but
   * not after 503 OVERLOADED, which leaves the captcha unused.
   */
  send<T = unknown>(path: string, body: Record<string, unknown>, options?: { newOnSuccess?: boolean }): Promise<ApiResult<T>>;
}

export function captchaWidget(purpose: 'login' | 'register' | 'sms', withAlternative: boolean, name = 'captcha'): CaptchaWidget {
  const input = field(name, 'field.captcha', { autocomplete: 'off', required: '', maxlength: '8', autocapitalize: 'characters', spellcheck: 'false' });
  const image = el('img', { alt: t('captcha.alt'), width: '120', height: '40', class: 'captcha-image' });
  const refreshButton = el('button', { type: 'button', class: 'link' }, t('captcha.refresh'));
  let captchaId = '';
  async function refresh() {
    const res = await api<{ captcha_id: string; captcha_image: string }>('GET', `/api/auth/captcha/generate?purpose=${purpose}`);
    if (res.ok) {
      captchaId = res.data.captcha_id;
      image.src = res.data.captcha_image;
    }
    input.input.value = '';
  }
  async function send<T>(path: string, body: Record<string, unknown>, options: { newOnSuccess?: boolean } = {}): Promise<ApiResult<T>> {
    const res = await api<T>('POST', path, { ...body, captcha_id: captchaId, captcha: input.input.value.trim() });
    // Refused for overload (after the retries): the captcha was not used and stays, answer and all.
    const unused = !res.ok && res.error.code === 'OVERLOADED';
    if (!unused && (!res.ok || options.newOnSuccess !== false)) await refresh();
    return res;
  }
  refreshButton.addEventListener('click', () => void refresh());
  const row = el('div', { class: 'captcha-row' }, image, refreshButton);
  input.row.insertBefore(row, input.input);
  if (withAlternative) input.row.append(el('p', { class: 'hint' }, el('a', { href: '/login/sms' }, t('captcha.alternative'))));
  void refresh();
  return { field: input, node: input.row, refresh, send };
}
