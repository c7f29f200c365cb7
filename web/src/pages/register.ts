import { api } from '../api.js';
import { captchaWidget } from '../captcha.js';
import { t, type MessageKey } from '../i18n.js';
import { returnToFrom } from '../return-to.js';
import { signedInUser } from '../session.js';
import { smsSender } from '../sms.js';
import { clearErrors, el, errorText, field, formError, frame, showError, submitButton } from '../ui.js';

const section = frame('register.title');
// Where the visitor was going: already signed in, they go on at once; otherwise once registered.
const destination = returnToFrom(location.search);
void signedInUser().then((user) => user && location.replace(destination));

const fields = {
  invitation_code: field('invitation_code', 'field.invitation_code', { required: '', autocomplete: 'off', maxlength: '64' }),
  name: field('name', 'field.name', { required: '', autocomplete: 'name', maxlength: '64' }),
  phone: field('phone', 'field.phone', { required: '', type: 'tel', autocomplete: 'tel', inputmode: 'tel' }),
  password: field('password', 'field.password', { required: '', type: 'password', autocomplete: 'new-password', minlength: '8' }),
};
const captcha = captchaWidget('register', false);
const problem = formError();
// An organization that checks phone numbers: a code sent to the new number (shown when the code's organization asks for it).
const smsCode = field('sms_code', 'field.sms_code', { inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6' });
const sms = el('div', { class: 'register-sms', hidden: '' }, el('p', { class: 'hint' }, t('register.needs_sms')), smsSender('register', fields.phone, problem, 'sms-captcha', () => ({ invitation_code: fields.invitation_code.input.value.trim() })).node, smsCode.row);
const form = el('form', { novalidate: '' }, problem, ...Object.values(fields).map((f) => f.row), sms, captcha.node, submitButton('register.submit'));
// What the link leads to, said before anyone types: the organization, or why its code admits nobody now.
const organization = el('p', { class: 'invitation', role: 'status' });
section.append(organization, form);

interface InvitationPreview {
  organization: { name: string };
  valid: boolean;
  reason?: 'expired' | 'revoked' | 'used_up';
  requires_sms: boolean;
}

const WHY_NOT: Record<NonNullable<InvitationPreview['reason']>, MessageKey> = { expired: 'register.code_expired', revoked: 'register.code_revoked', used_up: 'register.code_used_up' };

async function lookUp(code: string): Promise<void> {
  const { input, error } = fields.invitation_code;
  organization.textContent = '';
  error.textContent = '';
  input.removeAttribute('aria-invalid');
  if (!code) return;
  const res = await api<InvitationPreview>('GET', `/api/auth/invitations/${encodeURIComponent(code)}`);
  if (input.value.trim() !== code) return; // typed on meanwhile: a newer look-up answers
  if (!res.ok) {
    // Unknown: said at the field. Anything else (a rate limit, the network) waits for the registration to tell.
    if (res.error.code !== 'INVITATION_NOT_FOUND') return;
    error.textContent = errorText(res.error);
    input.setAttribute('aria-invalid', 'true');
    return;
  }
  const { organization: org, valid, reason, requires_sms } = res.data;
  sms.hidden = !requires_sms;
  if (valid) organization.textContent = t('register.for_org', { org: org.name });
  else {
    error.textContent = t(WHY_NOT[reason ?? 'revoked'], { org: org.name });
    input.setAttribute('aria-invalid', 'true');
  }
}

// The invitation link: /register?code=XXXX fills the code in.
const linked = new URLSearchParams(location.search).get('code');
if (linked) fields.invitation_code.input.value = linked;
void lookUp(fields.invitation_code.input.value.trim());
fields.invitation_code.input.addEventListener('change', () => void lookUp(fields.invitation_code.input.value.trim()));

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
      ...(sms.hidden ? {} : { sms_code: smsCode.input.value.trim() }),
    },
    { newOnSuccess: false },
  );
  if (res.ok) return location.assign(destination);
  // The organization asks for an SMS code after all (its setting changed since the look-up).
  if (res.error.code === 'SMS_CODE_REQUIRED') sms.hidden = false;
  showError(res.error, { ...fields, captcha: captcha.field, sms_code: smsCode, code: smsCode }, problem);
});
