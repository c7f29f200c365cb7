// Small DOM helpers shared by the pages: the page frame, labelled form fields with their own error
// text, and turning an API error into words next to the field it concerns.
import { api, serverBusy, type ApiError } from './api.js';
import { duration, hasMessage, lang, switchLang, t, tn, type MessageKey } from './i18n.js';
import { DEFAULT_RETURN_TO, returnToFrom } from './return-to.js';
import { signedInUser, type SignedInUser } from './session.js';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<Record<string, string>> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) if (value !== undefined) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * The page frame: the header (the site's banner, before the main region) with the navigation —
 * who is signed in, their account, the console for administrators and "Log out"; or, signed out,
 * the ways in — and the language switch; then the page's own card in the main region.
 */
export function frame(titleKey: MessageKey): HTMLElement {
  document.title = `${t(titleKey)} · ${t('app.name')}`;
  const app = document.getElementById('app')!;
  const nav = el('nav', { 'aria-label': t('nav.label') });
  const langButton = el('button', { type: 'button', class: 'lang' }, t('lang.switch'));
  langButton.addEventListener('click', switchLang);
  const header = el('header', {}, el('span', { class: 'brand' }, t('app.name')), nav, langButton);
  document.body.prepend(header);
  void signedInUser().then((user) => nav.replaceChildren(...(user ? signedInNav(user) : signedOutNav())));
  // While the server is too busy to take a request, say so: the request goes again by itself.
  const busy = el('p', { class: 'busy', role: 'status', 'aria-live': 'polite' });
  serverBusy.addEventListener('wait', (event) => (busy.textContent = t('busy.retrying', { t: duration((event as CustomEvent<number>).detail) })));
  serverBusy.addEventListener('done', () => (busy.textContent = ''));
  const section = el('section', { class: 'card' }, el('h1', {}, t(titleKey)), busy);
  app.replaceChildren(section);
  return section;
}

function navLink(href: string, key: MessageKey): HTMLAnchorElement {
  const link = el('a', { href }, t(key));
  if (location.pathname === new URL(href, location.href).pathname) link.setAttribute('aria-current', 'page');
  return link;
}

function signedInNav(user: SignedInUser): Node[] {
  const logout = el('button', { type: 'button', class: 'link logout' }, t('nav.logout'));
  logout.addEventListener('click', async () => {
    await api('POST', '/api/auth/logout');
    location.assign('/login');
  });
  return [
    el('span', { class: 'who' }, t('nav.signed_in_as', { name: user.name })),
    navLink('/account', 'nav.account'),
    ...(user.role === 'admin' || user.role === 'org_admin' ? [navLink('/admin', 'nav.admin')] : []),
    logout,
  ];
}

function signedOutNav(): Node[] {
  // From one way in to another, the page the visitor was going to goes along.
  const destination = returnToFrom(location.search);
  const along = (path: string) => (destination === DEFAULT_RETURN_TO ? path : `${path}?${new URLSearchParams({ return_to: destination })}`);
  return [navLink(along('/login'), 'nav.login'), navLink(along('/register'), 'nav.register'), navLink(along('/login/sms'), 'nav.sms'), navLink('/reset-password', 'nav.reset')];
}

export interface Field {
  input: HTMLInputElement;
  error: HTMLElement;
  row: HTMLElement;
}

export function field(name: string, labelKey: MessageKey, attrs: Record<string, string> = {}): Field {
  const id = `f-${name}`;
  const input = el('input', { id, name, 'aria-describedby': `${id}-error`, ...attrs });
  const error = el('p', { id: `${id}-error`, class: 'field-error' });
  const row = el('div', { class: 'field' }, el('label', { for: id }, t(labelKey)), input, error);
  return { input, error, row };
}

export function clearErrors(form: HTMLElement): void {
  for (const e of form.querySelectorAll<HTMLElement>('.field-error, .form-error')) e.textContent = '';
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

export function setFieldError(f: Field, text: string): void {
  f.error.textContent = text;
  f.input.setAttribute('aria-invalid', 'true');
  f.input.focus();
}

/** Where each error code belongs: next to a field, or above the form. */
const FIELD_OF: Record<string, string> = {
  INVALID_PHONE: 'phone',
  PHONE_TAKEN: 'phone',
  WEAK_PASSWORD: 'password',
  INVALID_NAME: 'name',
  CAPTCHA_INVALID: 'captcha',
  CAPTCHA_EXPIRED: 'captcha',
  INVALID_INVITATION_CODE: 'invitation_code',
  INVITATION_CODE_REQUIRED: 'invitation_code',
  INVITATION_EXPIRED: 'invitation_code',
  INVITATION_EXHAUSTED: 'invitation_code',
  INVALID_CREDENTIALS: 'password',
  INVALID_SMS_CODE: 'code',
  SMS_CODE_REQUIRED: 'sms_code',
};

export function errorText(error: ApiError): string {
  if (error.code === 'NETWORK') return t('error.network');
  if (error.code === 'INVALID_CREDENTIALS' && typeof error.details.attempts_left === 'number') {
    const key = error.details.field === 'body.current_password' ? 'error.current_password_wrong' : error.details.field === 'body.code' ? 'error.two_factor_code_wrong' : 'error.attempts_left';
    return tn(key, error.details.attempts_left);
  }
  // Turning two-factor sign-in off: the codes tried are counted too.
  if (error.code === 'INVALID_TWO_FACTOR_CODE' && typeof error.details.attempts_left === 'number') return tn('error.two_factor_code_wrong', error.details.attempts_left);
  if (error.code === 'ACCOUNT_LOCKED') return t('error.locked', { t: duration(error.retryAfter ?? 60) });
  if (error.code === 'RATE_LIMITED') {
    // A limit on the whole network (a school's shared address) is the organizer's to lift.
    const key = error.details.scope === 'address' ? 'error.rate_limited_network' : error.details.limit === 'two_factor_disable' ? 'error.two_factor_disable_limited' : 'error.rate_limited';
    return t(key, { t: duration(error.retryAfter ?? 60) });
  }
  const key = `code.${error.code}`;
  if (!hasMessage(key)) return error.message;
  // The server's message says what exactly is wrong with the file or payload (in English).
  return DETAILED_BY_SERVER.has(error.code) ? `${t(key)}${lang === 'en' ? ': ' : '：'}${error.message}` : t(key);
}

/** Codes whose server message names the particular problem (a roster's missing column, a payload's field). */
const DETAILED_BY_SERVER = new Set(['INVALID_ROSTER', 'INVALID_TASK_PAYLOAD']);

/** Shows an API error next to its field (by code, or by the `field` the server named), else above the form. */
export function showError(error: ApiError, fields: Record<string, Field>, formError: HTMLElement): void {
  const named = typeof error.details.field === 'string' ? error.details.field.replace(/^body\./, '') : undefined;
  // The field the server named wins over the code's usual one (a wrong *current* password is not the new one).
  const target = (named ? fields[named] : undefined) ?? fields[FIELD_OF[error.code] ?? ''];
  if (target) setFieldError(target, errorText(error));
  else formError.textContent = errorText(error);
}

export function formError(): HTMLElement {
  return el('p', { class: 'form-error', role: 'alert' });
}

export function submitButton(key: MessageKey): HTMLButtonElement {
  return el('button', { type: 'submit', class: 'primary' }, t(key));
}
