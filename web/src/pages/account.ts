import { api } from '../api.js';
import { dateTime, lang, t, timeAgo } from '../i18n.js';
import { DEFAULT_RETURN_TO, returnToFrom, signInPath } from '../return-to.js';
import { avatar, failureText, labelAmong, namedInUrl, offeredProviders, takeFromUrl, usableHere, type OfferedProvider } from '../providers.js';
import { scopeLines } from '../scopes.js';
import { signedInUser, type SignedInUser } from '../session.js';
import { smsSender } from '../sms.js';
import { withReauth } from '../reauth.js';
import { passkeysSection } from '../passkeys.js';
import { secondFactorField } from '../two-factor.js';
import { clearErrors, el, errorText, field, formError, frame, showError, submitButton } from '../ui.js';

interface Session {
  id: number;
  current: boolean;
  last_seen_at: string;
  ip: string | null;
  user_agent: string | null;
}

/** An app the user allowed to use their account (single sign-on): what it may access, and since when. */
interface ConnectedApp {
  client_id: string;
  name: string;
  scopes: string[];
  /** Milliseconds since the epoch. */
  granted_at: number;
}

/** An account at a provider (WeChat, WeCom, …) linked to this one: it signs in here. */
interface LinkedIdentity {
  id: number;
  provider: string;
  display_name: string | null;
  avatar_url: string | null;
  created_at: string;
  last_sign_in_at: string | null;
}

const section = frame('account.title');

