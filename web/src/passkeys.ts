// Passkeys on the pages, through @simplewebauthn/browser: signing in on the login page (autofill in
// the phone number field — conditional UI — and a button), and the account page's list of passkeys
// (add after confirming it is still you, rename, delete). The server speaks WebAuthn's JSON forms.
import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import { api, type ApiResult } from './api.js';
import { dateTime, t, timeAgo } from './i18n.js';
import { withReauth } from './reauth.js';
import { askSecondFactor } from './two-factor.js';
import { el, errorText, field, formError } from './ui.js';

/** What the account page shows of a passkey. */
interface Passkey {
  id: number;
  name: string;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  created_at: string;
  last_used_at: string | null;
}

/** An IPv4 or IPv6 address in place of a host name (browsers refuse it as a passkey's relying party). */
function isIpAddress(hostname: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.includes(':') || hostname.startsWith('[');
}

/** A ceremony the person cancelled (or the browser aborted) is not an error to show in red. */
function cancelled(error: unknown): boolean {
  const name = (error as { name?: string; cause?: { name?: string } }).cause?.name ?? (error as { name?: string }).name;
  return name === 'NotAllowedError' || name === 'AbortError' || (error as { code?: string }).code === 'ERROR_CEREMONY_ABORTED';
}

function ceremonyFailure(error: unknown): string {
  return cancelled(error) ? t('passkey.cancelled') : t('passkey.failed', { reason: (error as Error).message });
}

/**
 * The login page's passkey sign-in: a button (with a phone number typed, that account's passkeys are
 * named, which security keys without a record of the account need), and, where the browser can, the
 * passkeys offered in the phone field's autofill. Signed in, the browser goes to `destination`; an
 * account with two-factor sign-in whose passkey did not verify its user goes on to the app's code.
 */
export function passkeySignIn(options: { form: HTMLFormElement; phone: HTMLInputElement; problem: HTMLElement; destination: string }): HTMLElement {
  const { form, phone, problem, destination } = options;
  const button = el('button', { type: 'button', class: 'secondary passkey-sign-in' }, t('passkey.sign_in'));
  const block = el('div', { class: 'passkey' }, button, el('p', { class: 'hint' }, t('passkey.sign_in_hint')));
  // Passkeys are made for a host name: a site reached by IP address has none (the server says so with a 404).
  if (!browserSupportsWebAuthn() || isIpAddress(location.hostname)) {
    block.hidden = true;
    return block;
  }
  // The phone field offers passkeys among its suggestions (conditional UI).
  phone.setAttribute('autocomplete', 'username webauthn');

  async function finish(assertion: unknown): Promise<void> {
    const res = await api('POST', '/api/auth/passkeys/authentication', assertion);
    if (res.ok) return location.assign(destination);
    if (res.error.code === 'TWO_FACTOR_REQUIRED') return askSecondFactor(form, String(res.error.details.challenge), destination);
    problem.textContent = errorText(res.error);
  }

  /** The request options; a refusal is shown unless `quiet` (the autofill is offered on the side: its failure is no one's error). */
  async function requestOptions(body: object, quiet = false): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
    const res = (await api('POST', '/api/auth/passkeys/authentication/options', body)) as ApiResult<PublicKeyCredentialRequestOptionsJSON>;
    if (res.ok) return res.data;
    if (!quiet) problem.textContent = errorText(res.error);
    return undefined;
  }

  /** Waits for a passkey picked from the autofill; started again before its challenge (5 minutes) runs out. */
  let autofillTimer: ReturnType<typeof setTimeout> | undefined;
  async function armAutofill(): Promise<void> {
    if (!(await browserSupportsWebAuthnAutofill())) return;
    clearTimeout(autofillTimer);
    const optionsJSON = await requestOptions({}, true);
    if (!optionsJSON) return;
    autofillTimer = setTimeout(() => void armAutofill(), 4 * 60_000);
    let assertion: unknown;
    try {
      assertion = await startAuthentication({ optionsJSON, useBrowserAutofill: true });
    } catch (error) {
      // Aborted for the button's ceremony or a fresh challenge (that one goes on), or this browser cannot
      // offer passkeys here: the autofill stays quiet; the page's own message (a sign-in error) stays shown.
      if (!cancelled(error)) clearTimeout(autofillTimer);
      return;
    }
    clearTimeout(autofillTimer);
    await finish(assertion);
  }

  button.addEventListener('click', async () => {
    problem.textContent = '';
    clearTimeout(autofillTimer);
    WebAuthnAbortService.cancelCeremony();
    const typed = phone.value.trim();
    const optionsJSON = await requestOptions(typed ? { phone: typed } : {});
    if (!optionsJSON) return;
    button.disabled = true;
    try {
      await finish(await startAuthentication({ optionsJSON }));
    } catch (error) {
      problem.textContent = ceremonyFailure(error);
      void armAutofill();
    } finally {
      button.disabled = false;
    }
  });
  void armAutofill();
  return block;
}

