import { captchaWidget } from '../captcha.js';
import { duration, t } from '../i18n.js';
import { failureText, namedInUrl, offeredProviders, providerLabel, startPath, takeFromUrl, usableHere } from '../providers.js';
import { returnToFrom } from '../return-to.js';
import { signedInUser } from '../session.js';
import { askSecondFactor } from '../two-factor.js';
import { passkeySignIn } from '../passkeys.js';
import { clearErrors, el, field, formError, frame, showError, submitButton } from '../ui.js';

const section = frame('login.title');
// Where the visitor was going: already signed in, they go on at once; otherwise once signed in. An app
// that asked for a fresh sign-in (OpenID Connect prompt=login or max_age) sends prompt=login: then the
// form is shown even to a signed-in visitor, and signing in again proves it is still them.
const destination = returnToFrom(location.search);
const freshSignIn = new URLSearchParams(location.search).get('prompt') === 'login';
if (!freshSignIn) void signedInUser().then((user) => user && location.replace(destination));
const fields = {
  phone: field('phone', 'field.phone', { required: '', type: 'tel', autocomplete: 'username', inputmode: 'tel' }),
  password: field('password', 'field.password', { required: '', type: 'password', autocomplete: 'current-password' }),
};
const captcha = captchaWidget('login', true);
const problem = formError();
const form = el('form', { novalidate: '' }, problem, fields.phone.row, fields.password.row, captcha.node, submitButton('login.submit'));
// Shown when the account is locked or its attempts are used up: the owner's way in that does not wait
// (an SMS code to the account's phone, which also lifts the lock).
const smsWayIn = el('a', { href: '/login/sms' }, t('login.locked_sms'));
const escape = el('p', { class: 'hint locked-escape', hidden: '' }, smsWayIn);
if (freshSignIn) section.append(el('p', { class: 'hint' }, t('login.again')));
// The other ways in: the upstream providers an administrator enabled (shown once known).
const providerList = el('ul', { class: 'provider-buttons' });
const providers = el('section', { class: 'providers', 'aria-labelledby': 'providers-h', hidden: '' }, el('h2', { id: 'providers-h' }, t('provider.or')), providerList);
section.append(form, passkeySignIn({ form, phone: fields.phone.input, problem, destination }), providers, escape, el('p', { class: 'hint' }, el('a', { href: '/reset-password' }, t('nav.reset'))));

// Back from a provider that did not sign the visitor in: the server names why in the URL.
// (Said once the providers are known: an OpenID Connect system goes by its administrator's label.)
const failed = takeFromUrl('sign_in_error', 'provider');
void offeredProviders().then((offered) => {
  if (failed.sign_in_error) problem.textContent = failureText(failed.sign_in_error, namedInUrl(failed.provider, offered));
  const usable = usableHere(offered, navigator.userAgent);
  providerList.replaceChildren(...usable.map((p) => el('li', {}, el('a', { class: 'provider-button', href: startPath(p.name, destination) }, providerLabel(p.name, p.display_name)))));
  providers.hidden = usable.length === 0;
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(form);
  const res = await captcha.send('/api/auth/login', { phone: fields.phone.input.value.trim(), password: fields.password.input.value }, { newOnSuccess: false });
  if (res.ok) return location.assign(destination);
  if (res.error.code === 'TWO_FACTOR_REQUIRED') return askSecondFactor(form, String(res.error.details.challenge), destination);
  showError(res.error, { ...fields, captcha: captcha.field }, problem);
  if (res.error.code === 'ACCOUNT_LOCKED' && res.error.retryAfter) countDown(res.error.retryAfter);
  if (res.error.code === 'ACCOUNT_LOCKED' || res.error.code === 'RATE_LIMITED') {
    smsWayIn.href = `/login/sms?${new URLSearchParams({ phone: fields.phone.input.value.trim(), return_to: destination })}`;
    escape.hidden = false;
  }
});

/** A lockout's remaining time, in words, updated every second until it is over. */
let countdown: ReturnType<typeof setInterval> | undefined;
function countDown(seconds: number): void {
  if (countdown) clearInterval(countdown);
  const until = Date.now() + seconds * 1000;
  countdown = setInterval(() => {
    const left = Math.ceil((until - Date.now()) / 1000);
    const text = left > 0 ? t('error.locked', { t: duration(left) }) : '';
    // Only when the words change (each minute, then each second in the last two): a screen reader hears each change.
    if (problem.textContent !== text) problem.textContent = text;
    if (left <= 0) clearInterval(countdown);
  }, 1000);
}
