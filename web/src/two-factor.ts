// The second step of a sign-in for an account with two-factor sign-in: the password (or SMS code)
// was right and the server answered TWO_FACTOR_REQUIRED with a challenge; the code from the
// authenticator app (or a recovery code) finishes it within 5 minutes.
import { api } from './api.js';
import { t } from './i18n.js';
import { clearErrors, el, field, formError, showError, submitButton, type Field } from './ui.js';

/** The field for an authenticator code or a recovery code: recovery codes have letters, so no numeric keyboard; the app's code still autofills. */
export function secondFactorField(name: string): Field {
  return field(name, 'field.two_factor_code', { required: '', autocomplete: 'one-time-code', maxlength: '32', autocapitalize: 'off', spellcheck: 'false' });
}

/** Replaces the first step's form with the code form; signed in, it goes on to `destination`. */
export function askSecondFactor(firstStep: HTMLElement, challenge: string, destination: string): void {
  const code = secondFactorField('code');
  const problem = formError();
  const form = el('form', { novalidate: '', class: 'second-factor' }, el('p', { class: 'hint' }, t('two_factor.prompt')), problem, code.row, submitButton('two_factor.submit'));
  firstStep.replaceWith(form);
  code.input.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const res = await api('POST', '/api/auth/login/2fa', { challenge, code: code.input.value.trim() });
    if (res.ok) return location.assign(destination);
    showError(res.error, { code }, problem);
    // Too late for this challenge: back to the first step.
    if (res.error.code === 'TWO_FACTOR_EXPIRED') form.replaceWith(problem, firstStep);
  });
}