/** The account page's section: the account's passkeys, each with rename and delete, and adding one. */
export function passkeysSection(): HTMLElement {
  const heading = el('h2', { id: 'passkeys-h', tabindex: '-1' }, t('account.passkeys'));
  const problem = formError();
  const done = el('p', { class: 'success', role: 'status' });
  const list = el('div', { class: 'passkeys' });
  const name = field('passkey-name', 'account.passkeys.name', { maxlength: '64', autocomplete: 'off' });
  const add = el('button', { type: 'submit', class: 'secondary' }, t('account.passkeys.add'));
  const form = el('form', { novalidate: '', class: 'passkey-add' }, name.row, add);
  const block = el('section', { id: 'passkeys', 'aria-labelledby': 'passkeys-h' }, heading, el('p', { class: 'hint' }, t('account.passkeys.explain')), problem, done, list, form);
  if (!browserSupportsWebAuthn()) {
    form.hidden = true;
    problem.textContent = t('passkey.unsupported');
  }

  // Only the latest drawing is shown: the page's first list, answered late by a busy worker, must not
  // cover the list read after a passkey was added.
  let drawing = 0;
  async function draw(): Promise<void> {
    const mine = ++drawing;
    const res = await api<{ passkeys: Passkey[] }>('GET', '/api/auth/passkeys');
    if (mine !== drawing) return;
    if (!res.ok) {
      problem.textContent = errorText(res.error);
      return void list.replaceChildren();
    }
    const passkeys = res.data.passkeys;
    list.replaceChildren(passkeys.length ? el('ul', {}, ...passkeys.map(item)) : el('p', { class: 'hint passkeys-none' }, t('account.passkeys.none')));
  }

  function item(passkey: Passkey): HTMLElement {
    const id = `passkey-${passkey.id}`;
    const rename = el('button', { type: 'button', class: 'secondary', 'aria-describedby': `${id}-h` }, t('account.passkeys.rename'));
    const remove = el('button', { type: 'button', class: 'secondary', 'aria-describedby': `${id}-h` }, t('account.passkeys.delete'));
    rename.addEventListener('click', async () => {
      problem.textContent = done.textContent = '';
      const wanted = prompt(t('account.passkeys.rename_prompt'), passkey.name)?.trim();
      if (!wanted || wanted === passkey.name) return;
      const res = await api<{ passkey: Passkey }>('PATCH', `/api/auth/passkeys/${passkey.id}`, { name: wanted.slice(0, 64) });
      if (!res.ok) return void (problem.textContent = errorText(res.error));
      done.textContent = t('account.passkeys.renamed', { name: res.data.passkey.name });
      await draw();
      heading.focus();
    });
    remove.addEventListener('click', async () => {
      problem.textContent = done.textContent = '';
      if (!confirm(t('account.passkeys.confirm', { name: passkey.name }))) return;
      remove.disabled = true;
      const res = await withReauth(() => api('DELETE', `/api/auth/passkeys/${passkey.id}`));
      if (!res.ok) {
        remove.disabled = false;
        problem.textContent = errorText(res.error);
        return remove.focus();
      }
      done.textContent = t('account.passkeys.deleted', { name: passkey.name });
      await draw();
      // The buttons are gone with the passkey: the keyboard starts again from the section's heading.
      heading.focus();
    });
    const used = passkey.last_used_at ? t('account.passkeys.last', { when: timeAgo(passkey.last_used_at) }) : t('account.passkeys.never');
    const facts = [t('account.passkeys.since', { date: dateTime(passkey.created_at) }), used, ...(passkey.backed_up ? [t('account.passkeys.synced')] : [])];
    return el('li', {}, el('div', { class: 'passkey-text' }, el('h3', { id: `${id}-h` }, passkey.name), el('p', { class: 'hint' }, facts.join(' · '))), rename, remove);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.textContent = done.textContent = '';
    add.disabled = true;
    try {
      const wanted = name.input.value.trim();
      const options = await withReauth(() => api<PublicKeyCredentialCreationOptionsJSON>('POST', '/api/auth/passkeys/registration/options', wanted ? { name: wanted } : {}));
      if (!options.ok) return void (problem.textContent = errorText(options.error));
      let credential;
      try {
        credential = await startRegistration({ optionsJSON: options.data });
      } catch (error) {
        return void (problem.textContent = ceremonyFailure(error));
      }
      const res = await api<{ passkey: Passkey }>('POST', '/api/auth/passkeys/registration', credential);
      if (!res.ok) return void (problem.textContent = errorText(res.error));
      name.input.value = '';
      done.textContent = t('account.passkeys.added', { name: res.data.passkey.name });
      await draw();
    } finally {
      add.disabled = false;
    }
  });

  void draw();
  return block;
}
