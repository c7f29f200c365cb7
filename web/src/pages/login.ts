import { api } from '../api.js';
import { captchaWidget } from '../captcha.js';
import { t } from '../i18n.js';
import { clearErrors, el, field, formError, frame, showError, submitButton } from '../ui.js';

const section = frame('login.title');
const fields = {
  phone: field('phone', 'field.phone', { required: '', type: 'tel', autocomplete: 'username', inputmode: 'tel' }),
  password: field('password', 'field.password', { required: '', type: 'password', autocomplete: 'current-password' }),
};
const captcha = captchaWidget('login', true);
const problem = formError();
const form = el('form', { novalidate: '' }, problem, fields.phone.row, fields.password.row, captcha.node, submitButton('login.submit'));
section.append(form, el('p', { class: 'hint' }, el('a', { href: '/reset-password' }, t('nav.reset'))));

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(form);
  const res = await api('POST', '/api/auth/login', {
    phone: fields.phone.input.value.trim(),
    password: fields.password.input.value,
    captcha_id: captcha.id(),
    captcha: captcha.field.input.value.trim(),
  });
  if (res.ok) return location.assign('/account');
  await captcha.refresh();
  showError(res.error, { ...fields, captcha: captcha.field }, problem);
});