/** "Chrome · Windows" from a User-Agent string: enough to recognize one's own devices. */
function device(userAgent: string | null): string {
  if (!userAgent) return '?';
  const browser = [['MicroMessenger', 'WeChat'], ['Edg/', 'Edge'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Safari/', 'Safari']].find(([needle]) => userAgent.includes(needle!))?.[1] ?? 'Browser';
  const os = [['Android', 'Android'], ['iPhone', 'iOS'], ['iPad', 'iPadOS'], ['Windows', 'Windows'], ['Mac OS X', 'macOS'], ['Linux', 'Linux']].find(([needle]) => userAgent.includes(needle!))?.[1] ?? '';
  return os ? `${browser} · ${os}` : browser!;
}

async function render(): Promise<void> {
  const user = await signedInUser();
  if (!user) return location.assign(signInPath(location.pathname + location.search + location.hash));
  const phoneShown = el('dd', {}, user.phone);
  const profile = el(
    'section',
    { 'aria-labelledby': 'profile-h' },
    el('h2', { id: 'profile-h' }, t('account.profile')),
    el('dl', {}, el('dt', {}, t('field.name')), el('dd', {}, user.name), el('dt', {}, t('field.phone')), phoneShown),
    el('p', {}, el('a', { href: '/api/auth/account/data', class: 'data-download', download: '' }, t('account.data'))),
  );

  const apps = connectedApps();
  const list = el('ul', { class: 'sessions' });
  const sessions = await api<{ sessions: Session[] }>('GET', '/api/auth/sessions');
  for (const s of sessions.ok ? sessions.data.sessions : []) {
    const item = el('li', {}, el('span', {}, `${device(s.user_agent)} · ${s.ip ?? ''} · ${t('account.last_seen')} ${timeAgo(s.last_seen_at)}${s.current ? ` (${t('account.current')})` : ''}`));
    if (!s.current) {
      const revoke = el('button', { type: 'button', class: 'secondary' }, t('account.revoke'));
      revoke.addEventListener('click', async () => {
        const res = await api('DELETE', `/api/auth/sessions/${s.id}`);
        if (res.ok) item.remove();
      });
      item.append(revoke);
    }
    list.append(item);
  }
  const devices = el('section', { 'aria-labelledby': 'sessions-h' }, el('h2', { id: 'sessions-h' }, t('account.sessions')), list);
  if (list.children.length > 1) {
    const everywhere = el('button', { type: 'button', class: 'secondary revoke-others' }, t('account.revoke_others'));
    everywhere.addEventListener('click', async () => {
      const res = await api('DELETE', '/api/auth/sessions');
      if (!res.ok) return;
      for (const item of [...list.children]) if (item.querySelector('button')) item.remove();
      everywhere.remove();
    });
    devices.append(everywhere);
  }

  const current = field('current_password', 'field.current_password', { type: 'password', autocomplete: 'current-password' });
  const next = field('password', 'field.new_password', { type: 'password', autocomplete: 'new-password', minlength: '8', required: '' });
  const problem = formError();
  const done = el('p', { class: 'success', role: 'status' });
  const form = el('form', { novalidate: '' }, problem, done, current.row, next.row, submitButton('account.password.submit'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    done.textContent = '';
    const res = await api('POST', '/api/auth/password', { ...(current.input.value ? { current_password: current.input.value } : {}), new_password: next.input.value });
    if (!res.ok) return showError(res.error, { current_password: current, password: next, code: current }, problem);
    done.textContent = t('account.password.done');
    form.reset();
    current.row.hidden = false;
    form.querySelector('.needs-password')?.remove();
  });
  const password = el('section', { 'aria-labelledby': 'password-h' }, el('h2', { id: 'password-h' }, t('account.password')), form);
  // No password to prove: the form asks for the new one only, and says why it is needed.
  if (!user.password_set) {
    current.row.hidden = true;
    form.prepend(el('p', { class: 'hint needs-password', role: 'status' }, t('account.password.needed')));
  }

  section.append(profile, devices, apps, signInAccounts(), passkeysSection(), password, twoFactor(user.two_factor_enabled), phoneChange((phone) => (phoneShown.textContent = phone)));
  // An administrator's account is deleted by another administrator (the server refuses it too).
  if (user.role !== 'admin') section.append(deletion());
}

/**
 * The apps connected through single sign-on, each with a button that withdraws its access (the
 * consent and every token it holds): asked once more, then the list is drawn again from the server.
 */
function connectedApps(): HTMLElement {
  const heading = el('h2', { id: 'apps-h', tabindex: '-1' }, t('account.apps'));
  const problem = formError();
  const done = el('p', { class: 'success', role: 'status' });
  const list = el('div', { class: 'apps' });
  const block = el('section', { 'aria-labelledby': 'apps-h' }, heading, el('p', { class: 'hint' }, t('account.apps.explain')), problem, done, list);

  async function draw(): Promise<void> {
    const res = await api<{ apps: ConnectedApp[] }>('GET', '/api/account/connected-apps');
    if (!res.ok) {
      problem.textContent = errorText(res.error);
      return list.replaceChildren();
    }
    if (res.data.apps.length === 0) return list.replaceChildren(el('p', { class: 'hint apps-none' }, t('account.apps.none')));
    list.replaceChildren(el('ul', {}, ...res.data.apps.map(item)));
  }

  function item(app: ConnectedApp, index: number): HTMLElement {
    const id = `app-${index}`;
    const disconnect = el('button', { type: 'button', class: 'secondary', 'aria-describedby': `${id}-h` }, t('account.apps.disconnect'));
    disconnect.addEventListener('click', async () => {
      problem.textContent = done.textContent = '';
      if (!confirm(t('account.apps.confirm', { app: app.name }))) return;
      disconnect.disabled = true;
      const res = await api('DELETE', `/api/account/connected-apps/${encodeURIComponent(app.client_id)}`);
      if (!res.ok) {
        disconnect.disabled = false;
        problem.textContent = errorText(res.error);
        return disconnect.focus();
      }
      done.textContent = t('account.apps.disconnected', { app: app.name });
      await draw();
      // The button is gone with its app: the keyboard starts again from the section's heading.
      heading.focus();
    });
    const lines = scopeLines(app.scopes, lang);
    return el(
      'li',
      {},
      el('h3', { id: `${id}-h` }, app.name),
      ...(lines.length ? [el('p', { class: 'hint' }, t('account.apps.access')), el('ul', { class: 'scopes' }, ...lines.map((line) => el('li', {}, line)))] : []),
      el('p', { class: 'hint' }, t('account.apps.granted', { date: dateTime(new Date(app.granted_at).toISOString()) })),
      disconnect,
    );
  }

  void draw();
  return block;
}

/**
 * The accounts at providers that sign in here: each with a button that unlinks it, then a button per
 * enabled provider not linked yet. Linking leaves for the provider (after confirming it is still you)
 * and comes back with ?linked=NAME or ?link_error=CODE&provider=NAME, told here.
 */
function signInAccounts(): HTMLElement {
  const heading = el('h2', { id: 'sign-in-accounts-h', tabindex: '-1' }, t('account.identities'));
  const problem = formError();
  const done = el('p', { class: 'success', role: 'status' });
  const list = el('div', { class: 'identities' });
  const links = el('div', { class: 'link-providers' });
  const block = el('section', { id: 'sign-in-accounts', 'aria-labelledby': 'sign-in-accounts-h' }, heading, el('p', { class: 'hint' }, t('account.identities.explain')), problem, done, list, links);
  const back = takeFromUrl('linked', 'link_error', 'provider');
  let offered: OfferedProvider[] = [];

  async function draw(): Promise<void> {
    const [res, enabled] = await Promise.all([api<{ identities: LinkedIdentity[] }>('GET', '/api/account/identities'), offeredProviders()]);
    offered = enabled;
    if (!res.ok) {
      problem.textContent = errorText(res.error);
      list.replaceChildren();
      return links.replaceChildren();
    }
    const linked = res.data.identities;
    list.replaceChildren(linked.length ? el('ul', {}, ...linked.map(item)) : el('p', { class: 'hint identities-none' }, t('account.identities.none')));
    const linkable = usableHere(offered, navigator.userAgent).filter((p) => !linked.some((i) => i.provider === p.name));
    links.replaceChildren(...(linkable.length ? [el('h3', {}, t('account.identities.add')), el('div', { class: 'link-buttons' }, ...linkable.map(linkButton))] : []));
  }

  function item(identity: LinkedIdentity): HTMLElement {
    const provider = labelAmong(identity.provider, offered);
    const id = `identity-${identity.id}`;
    const picture = avatar(identity.avatar_url, t('account.identities.avatar', { provider }));
    const unlink = el('button', { type: 'button', class: 'secondary', 'aria-describedby': `${id}-h` }, t('account.identities.unlink'));
    unlink.addEventListener('click', async () => {
      problem.textContent = done.textContent = '';
      if (!confirm(t('account.identities.confirm', { provider }))) return;
      unlink.disabled = true;
      const res = await api('DELETE', `/api/account/identities/${identity.id}`);
      if (!res.ok) {
        unlink.disabled = false;
        // LAST_SIGN_IN_METHOD says what to do first: set a password, or link another account.
        problem.textContent = errorText(res.error);
        return unlink.focus();
      }
      done.textContent = t('account.identities.unlinked', { provider });
      await draw();
      // The button is gone with its account: the keyboard starts again from the section's heading.
      heading.focus();
    });
    const used = identity.last_sign_in_at ? t('account.identities.last', { when: timeAgo(identity.last_sign_in_at) }) : t('account.identities.never');
    return el(
      'li',
      {},
      ...(picture ? [picture] : []),
      el(
        'div',
        { class: 'identity-text' },
        el('h3', { id: `${id}-h` }, provider),
        ...(identity.display_name ? [el('p', {}, identity.display_name)] : []),
        el('p', { class: 'hint' }, `${t('account.identities.since', { date: dateTime(identity.created_at) })} · ${used}`),
      ),
      unlink,
    );
  }

  function linkButton(provider: OfferedProvider): HTMLElement {
    const button = el('button', { type: 'button', class: 'secondary' }, t('account.identities.link', { provider: labelAmong(provider.name, offered) }));
    button.addEventListener('click', async () => {
      problem.textContent = done.textContent = '';
      button.disabled = true;
      const res = await withReauth(() => api<{ authorize_url: string }>('POST', `/api/account/identities/${encodeURIComponent(provider.name)}/link`, { return_to: '/account' }));
      if (res.ok) return location.assign(res.data.authorize_url);
      button.disabled = false;
      problem.textContent = errorText(res.error);
      button.focus();
    });
    return button;
  }

  void draw().then(() => {
    const linked = namedInUrl(back.linked, offered);
    if (linked) done.textContent = t('account.identities.linked', { provider: linked });
    else if (back.link_error) problem.textContent = failureText(back.link_error, namedInUrl(back.provider, offered));
    else return;
    // Back from the provider: the news is down the page, where the keyboard and the eye go too.
    heading.focus();
  });
  return block;
}

/**
 * Two-factor sign-in: turned on in three steps (the current password; the QR code and a first code
 * from the app; the recovery codes, shown once), turned off with the password and a code.
 */
function twoFactor(enabled: boolean): HTMLElement {
  const heading = el('h2', { id: 'two-factor-h' }, t('account.two_factor'));
  const block = el('section', { 'aria-labelledby': 'two-factor-h', class: 'two-factor' });
  const show = (...content: HTMLElement[]) => block.replaceChildren(heading, ...content);

  function off(): void {
    const current = field('2fa-password', 'field.current_password', { type: 'password', autocomplete: 'current-password' });
    const problem = formError();
    const form = el('form', { novalidate: '' }, el('p', { class: 'hint' }, t('account.two_factor.off')), problem, current.row, submitButton('account.two_factor.start'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      const res = await api<{ secret: string; qr_svg: string }>('POST', '/api/auth/2fa/setup', current.input.value ? { current_password: current.input.value } : {});
      if (!res.ok) return showError(res.error, { current_password: current }, problem);
      scan(res.data.secret, res.data.qr_svg);
    });
    show(form);
  }

  function scan(secret: string, qrSvg: string): void {
    const qr = el('img', { class: 'two-factor-qr', alt: t('account.two_factor.qr_alt'), width: '180', height: '180', src: `data:image/svg+xml;base64,${btoa(qrSvg)}` });
    // In groups of four, as authenticator apps show keys: easier to type without a slip.
    const key = el('code', { class: 'two-factor-key' }, secret.replace(/(.{4})/g, '$1 ').trim());
    const code = field('2fa-code', 'account.two_factor.code', { required: '', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6' });
    const problem = formError();
    const form = el('form', { novalidate: '' }, el('p', {}, t('account.two_factor.scan')), qr, el('p', { class: 'hint' }, t('account.two_factor.manual'), ' ', key), problem, code.row, submitButton('account.two_factor.confirm'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      const res = await api<{ recovery_codes: string[] }>('POST', '/api/auth/2fa/enable', { code: code.input.value.trim() });
      if (!res.ok) return showError(res.error, { code }, problem);
      recovery(res.data.recovery_codes);
    });
    show(form);
    code.input.focus();
  }

  function recovery(codes: string[]): void {
    const saved = el('button', { type: 'button', class: 'primary' }, t('account.two_factor.saved'));
    // An administrator sent here by the console goes back to it: this session has passed the second factor.
    const back = returnToFrom(location.search);
    saved.addEventListener('click', () => (back === DEFAULT_RETURN_TO ? on() : location.assign(back)));
    show(el('p', { class: 'success', role: 'status' }, t('account.two_factor.recovery')), el('ol', { class: 'recovery-codes' }, ...codes.map((c) => el('li', {}, el('code', {}, c)))), saved);
  }

  function on(): void {
    const current = field('2fa-off-password', 'field.current_password', { type: 'password', autocomplete: 'current-password' });
    const code = secondFactorField('2fa-off-code');
    const problem = formError();
    const form = el('form', { novalidate: '' }, el('p', { class: 'hint' }, t('account.two_factor.on')), problem, current.row, code.row, el('button', { type: 'submit', class: 'secondary' }, t('account.two_factor.stop')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      const res = await withReauth(() => api('POST', '/api/auth/2fa/disable', { ...(current.input.value ? { current_password: current.input.value } : {}), code: code.input.value.trim() }));
      if (!res.ok) return showError(res.error, { current_password: current, code }, problem);
      off();
    });
    show(form);
  }

  if (enabled) on();
  else off();
  return block;
}

/** Moving the account to a new number: a code sent there, and the current password (when set). */
function phoneChange(changed: (phone: string) => void): HTMLElement {
  const phone = field('new_phone', 'field.new_phone', { type: 'tel', autocomplete: 'tel', inputmode: 'tel' });
  const code = field('phone-code', 'field.sms_code', { inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6' });
  const current = field('phone-password', 'field.current_password', { type: 'password', autocomplete: 'current-password' });
  const problem = formError();
  const done = el('p', { class: 'success', role: 'status' });
  const sender = smsSender('change_phone', phone, problem);
  const form = el('form', { novalidate: '' }, el('p', { class: 'hint' }, t('account.phone.explain')), problem, done, phone.row, sender.node, code.row, current.row, submitButton('account.phone.submit'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    done.textContent = '';
    const body = { new_phone: phone.input.value.trim(), code: code.input.value.trim(), ...(current.input.value ? { current_password: current.input.value } : {}) };
    const res = await api<{ user: SignedInUser }>('POST', '/api/auth/phone', body);
    if (!res.ok) return showError(res.error, { new_phone: phone, phone, code, current_password: current }, problem);
    changed(res.data.user.phone);
    done.textContent = t('account.phone.done');
    form.reset();
  });
  return el('section', { 'aria-labelledby': 'phone-h' }, el('h2', { id: 'phone-h' }, t('account.phone')), form);
}

/** Deleting one's own account: the current password (when set) and a confirmation. */
function deletion(): HTMLElement {
  const current = field('delete-password', 'field.current_password', { type: 'password', autocomplete: 'current-password' });
  const problem = formError();
  const form = el('form', { novalidate: '', class: 'danger-zone' }, el('p', { class: 'hint' }, t('account.delete.explain')), problem, current.row, el('button', { type: 'submit', class: 'danger' }, t('account.delete.submit')));
  const block = el('section', { 'aria-labelledby': 'delete-h' }, el('h2', { id: 'delete-h' }, t('account.delete')), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!confirm(t('account.delete.confirm'))) return;
    const res = await api('DELETE', '/api/auth/account', current.input.value ? { current_password: current.input.value } : {});
    if (!res.ok) return showError(res.error, { current_password: current }, problem);
    section.replaceChildren(el('p', { class: 'success', role: 'status' }, t('account.delete.done')), el('p', {}, el('a', { href: '/register' }, t('nav.register'))));
  });
  return block;
}

void render();
