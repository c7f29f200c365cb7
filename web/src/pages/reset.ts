import { api } from '../api.js';
import { t } from '../i18n.js';
import { smsSender } from '../sms.js';
import { clearErrors, el, field, formError, frame, showError, submitButton } from '../ui.js';

const section = frame('reset.title');
const phone = field('phone', 'field.phone', { required: '', type: 'tel', autocomplete: 'username', inputmode: 'tel' });
const code = field('code', 'field.sms_code', { required: '', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6' });
const password = field('password', 'field.new_password', { required: '', type: 'password', autocomplete: 'new-password', minlength: '8' });
const problem = formError();
const sender = smsSender('reset_password', phone, problem);
const done = el('p', { class: 'success', role: 'status' });
const form = el('form', { novalidate: '' }, problem, phone.row, sender.node, code.row, password.row, submitButton('reset.submit'));
section.append(done, form);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(form);
  const res = await api('POST', '/api/auth/password/reset', { phone: phone.input.value.trim(), code: code.input.value.trim(), new_password: password.input.value });
  if (!res.ok) return showError(res.error, { phone, code, password }, problem);
  form.remove();
  done.append(t('reset.done'), ' ', el('a', { href: '/login' }, t('nav.login')));
});
