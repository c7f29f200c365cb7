// Confirming it is still you with a passkey, in the re-authentication dialog: for an account that has
// one, a button beside the password and code fields. With user verification it also gives the session
// the second factor the console needs.
import { browserSupportsWebAuthn, startAuthentication, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { api } from './api.js';
import { t } from './i18n.js';
import { el, errorText } from './ui.js';

/** A button, shown once the account is known to have a passkey; `confirmed` runs when the server accepted one. */
export function passkeyConfirmButton(problem: HTMLElement, confirmed: () => void): HTMLButtonElement {
  const button = el('button', { type: 'button', class: 'secondary', hidden: '' }, t('reauth.passkey'));
  if (browserSupportsWebAuthn()) {
    void api<{ passkeys: unknown[] }>('GET', '/api/auth/passkeys').then((res) => {
      if (res.ok && res.data.passkeys.length > 0) button.hidden = false;
    });
  }
  button.addEventListener('click', async () => {
    problem.textContent = '';
    button.disabled = true;
    try {
      const options = await api<PublicKeyCredentialRequestOptionsJSON>('POST', '/api/auth/passkeys/reauthentication/options', {});
      if (!options.ok) return void (problem.textContent = errorText(options.error));
      let assertion;
      try {
        assertion = await startAuthentication({ optionsJSON: options.data });
      } catch (error) {
        return void (problem.textContent = t('passkey.failed', { reason: (error as Error).message }));
      }
      const res = await api('POST', '/api/auth/passkeys/reauthentication', assertion);
      if (res.ok) return confirmed();
      problem.textContent = errorText(res.error);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
