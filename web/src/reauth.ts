// Confirming it is still you, in a session that is signed in: the server answers a sensitive action
// with REAUTHENTICATION_REQUIRED (the password or an authenticator code will do), or the console with
// SECOND_FACTOR_REQUIRED (only a code will, or a passkey that verifies its user); a small form asks,
// POST /api/auth/reauth (or a passkey) renews the session, and the action is sent again.
import { api, type ApiResult } from './api.js';
import { t } from './i18n.js';
import { passkeyConfirmButton } from './passkey-reauth.js';
import { secondFactorField } from './two-factor.js';
import { clearErrors, el, field, formError, showError, submitButton } from './ui.js';

export type ReauthReason = 'REAUTHENTICATION_REQUIRED' | 'SECOND_FACTOR_REQUIRED';

/** Asks in a modal dialog; true once the server accepted an answer, false when the user cancelled. */
export function confirmIdentity(reason: ReauthReason): Promise<boolean> {
  const codeOnly = reason === 'SECOND_FACTOR_REQUIRED';
  const password = field('reauth-password', 'field.password', { type: 'password', autocomplete: 'current-password' });
  const code = secondFactorField('reauth-code');
  code.input.removeAttribute('required');
  const problem = formError();
  const cancel = el('button', { type: 'button', class: 'secondary' }, t('reauth.cancel'));
  // Set once the dialog's promise exists: every way out (an answer, a passkey, cancel) ends there.
  let finish: (ok: boolean) => void = () => undefined;
  const form = el(
    'form',
    { method: 'dialog', novalidate: '' },
    el('h2', {}, t('reauth.title')),
    el('p', { class: 'hint' }, t(codeOnly ? 'reauth.second_factor' : 'reauth.explain')),
    problem,
    ...(codeOnly ? [] : [password.row]),
    code.row,
    submitButton('reauth.submit'),
    passkeyConfirmButton(problem, () => finish(true)),
    cancel,
  );
  const dialog = el('dialog', { class: 'reauth' }, form);
  document.body.append(dialog);
  dialog.showModal();
  (codeOnly ? code : password).input.focus();
  return new Promise((resolve) => {
    finish = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    cancel.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', () => finish(false));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      const answer = !codeOnly && password.input.value ? { password: password.input.value } : { code: code.input.value.trim() };
      const res = await api('POST', '/api/auth/reauth', answer);
      if (res.ok) return finish(true);
      showError(res.error, { password, code }, problem);
    });
  });
}

/** Sends a request; when the server wants a fresh confirmation first, asks for it and sends the request once more. */
export async function withReauth<T>(send: () => Promise<ApiResult<T>>): Promise<ApiResult<T>> {
  const first = await send();
  if (first.ok || first.error.code !== 'REAUTHENTICATION_REQUIRED') return first;
  return (await confirmIdentity('REAUTHENTICATION_REQUIRED')) ? send() : first;
}
