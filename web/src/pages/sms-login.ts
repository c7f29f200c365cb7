import { api } from '../api.js';
import { returnToFrom } from '../return-to.js';
import { signedInUser } from '../session.js';
import { smsSender } from '../sms.js';
import { askSecondFactor } from '../two-factor.js';
import { clearErrors, el, field, formError, frame, showError, submitButton } from '../ui.js';

const section = frame('sms.title');
// Where the visitor was going: already signed in, they go on at once; otherwise once signed in.
const destination = returnToFrom(location.search);
void signedInUser().then((user) => user && location.replace(destination));
const phone = field('phone', 'field.phone', { required: '', type: 'tel', autocomplete: 'username', inputmode: 'tel' });
const code = field('code', 'field.sms_code', { required: '', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6' });
const problem = formError();
const sender = smsSender('login', phone, problem);
const form = el('form', { novalidate: '' }, problem, phone.row, sender.node, code.row, submitButton('login.submit'));
section.append(form);
// From the login page's "log in with an SMS code" after a lockout: the number is already known.
phone.input.value = new URLSearchParams(location.search).get('phone') ?? '';

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(form);
  const res = await api<{ user: { password_set: boolean } }>('POST', '/api/auth/login/sms', { phone: phone.input.value.trim(), code: code.input.value.trim() });
  // No password (a roster's account, or one whose unproven password this sign-in removed): set one first.
  if (res.ok) return location.assign(res.data.user.password_set ? destination : '/account#password-h');
  if (res.error.code === 'TWO_FACTOR_REQUIRED') return askSecondFactor(form, String(res.error.details.challenge), destination);
  showError(res.error, { phone, code }, problem);
});
