import { captchaWidget } from '../captcha.js';
import { clearErrors, el, field, formError, frame, showError, submitButton } from '../ui.js';

const section = frame('register.title');
const fields = {
  invitation_code: field('invitation_code', 'field.invitation_code', { required: '', autocomplete: 'off', maxlength: '64' }),
  name: field('name', 'field.name', { required: '', autocomplete: 'name', maxlength: '64' }),
  phone: field('phone', 'field.phone', { required: '', type: 'tel', autocomplete: 'tel', inputmode: 'tel' }),
  password: field('password', 'field.password', { required: '', type: 'password', autocomplete: 'new-password', minlength: '8' }),
};
// The invitation link: /register?code=XXXX fills the code in.
const code = new URLSearchParams(location.search).get('code');
if (code) fields.invitation_code.input.value = code;
const captcha = captchaWidget('register', false);
const problem = formError();
const form = el('form', { novalidate: '' }, problem, ...Object.values(fields).map((f) => f.row), captcha.node, submitButton('register.submit'));
section.append(form);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(form);
  const res = await captcha.send(
    '/api/auth/register',
    {
      invitation_code: fields.invitation_code.input.value.trim(),
      name: fields.name.input.value,
      phone: fields.phone.input.value.trim(),
      password: fields.password.input.value,
    },
    { newOnSuccess: false },
  );
  if (res.ok) return location.assign('/account');
  showError(res.error, { ...fields, captcha: captcha.field }, problem);
});
