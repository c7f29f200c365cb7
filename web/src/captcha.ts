// The captcha, of the kind the server takes (CAPTCHA_MODE): a picture with a button for a new one, or a
// proof of work that the browser solves by itself while the visitor fills in the form; with either, the
// visitor chooses (the choice is remembered). Beside it, a link to the accessible alternative (an SMS code).
import { api, type ApiResult } from './api.js';
import { t } from './i18n.js';
import { captchaMode, fetchChallenge, solvePow, type PowPurpose } from './pow.js';
import { el, field, type Field } from './ui.js';

export interface CaptchaWidget {
  field: Field;
  node: HTMLElement;
  refresh(): Promise<void>;
  /**
   * POSTs `body` with this captcha: the picture's id and answer, or the solved proof of work. A captcha is
   * single-use, right or wrong, so a new one is prepared once the answer is in — after a success too,
   * unless the page is about to leave; but not after 503 OVERLOADED, which leaves the captcha unused.
   */
  send<T = unknown>(path: string, body: Record<string, unknown>, options?: { newOnSuccess?: boolean }): Promise<ApiResult<T>>;
}

type Kind = 'image' | 'pow';
const KIND_KEY = 'gatehouse.captcha';

function rememberedKind(): Kind {
  try {
    return localStorage.getItem(KIND_KEY) === 'pow' ? 'pow' : 'image';
  } catch {
    return 'image';
  }
}

function rememberKind(kind: Kind): void {
  try {
    localStorage.setItem(KIND_KEY, kind);
  } catch {
    // Storage refused (private mode): the choice holds for this page only.
  }
}

export function captchaWidget(purpose: PowPurpose, withAlternative: boolean, name = 'captcha'): CaptchaWidget {
  const input = field(name, 'field.captcha', { autocomplete: 'off', required: '', maxlength: '8', autocapitalize: 'characters', spellcheck: 'false' });
  const label = input.row.querySelector('label')!;
  const image = el('img', { alt: t('captcha.alt'), width: '120', height: '40', class: 'captcha-image' });
  const refreshButton = el('button', { type: 'button', class: 'link' }, t('captcha.refresh'));
  const imageRow = el('div', { class: 'captcha-row' }, image, refreshButton);
  // Announced politely (aria-live) without the status role, which the SMS sender's countdown beside it has.
  const powStatus = el('p', { class: 'pow-status', 'aria-live': 'polite', hidden: '' });
  const switchButton = el('button', { type: 'button', class: 'link captcha-switch', hidden: '' });
  let kind: Kind = 'image';
  let captchaId = '';
  /** The proof of work being solved (or solved) for the next request. */
  let pending: Promise<string | null> | null = null;
  let solving: AbortController | null = null;

  async function refreshImage() {
    const res = await api<{ captcha_id: string; captcha_image: string }>('GET', `/api/auth/captcha/generate?purpose=${purpose}`);
    if (res.ok) {
      captchaId = res.data.captcha_id;
      image.src = res.data.captcha_image;
    }
    input.input.value = '';
  }

  /** Starts solving a new challenge (for `phone`, when the server asks for one as hard as its use). */
  function startPow(phone?: string): Promise<string | null> {
    solving?.abort();
    const controller = new AbortController();
    solving = controller;
    powStatus.textContent = t('captcha.pow_working');
    powStatus.dataset.state = 'working';
    const solved = (async () => {
      const challenge = await fetchChallenge(purpose, phone);
      const payload = challenge ? await solvePow(challenge, controller).catch(() => null) : null;
      if (solving === controller) {
        powStatus.textContent = t(payload ? 'captcha.pow_done' : 'captcha.pow_failed');
        powStatus.dataset.state = payload ? 'done' : 'failed';
      }
      return payload;
    })();
    pending = solved;
    return solved;
  }

  async function refresh() {
    if (kind === 'pow') await startPow();
    else await refreshImage();
  }

  function show(next: Kind) {
    kind = next;
    const pow = next === 'pow';
    label.hidden = pow;
    input.input.hidden = pow;
    imageRow.hidden = pow;
    powStatus.hidden = !pow;
    // A hidden field must not block the form's own checks.
    if (pow) input.input.removeAttribute('required');
    else input.input.setAttribute('required', '');
    switchButton.textContent = t(pow ? 'captcha.use_image' : 'captcha.use_pow');
    if (pow && !pending && visible) void startPow();
    if (!pow && !captchaId) void refreshImage();
  }

  async function postWithPow<T>(path: string, body: Record<string, unknown>): Promise<ApiResult<T>> {
    let payload = await (pending ?? startPow());
    // A solve that failed (the network, a timeout) is tried once more before the request goes.
    if (!payload) payload = await startPow();
    pending = null;
    let res = await api<T>('POST', path, { ...body, altcha: payload ?? '' });
    // Refused for overload (after the retries): the solution was not used and serves the next attempt.
    if (!res.ok && res.error.code === 'OVERLOADED' && payload) pending = Promise.resolve(payload);
    // The server wants a harder challenge for this phone number, or this one expired while the form was
    // being filled in: solve a new one (as hard as the number's use calls for) and send once more.
    if (!res.ok && (res.error.code === 'CAPTCHA_TOO_EASY' || res.error.code === 'CAPTCHA_EXPIRED')) {
      const phone = typeof body.phone === 'string' && body.phone ? body.phone : undefined;
      const again = await startPow(phone);
      pending = null;
      if (again) res = await api<T>('POST', path, { ...body, altcha: again });
    }
    if (!res.ok && (res.error.code === 'CAPTCHA_INVALID' || res.error.code === 'CAPTCHA_EXPIRED' || res.error.code === 'CAPTCHA_TOO_EASY')) {
      // The picture's words do not fit: say the check in the browser did not pass.
      return { ok: false, error: { ...res.error, code: 'POW_FAILED' } };
    }
    return res;
  }

  async function send<T>(path: string, body: Record<string, unknown>, options: { newOnSuccess?: boolean } = {}): Promise<ApiResult<T>> {
    const res = kind === 'pow' ? await postWithPow<T>(path, body) : await api<T>('POST', path, { ...body, captcha_id: captchaId, captcha: input.input.value.trim() });
    // Refused for overload (after the retries): the captcha was not used and stays, answer and all.
    const unused = !res.ok && res.error.code === 'OVERLOADED';
    if (!unused && (!res.ok || options.newOnSuccess !== false)) {
      // The next proof of work is solved in the background while the visitor reads the answer.
      if (kind === 'pow') void startPow();
      else await refreshImage();
    }
    return res;
  }

  refreshButton.addEventListener('click', () => void refreshImage());
  switchButton.addEventListener('click', () => {
    const next: Kind = kind === 'pow' ? 'image' : 'pow';
    rememberKind(next);
    show(next);
  });
  input.row.insertBefore(imageRow, input.input);
  input.row.insertBefore(powStatus, input.error);
  input.row.append(switchButton);
  if (withAlternative) input.row.append(el('p', { class: 'hint' }, el('a', { href: '/login/sms' }, t('captcha.alternative'))));
  // A widget out of sight (registration's SMS step until it is needed) spends no CPU and asks for no
  // challenge: the solving starts once it is shown.
  let visible = false;
  new IntersectionObserver((entries) => {
    visible = entries.some((entry) => entry.isIntersecting);
    if (visible && kind === 'pow' && !pending) void startPow();
  }).observe(input.row);
  imageRow.hidden = true;
  void captchaMode().then((mode) => {
    switchButton.hidden = mode !== 'either';
    show(mode === 'either' ? rememberedKind() : mode);
  });
  return { field: input, node: input.row, refresh, send };
}
