// The second half of a sign-in with a provider that could not finish at once: the server holds it for
// 15 minutes (GET /api/auth/providers/pending). An account with two-factor sign-in asks for its code;
// a provider account linked to no account yet asks for a phone number proven with an SMS code, which
// links it to that number's account — or, when the number has none, leads to making one.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { avatar, providerLabel } from '../providers.js';
import { DEFAULT_RETURN_TO, safeReturnTo } from '../return-to.js';
import { smsSender } from '../sms.js';
import { askSecondFactor } from '../two-factor.js';
import { clearErrors, el, errorText, field, formError, frame, showError, submitButton } from '../ui.js';

interface Pending {
  provider: string;
  provider_display_name: string | null;
  display_name: string | null;
  avatar_url: string | null;
  step: 'phone' | 'register' | 'two_factor';
  /** Only for step two_factor. */
  challenge?: string;
  /** Only for step register: the proven number, masked. */
  phone?: string;
  invitation_code_required: boolean;
  organization_name: string | null;
  /** Where the sign-in goes once finished; absent: the account page. */
  return_to?: string;
}

/** What making an account needs, from the pending sign-in or from the phone step's answer. */
interface Registration {
  invitation_code_required: boolean;
  organization_name: string | null;
}

type PhoneAnswer = { signed_in: true; return_to?: string } | ({ signed_in: false; step: 'register' } & Registration);

const section = frame('continue.title');
const body = el('div', { class: 'continue-step' });
section.append(body);
const show = (...content: HTMLElement[]) => body.replaceChildren(...content);

/** A destination the server gave, when it gave one (a local path only, as everywhere). */
function destinationOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? safeReturnTo(value) : fallback;
}

function backToLogin(): HTMLElement {
  return el('p', {}, el('a', { href: '/login' }, t('continue.back')));
}

/** Nothing to finish: the 15 minutes are over, it was finished already, or it never began in this browser. */
function expired(): void {
  show(el('p', { class: 'form-error', role: 'alert' }, t('continue.expired')), backToLogin());
}

/** Who the provider says the visitor is: their picture and name there. */
function whoAtProvider(pending: Pending, provider: string): HTMLElement {
  const text = pending.display_name ? t('continue.as', { provider, name: pending.display_name }) : t('continue.as_unnamed', { provider });
  const picture = avatar(pending.avatar_url, t('continue.avatar', { provider }));
  return el('div', { class: 'upstream-identity' }, ...(picture ? [picture] : []), el('p', {}, text));
}

/** The account has two-factor sign-in: its code finishes the sign-in (on expiry, back to the login page). */
function secondFactor(challenge: string, destination: string): void {
  const start = backToLogin();
  show(start);
  askSecondFactor(start, challenge, destination);
}

/** A phone number proven by SMS code: its account gets this provider account, or there is none yet. */
function phoneStep(pending: Pending, provider: string, destination: string): void {
  const phone = field('phone', 'field.phone', { required: '', type: 'tel', autocomplete: 'tel', inputmode: 'tel' });
  const code = field('code', 'field.sms_code', { required: '', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6' });
  const problem = formError();
  const sender = smsSender('link_identity', phone, problem);
  const form = el('form', { novalidate: '' }, el('p', { class: 'hint' }, t('continue.phone.explain', { provider })), problem, phone.row, sender.node, code.row, submitButton('continue.phone.submit'));
  show(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const typed = phone.input.value.trim();
    const res = await api<PhoneAnswer>('POST', '/api/auth/providers/pending/phone', { phone: typed, code: code.input.value.trim() });
    if (res.ok) return res.data.signed_in ? location.assign(destinationOr(res.data.return_to, destination)) : registerStep(pending, provider, res.data, typed, destination);
    if (res.error.code === 'TWO_FACTOR_REQUIRED') return askSecondFactor(form, String(res.error.details.challenge), destinationOr(res.error.details.return_to, destination));
    if (res.error.code === 'SIGN_IN_PENDING_NOT_FOUND') return expired();
    showError(res.error, { phone, code }, problem);
  });
}

/** No account has the proven number: one is made, named as the provider names the visitor (they may change it). */
function registerStep(pending: Pending, provider: string, needs: Registration, phone: string | undefined, destination: string): void {
  const name = field('name', 'field.name', { required: '', autocomplete: 'name', maxlength: '64' });
  name.input.value = pending.display_name ?? '';
  const invitation = field('invitation_code', 'field.invitation_code', { required: '', autocomplete: 'off', maxlength: '64' });
  // The invitation code only when no organization takes this provider's new accounts by itself.
  const invitationPart = el('div', needs.invitation_code_required ? {} : { hidden: '' }, el('p', { class: 'hint' }, t('continue.register.code_hint')), invitation.row);
  const explain = phone ? t('continue.register.explain', { phone, provider }) : t('continue.register.explain_no_phone', { provider });
  const joins = !needs.invitation_code_required && needs.organization_name ? [el('p', { class: 'invitation' }, t('continue.register.org', { org: needs.organization_name }))] : [];
  const problem = formError();
  const form = el('form', { novalidate: '' }, el('p', { class: 'hint' }, explain), ...joins, problem, name.row, invitationPart, submitButton('continue.register.submit'));
  show(form);
  name.input.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const res = await api<{ return_to?: string }>('POST', '/api/auth/providers/pending/register', {
      name: name.input.value,
      ...(invitationPart.hidden ? {} : { invitation_code: invitation.input.value.trim() }),
    });
    if (res.ok) return location.assign(destinationOr(res.data.return_to, destination));
    if (res.error.code === 'SIGN_IN_PENDING_NOT_FOUND') return expired();
    // The provider's settings changed meanwhile: an invitation code is needed after all.
    if (res.error.code === 'INVITATION_CODE_REQUIRED') invitationPart.hidden = false;
    showError(res.error, { name, invitation_code: invitation }, problem);
  });
}

async function start(): Promise<void> {
  const res = await api<Pending>('GET', '/api/auth/providers/pending');
  if (!res.ok) {
    if (res.error.status === 404) return expired();
    return show(el('p', { class: 'form-error', role: 'alert' }, errorText(res.error)), backToLogin());
  }
  const pending = res.data;
  const provider = providerLabel(pending.provider, pending.provider_display_name);
  const destination = destinationOr(pending.return_to, DEFAULT_RETURN_TO);
  section.insertBefore(whoAtProvider(pending, provider), body);
  if (pending.step === 'two_factor') return secondFactor(pending.challenge ?? '', destination);
  if (pending.step === 'register') return registerStep(pending, provider, pending, pending.phone, destination);
  phoneStep(pending, provider, destination);
}

void start();
