// The admin console: one page, a section per task of an organization's admin, chosen by the URL hash.
// An organization administrator sees only the sections of their own organization; the server
// enforces the same bounds (src/principal.ts), the console only leaves out what would be refused.
import { upload } from '../api.js';
import { dateTime as when, duration, t, timeOfDay, tn, type MessageKey } from '../i18n.js';
import { providerLabel } from '../providers.js';
import { confirmIdentity } from '../reauth.js';
import { signInPath } from '../return-to.js';
import { signedInUser } from '../session.js';
import { el, errorText, field, formError, frame, submitButton } from '../ui.js';
import { appsSection } from './admin-clients.js';
import { forwardAuthSection } from './admin-forward-auth.js';
import { providersSection } from './admin-providers.js';
import { api, button, table, type Row } from './admin-parts.js';

/** Whether the signed-in administrator runs the whole platform (role admin) rather than one organization (org_admin). */
let platform = true;

/** Each section, and whether only a platform administrator has it. */
const ALL_SECTIONS: Array<[string, MessageKey, (root: HTMLElement) => Promise<void>, boolean]> = [
  ['orgs', 'admin.nav.orgs', organizations, false],
  ['users', 'admin.nav.users', users, false],
  ['keys', 'admin.nav.keys', apiKeys, true],
  ['apps', 'admin.nav.apps', appsSection, true],
  ['tasks', 'admin.nav.tasks', tasks, true],
  ['import', 'admin.nav.import', rosterImport, false],
  ['audit', 'admin.nav.audit', audit, false],
  ['limits', 'admin.nav.limits', addressLimits, true],
  ['forward-auth', 'admin.nav.forward_auth', forwardAuthSection, true],
  ['providers', 'admin.nav.providers', providersSection, true],
];
let SECTIONS = ALL_SECTIONS;

const section = frame('admin.title');
const tabs = el('nav', { class: 'tabs', 'aria-label': t('admin.title') });
const body = el('div', { class: 'admin-body' });
section.append(tabs, body);
let timer: ReturnType<typeof setInterval> | undefined;

let drawings = 0;

async function show(): Promise<void> {
  // A section's hash may carry parameters: #limits?address=…
  const current = SECTIONS.find(([id]) => `#${id}` === location.hash.split('?')[0]) ?? SECTIONS[0]!;
  tabs.replaceChildren(...SECTIONS.map(([id, key]) => el('a', { href: `#${id}`, ...(id === current[0] ? { 'aria-current': 'page' } : {}) }, t(key))));
  if (timer) clearInterval(timer);
  const root = el('div', { 'data-section': current[0] }, el('h2', {}, t(current[1])));
  body.replaceChildren(root);
  // Busy until the section has its data (assistive technology waits, then reads it whole); a newer
  // drawing that started meanwhile says when it is done.
  const drawing = ++drawings;
  body.setAttribute('aria-busy', 'true');
  try {
    await current[2](root);
  } finally {
    if (drawing === drawings) body.removeAttribute('aria-busy');
  }
}

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** A control the admin has changed from what the drawing put there. */
function typedValue(control: Control): string | boolean | undefined {
  if (control instanceof HTMLInputElement && (control.type === 'checkbox' || control.type === 'radio')) return control.checked !== control.defaultChecked ? control.checked : undefined;
  if (control instanceof HTMLSelectElement) return [...control.options].some((o) => o.selected !== o.defaultSelected) ? control.value : undefined;
  return control.value !== control.defaultValue ? control.value : undefined;
}

/**
 * Draws the section again after a change was saved, keeping what the admin had typed in its other
 * forms (a saved form starts afresh; the rest are matched by their fields' ids).
 */
async function redraw(saved?: HTMLFormElement): Promise<void> {
  saved?.reset();
  const typed = new Map<string, string | boolean>();
  for (const control of body.querySelectorAll<Control>('input[id], select[id], textarea[id]')) {
    const value = typedValue(control);
    if (value !== undefined) typed.set(control.id, value);
  }
  await show();
  for (const [id, value] of typed) {
    const control = document.getElementById(id) as Control | null;
    if (!control || typedValue(control) !== undefined) continue;
    if (typeof value === 'boolean') (control as HTMLInputElement).checked = value;
    else control.value = value;
  }
}

async function start(): Promise<void> {
  const user = await signedInUser();
  if (!user) return location.assign(signInPath(location.pathname + location.search + location.hash));
  if (user.role !== 'admin' && user.role !== 'org_admin') {
    body.append(el('p', { class: 'form-error', role: 'alert' }, t('admin.forbidden')));
    return;
  }
  platform = user.role === 'admin';
  SECTIONS = ALL_SECTIONS.filter(([, , , platformOnly]) => platform || !platformOnly);
  // Where the site requires it (ADMIN_REQUIRE_TWO_FACTOR, the default), the console opens in a session
  // that passed a second factor: an admin without one is sent to set it up on the account page (which
  // comes back here), and one whose session did not pass it is asked for a code.
  let probe = await api('GET', '/api/admin/audit?limit=1');
  if (!probe.ok && probe.error.code === 'TWO_FACTOR_SETUP_REQUIRED') {
    const setup = `/account?${new URLSearchParams({ return_to: location.pathname + location.hash })}#two-factor-h`;
    body.append(el('p', { class: 'form-error', role: 'alert' }, t('admin.two_factor_required')), el('p', {}, el('a', { href: setup, class: 'two-factor-setup' }, t('admin.two_factor_go'))));
    return;
  }
  while (!probe.ok && probe.error.code === 'SECOND_FACTOR_REQUIRED') {
    if (!(await confirmIdentity('SECOND_FACTOR_REQUIRED'))) {
      body.append(el('p', { class: 'form-error', role: 'alert' }, errorText(probe.error)));
      return;
    }
    probe = await api('GET', '/api/admin/audit?limit=1');
  }
  window.addEventListener('hashchange', () => void show());
  await show();
}

interface Invitation {
  invitation_code: string;
  uses: number;
  max_uses: number | null;
  expires_at: string | null;
  revoked: boolean;
}
interface Org {
  id: number;
  name: string;
  register_requires_sms: boolean;
  user_count: number;
  invitation_codes: Invitation[];
}

async function organizations(root: HTMLElement): Promise<void> {
  const res = await api<{ organizations: Org[] }>('GET', '/api/admin/organizations');
  const orgs = res.ok ? res.data.organizations : [];
  const status = el('p', { class: 'hint', role: 'status' }, savedNotice);
  savedNotice = '';
  const live = el('div', { class: 'live', 'aria-live': 'polite' });
  root.append(status);
  for (const org of orgs) {
    const maxUses = field(`max-${org.id}`, 'admin.invite.max_uses', { type: 'number', min: '1' });
    const days = field(`days-${org.id}`, 'admin.invite.expires_in_days', { type: 'number', min: '1' });
    const problem = formError();
    const form = el('form', { class: 'inline' }, problem, maxUses.row, days.row, submitButton('admin.invite.create'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const payload = { ...(maxUses.input.value ? { max_uses: Number(maxUses.input.value) } : {}), ...(days.input.value ? { expires_in_days: Number(days.input.value) } : {}) };
      const created = await api('POST', `/api/admin/organizations/${org.id}/invitations`, payload);
      if (!created.ok) problem.textContent = errorText(created.error);
      else await redraw(form);
    });
    const rows = org.invitation_codes.map((c): Row => {
      const link = `${location.origin}/register?code=${c.invitation_code}`;
      const actions = el('span', { class: 'actions' });
      if (!c.revoked) {
        actions.append(
          button('admin.invite.copy', async () => {
            await navigator.clipboard?.writeText(link).catch(() => undefined);
            status.textContent = t('admin.invite.copied', { link });
          }),
          button('admin.invite.live', async () => liveView(live, c.invitation_code)),
          button('admin.invite.qr', async () => qrView(live, c.invitation_code, link, org.name)),
          button('admin.invite.change', async () => void (actions.querySelector('form.invitation-limits') ?? actions.append(invitationLimitsForm(c)))),
          button('admin.invite.rotate', async () => (await api('POST', `/api/admin/invitations/${c.invitation_code}/rotate`), redraw())),
          button('admin.invite.revoke', async () => (await api('POST', `/api/admin/invitations/${c.invitation_code}/revoke`), redraw())),
        );
      }
      const uses = c.revoked ? t('admin.invite.revoked') : t('admin.invite.uses', { uses: c.uses, max: c.max_uses ?? t('admin.invite.unlimited') });
      return [el('code', { class: 'invitation-code' }, c.invitation_code), uses, when(c.expires_at), actions];
    });
    const section = el('section', { class: 'org' }, el('h3', {}, `${org.name} · ${tn('admin.org.users', org.user_count)}`), table(['field.invitation_code', 'admin.col.status', 'admin.col.expires', 'admin.col.actions'], rows), form, settingsForm(org), memberExport(org));
    // Only an organization without members can go (the server refuses the others too), and only a platform administrator deletes one.
    if (platform && org.user_count === 0) section.append(organizationDeletion(org));
    root.append(section);
  }
  const name = field('org-name', 'admin.org.name', { required: '', maxlength: '100' });
  const problem = formError();
  const create = el('form', { class: 'inline' }, problem, name.row, submitButton('admin.org.create'));
  create.addEventListener('submit', async (event) => {
    event.preventDefault();
    const created = await api('POST', '/api/admin/organizations', { name: name.input.value });
    if (!created.ok) problem.textContent = errorText(created.error);
    else await redraw(create);
  });
  root.append(live);
  if (platform) root.append(el('h3', {}, t('admin.org.create')), create);
}

/** A live code's quota and expiry, changed in place: the link and QR code already handed out keep working. */
function invitationLimitsForm(code: Invitation): HTMLFormElement {
  const id = code.invitation_code;
  const maxUses = field(`limits-max-${id}`, 'admin.invite.new_max_uses', { type: 'number', min: '1', value: code.max_uses === null ? '' : String(code.max_uses) });
  const days = field(`limits-days-${id}`, 'admin.invite.new_expires_in_days', { type: 'number', min: '1' });
  const never = el('input', { type: 'checkbox', id: `f-limits-never-${id}` });
  const problem = formError();
  const form = el('form', { class: 'inline invitation-limits' }, problem, maxUses.row, days.row);
  if (code.expires_at !== null) form.append(el('label', { class: 'check' }, never, ` ${t('admin.invite.never_expires')}`));
  form.append(submitButton('admin.invite.save'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const expiry = never.checked ? { expires_in_days: null } : days.input.value ? { expires_in_days: Number(days.input.value) } : {};
    const saved = await api('PATCH', `/api/admin/invitations/${id}`, { max_uses: maxUses.input.value ? Number(maxUses.input.value) : null, ...expiry });
    if (!saved.ok) return void (problem.textContent = errorText(saved.error));
    savedNotice = t('admin.invite.changed', { code: id });
    await redraw(form);
  });
  return form;
}

/** Said once by the next drawing of the organizations, which a saved change causes. */
let savedNotice = '';

/** An organization's name and (a platform administrator's setting) whether registering into it needs an SMS code. */
function settingsForm(org: Org): HTMLFormElement {
  const name = field(`org-name-${org.id}`, 'admin.org.name', { required: '', maxlength: '100', value: org.name });
  const sms = el('input', { type: 'checkbox', id: `f-org-sms-${org.id}`, ...(org.register_requires_sms ? { checked: '' } : {}) });
  const problem = formError();
  const form = el('form', { class: 'inline org-settings' }, problem, name.row);
  if (platform) form.append(el('label', { class: 'check' }, sms, ` ${t('admin.org.requires_sms')}`));
  form.append(submitButton('admin.org.save'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const saved = await api('PATCH', `/api/admin/organizations/${org.id}`, { name: name.input.value, ...(platform ? { register_requires_sms: sms.checked } : {}) });
    if (!saved.ok) return void (problem.textContent = errorText(saved.error));
    savedNotice = t('admin.org.saved');
    await redraw(form);
  });
  return form;
}

/** Deleting an organization without members, after a confirmation. */
function organizationDeletion(org: Org): HTMLElement {
  const problem = el('span', { class: 'form-error', role: 'alert' });
  const remove = button('admin.org.delete', async () => {
    if (!confirm(t('admin.org.delete_confirm', { name: org.name }))) return;
    const res = await api('DELETE', `/api/admin/organizations/${org.id}`);
    if (!res.ok) return void (problem.textContent = errorText(res.error));
    await redraw();
  }, { class: 'danger small' });
  return el('p', { class: 'actions' }, remove, ' ', problem);
}

/** "Export members": a roster.export task, followed until its CSV can be downloaded. */
function memberExport(org: Org): HTMLElement {
  const result = el('span', { class: 'hint', role: 'status' });
  const start = button('admin.org.export', async () => {
    const created = await api<{ export: { id: number } }>('POST', `/api/admin/organizations/${org.id}/exports`);
    if (!created.ok) return void (result.textContent = errorText(created.error));
    const id = created.data.export.id;
    result.textContent = t('admin.org.exporting');
    if (timer) clearInterval(timer);
    timer = setInterval(async () => {
      const res = await api<{ export: { rows: number | null; task: { state: string; last_error: string | null } | null } }>('GET', `/api/admin/exports/${id}`);
      if (!res.ok || !res.data.export.task) return;
      const { rows, task } = res.data.export;
      if (task.state === 'dead') {
        clearInterval(timer);
        result.textContent = task.last_error ?? task.state;
      } else if (task.state === 'succeeded' && rows !== null) {
        clearInterval(timer);
        result.replaceChildren(el('a', { href: `/api/admin/exports/${id}/file`, class: 'export-link', download: '' }, tn('admin.org.download', rows)));
      }
    }, 500);
  });
  return el('p', { class: 'actions org-export' }, start, ' ', result);
}

/** Registrations per minute with one code, refreshed every 5 seconds while shown. */
/** The registration link as a big QR code, for the workshop's projector (full screen on request). */
function qrView(target: HTMLElement, code: string, link: string, organization: string): void {
  if (timer) clearInterval(timer);
  const image = el('img', { class: 'qr', src: `/api/admin/invitations/${encodeURIComponent(code)}/qr.svg`, alt: t('admin.qr.alt', { link }) });
  const panel = el('div', { class: 'qr-panel' }, el('h3', {}, t('admin.qr.title', { org: organization })), image, el('p', { class: 'qr-link' }, link));
  target.replaceChildren(panel, button('admin.qr.fullscreen', async () => panel.requestFullscreen?.()));
}

async function liveView(target: HTMLElement, code: string): Promise<void> {
  async function draw() {
    const res = await api<{ per_minute: Array<{ minute: string; count: number }>; total: number }>('GET', `/api/admin/invitations/${code}/registrations?minutes=60`);
    if (!res.ok) return;
    const max = Math.max(1, ...res.data.per_minute.map((m) => m.count));
    const bars = res.data.per_minute.map((m) =>
      el('li', {}, el('span', { class: 'bar-label' }, timeOfDay(m.minute)), el('span', { class: 'bar' }, String(m.count))),
    );
    bars.forEach((li, i) => ((li.lastChild as HTMLElement).style.width = `${(res.data.per_minute[i]!.count / max) * 100}%`));
    target.replaceChildren(el('h3', {}, `${t('admin.invite.live')} · ${code}`), el('p', { class: 'live-total' }, tn('admin.live.total', res.data.total)), el('ol', { class: 'bars' }, ...bars));
  }
  if (timer) clearInterval(timer);
  await draw();
  timer = setInterval(() => void draw(), 5000);
}

interface AdminUser {
  id: number;
  name: string;
  phone: string;
  status: string;
  role: string;
  has_password: boolean;
  two_factor_enabled: boolean;
  failed_logins: number;
  locked_until: string | null;
  organization_id: number;
}

async function users(root: HTMLElement): Promise<void> {
  const q = field('user-q', 'admin.users.search', { type: 'search' });
  const orgs = await api<{ organizations: Org[] }>('GET', '/api/admin/organizations');
  const allOrgs = orgs.ok ? orgs.data.organizations : [];
  const orgName = (id: number) => allOrgs.find((o) => o.id === id)?.name ?? `#${id}`;
  // An organization administrator's one organization is the whole choice.
  const everyOrgOption = platform ? [el('option', { value: '' }, t('admin.users.all_orgs'))] : [];
  const org = el('select', { id: 'user-org' }, ...everyOrgOption, ...allOrgs.map((o) => el('option', { value: String(o.id) }, o.name)));
  const results = el('div');
  const form = el('form', { class: 'inline', role: 'search' }, q.row, el('div', { class: 'field' }, el('label', { for: 'user-org' }, t('admin.users.org')), org), submitButton('admin.users.find'));
  org.addEventListener('change', () => void search());
  async function search() {
    const params = new URLSearchParams({ q: q.input.value });
    if (org.value) params.set('organization_id', org.value);
    const res = await api<{ users: AdminUser[] }>('GET', `/api/admin/users?${params}`);
    const everyOrg = !org.value;
    const rows = (res.ok ? res.data.users : []).map((u): Row => {
      const role = u.role === 'admin' ? ` · ${t('admin.users.admin')}` : u.role === 'org_admin' ? ` · ${t('admin.users.org_admin')}` : '';
      const status = t(u.status === 'disabled' ? 'admin.status.disabled' : 'admin.status.active');
      const state = [status + role, u.has_password ? '' : t('admin.users.no_password'), u.two_factor_enabled ? t('admin.users.two_factor') : '', lockState(u)].filter(Boolean).join(' · ');
      // A platform administrator answers only to another: an organization administrator gets no actions on one.
      if (!platform && u.role === 'admin') return everyOrg ? [u.name, u.phone, orgName(u.organization_id), state, ''] : [u.name, u.phone, state, ''];
      const act = (path: string) => async () => (await api('POST', `/api/admin/users/${u.id}/${path}`), search());
      const problem = el('span', { class: 'form-error', role: 'alert' });
      const change = (body: { name?: string; phone?: string; organization_id?: number; role?: string }) => async () => {
        const res = await api('PATCH', `/api/admin/users/${u.id}`, body);
        if (res.ok) await search();
        else problem.textContent = errorText(res.error);
      };
      const sessions = el('div', { class: 'user-sessions' });
      const actions = el(
        'span',
        { class: 'actions' },
        u.status === 'active' ? button('admin.users.disable', act('disable')) : button('admin.users.enable', act('enable')),
        ...(u.failed_logins > 0 ? [button('admin.users.unlock', act('unlock'))] : []),
        button('admin.users.force_reset', act('force-password-reset')),
        ...(u.two_factor_enabled
          ? [
              button('admin.users.reset_two_factor', async () => {
                if (confirm(t('admin.users.reset_two_factor_confirm', { name: u.name }))) await act('reset-two-factor')();
              }),
            ]
          : []),
        ...roleButtons(u.role, (role) => change({ role })),
        button('admin.users.rename', async () => void (actions.querySelector('form.rename') ?? actions.append(correctionForm(u, 'name', (name) => change({ name })())))),
        button('admin.users.change_phone', async () => void (actions.querySelector('form.phone') ?? actions.append(correctionForm(u, 'phone', (phone) => change({ phone })())))),
        ...(allOrgs.length > 1 ? [button('admin.users.move', async () => void (actions.querySelector('form.move') ?? actions.append(moveForm(u, allOrgs, (id) => change({ organization_id: id })()))))] : []),
        button('admin.users.sessions', async () => showSessions(sessions, u.id)),
        button('admin.users.identities', async () => showIdentities(sessions, u.id)),
        button('admin.users.delete', async () => {
          if (!confirm(t('admin.users.delete_confirm', { name: u.name, phone: u.phone }))) return;
          const res = await api('DELETE', `/api/admin/users/${u.id}`);
          if (res.ok) await search();
          else problem.textContent = errorText(res.error);
        }, { class: 'danger small' }),
        problem,
        sessions,
      );
      // Searching every organization, each user's own is worth a column.
      return everyOrg ? [u.name, u.phone, orgName(u.organization_id), state, actions] : [u.name, u.phone, state, actions];
    });
    const headers: MessageKey[] = everyOrg ? ['admin.col.name', 'admin.col.phone', 'admin.users.org', 'admin.col.status', 'admin.col.actions'] : ['admin.col.name', 'admin.col.phone', 'admin.col.status', 'admin.col.actions'];
    results.replaceChildren(table(headers, rows));
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void search();
  });
  root.append(form, results);
  await search();
}

/** The roles a user can be given from here: a platform administrator gives any; an organization administrator org_admin or user. */
function roleButtons(current: string, give: (role: string) => () => Promise<void>): HTMLButtonElement[] {
  const buttons: HTMLButtonElement[] = [];
  if (current !== 'user') buttons.push(button('admin.users.make_user', give('user')));
  if (current !== 'org_admin') buttons.push(button('admin.users.make_org_admin', give('org_admin')));
  if (platform && current !== 'admin') buttons.push(button('admin.users.make_admin', give('admin')));
  return buttons;
}

/** A select of the other organizations, to move a user (a teacher changing schools). */
function moveForm(user: AdminUser, orgs: Org[], save: (organizationId: number) => Promise<void>): HTMLFormElement {
  const id = `user-move-${user.id}`;
  const select = el('select', { id }, ...orgs.filter((o) => o.id !== user.organization_id).map((o) => el('option', { value: String(o.id) }, o.name)));
  const form = el('form', { class: 'inline move' }, el('div', { class: 'field' }, el('label', { for: id }, t('admin.users.move_to')), select), submitButton('admin.users.move'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (select.value) void save(Number(select.value));
  });
  return form;
}

/** "Locked until 14:05", or "2 wrong passwords": what a support call about a login needs to know. */
function lockState(user: AdminUser): string {
  if (user.locked_until) return t('admin.users.locked_until', { time: timeOfDay(user.locked_until) });
  return user.failed_logins > 0 ? tn('admin.users.failed_logins', user.failed_logins) : '';
}

/** A one-field form to correct a user's name or phone number, shown beside their actions. */
function correctionForm(user: AdminUser, what: 'name' | 'phone', save: (value: string) => Promise<void>): HTMLFormElement {
  const input =
    what === 'name'
      ? field(`user-name-${user.id}`, 'admin.col.name', { required: '', maxlength: '64', value: user.name })
      : field(`user-phone-${user.id}`, 'admin.col.phone', { required: '', type: 'tel', value: user.phone });
  const form = el('form', { class: `inline ${what === 'name' ? 'rename' : 'phone'}` }, input.row, submitButton(what === 'name' ? 'admin.users.save_name' : 'admin.users.save_phone'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void save(input.input.value.trim());
  });
  return form;
}

/** The accounts elsewhere (WeChat, WeCom…) that sign the user in: what the provider calls them, its key, when linked and last used. */
async function showIdentities(target: HTMLElement, userId: number): Promise<void> {
  type Identity = { id: number; provider: string; subject: string; display_name: string | null; created_at: string; last_sign_in_at: string | null };
  const res = await api<{ identities: Identity[] }>('GET', `/api/admin/users/${userId}/identities`);
  const identities = res.ok ? res.data.identities : [];
  const items = identities.map((i) => {
    const used = i.last_sign_in_at ? t('admin.identities.last_used', { at: when(i.last_sign_in_at) }) : t('admin.identities.never_used');
    return el('li', { 'data-identity': String(i.id) }, [providerLabel(i.provider), i.display_name, i.subject, t('admin.identities.linked', { at: when(i.created_at) }), used].filter(Boolean).join(' · '));
  });
  target.replaceChildren(items.length ? el('ul', { class: 'identities' }, ...items) : el('p', { class: 'hint' }, res.ok ? t('admin.identities.none') : errorText(res.error)));
}

async function showSessions(target: HTMLElement, userId: number): Promise<void> {
  const res = await api<{ sessions: Array<{ id: number; last_seen_at: string; ip: string | null }> }>('GET', `/api/admin/users/${userId}/sessions`);
  const items = (res.ok ? res.data.sessions : []).map((s) => {
    const item = el('li', {}, `${s.ip ?? '?'} · ${when(s.last_seen_at)} `);
    item.append(button('admin.sessions.revoke', async () => (await api('DELETE', `/api/admin/sessions/${s.id}`), item.remove()), { 'data-session': String(s.id) }));
    return item;
  });
  target.replaceChildren(el('ul', { class: 'sessions' }, ...items));
}

async function apiKeys(root: HTMLElement): Promise<void> {
  const res = await api<{ api_keys: Array<{ id: number; prefix: string; name: string; scopes: string[]; last_used_at: string | null; revoked_at: string | null; expires_at: string | null }> }>('GET', '/api/admin/api-keys');
  const live = (k: { revoked_at: string | null; expires_at: string | null }) => k.revoked_at === null && (k.expires_at === null || Date.parse(k.expires_at) > Date.now());
  const rows = (res.ok ? res.data.api_keys : []).map((k): Row => [
    k.prefix,
    k.name,
    k.scopes.join(', '),
    when(k.last_used_at),
    when(k.expires_at),
    k.revoked_at ? t('admin.invite.revoked') : !live(k) ? t('admin.keys.expired') : button('admin.keys.revoke', async () => (await api('DELETE', `/api/admin/api-keys/${k.id}`), redraw())),
  ]);
  const name = field('key-name', 'admin.keys.name', { required: '', maxlength: '100' });
  const days = field('key-days', 'admin.keys.expires_in_days', { type: 'number', min: '1', max: '3650', placeholder: '90' });
  const scopes = el('fieldset', {}, el('legend', {}, t('admin.keys.scopes')), ...['tasks:write', 'tasks:read', 'admin'].map((s) => el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'scope', value: s, ...(s.startsWith('tasks') ? { checked: '' } : {}) }), ` ${s}`)));
  const shown = el('p', { class: 'success', role: 'status' });
  const problem = formError();
  const form = el('form', { class: 'inline' }, problem, name.row, scopes, days.row, submitButton('admin.keys.create'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = [...form.querySelectorAll<HTMLInputElement>('input[name=scope]:checked')].map((i) => i.value);
    const created = await api<{ key: string }>('POST', '/api/admin/api-keys', { name: name.input.value, scopes: chosen, ...(days.input.value ? { expires_in_days: Number(days.input.value) } : {}) });
    if (!created.ok) return void (problem.textContent = errorText(created.error));
    await redraw(form);
    body.querySelector('.key-shown')?.replaceChildren(t('admin.keys.shown_once'), ' ', el('code', { class: 'new-key' }, created.data.key));
  });
  shown.classList.add('key-shown');
  root.append(shown, table(['admin.col.prefix', 'admin.keys.name', 'admin.keys.scopes', 'admin.col.last_used', 'admin.col.expires', 'admin.col.actions'], rows), form);
}

async function tasks(root: HTMLElement): Promise<void> {
  const select = el('select', { id: 'task-state' }, ...['', 'queued', 'running', 'failed', 'succeeded', 'dead'].map((s) => el('option', { value: s }, s || t('admin.tasks.all'))));
  const list = el('div');
  async function load() {
    const res = await api<{ tasks: Array<{ id: string; type: string; state: string; attempts: number; max_attempts: number; last_error: string | null; created_at: string }> }>('GET', `/api/admin/tasks?limit=100${select.value ? `&state=${select.value}` : ''}`);
    const rows = (res.ok ? res.data.tasks : []).map((k): Row => [when(k.created_at), k.type, k.state, `${k.attempts}/${k.max_attempts}`, k.last_error ?? '', k.state === 'dead' ? button('admin.tasks.retry', async () => (await api('POST', `/api/admin/tasks/${k.id}/retry`), load())) : '']);
    list.replaceChildren(table(['admin.col.time', 'admin.col.type', 'admin.col.status', 'admin.col.attempts', 'admin.col.error', 'admin.col.actions'], rows));
  }
  select.addEventListener('change', () => void load());
  root.append(el('div', { class: 'field' }, el('label', { for: 'task-state' }, t('admin.tasks.state')), select), button('admin.tasks.refresh', load), list);
  await load();
}

async function rosterImport(root: HTMLElement): Promise<void> {
  const orgs = await api<{ organizations: Org[] }>('GET', '/api/admin/organizations');
  const select = el('select', { id: 'import-org' }, ...(orgs.ok ? orgs.data.organizations : []).map((o) => el('option', { value: String(o.id) }, o.name)));
  const file = el('input', { id: 'import-file', type: 'file', accept: '.csv,text/csv' });
  const progress = el('progress', { id: 'import-progress', max: '100', value: '0', 'aria-label': t('admin.import.progress') });
  const status = el('p', { class: 'hint', role: 'status' });
  const problem = formError();
  const form = el(
    'form',
    {},
    problem,
    el('div', { class: 'field' }, el('label', { for: 'import-org' }, t('admin.import.org')), select),
    el('div', { class: 'field' }, el('label', { for: 'import-file' }, t('admin.import.file')), file),
    submitButton('admin.import.upload'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.textContent = '';
    const chosen = file.files?.[0];
    if (!chosen) return;
    const started = await upload<{ import: { id: number } }>(`/api/admin/organizations/${select.value}/imports?file_name=${encodeURIComponent(chosen.name)}`, chosen, 'text/csv');
    if (!started.ok) return void (problem.textContent = errorText(started.error));
    const id = started.data.import.id;
    timer = setInterval(async () => {
      const res = await api<{ import: { task: { state: string; progress: { done: number; total: number } | null } | null; counts: Record<string, number> | null } }>('GET', `/api/admin/imports/${id}`);
      if (!res.ok || !res.data.import.task) return;
      const { task, counts } = res.data.import;
      if (task.progress) progress.value = Math.round((task.progress.done / task.progress.total) * 100);
      if (task.state === 'succeeded' && counts) {
        clearInterval(timer);
        progress.value = 100;
        status.replaceChildren(
          t('admin.import.done', { created: counts.created ?? 0, exists: counts.exists ?? 0, invalid: (counts.invalid_phone ?? 0) + (counts.invalid_name ?? 0) + (counts.invalid_role ?? 0), duplicate: counts.duplicate_in_file ?? 0 }),
          ' ',
          el('a', { href: `/api/admin/imports/${id}/report?format=csv`, class: 'report-link' }, t('admin.import.report')),
        );
      }
    }, 300);
  });
  root.append(form, progress, status);
}

async function audit(root: HTMLElement): Promise<void> {
  const event = field('audit-event', 'admin.audit.event');
  const actor = field('audit-actor', 'admin.audit.actor');
  const since = field('audit-since', 'admin.audit.since', { type: 'datetime-local' });
  const list = el('div');
  const form = el('form', { class: 'inline' }, event.row, actor.row, since.row, submitButton('admin.audit.filter'));
  async function load() {
    const params = new URLSearchParams({ limit: '200' });
    if (event.input.value) params.set('event', event.input.value);
    if (actor.input.value) params.set('actor', actor.input.value);
    if (since.input.value) params.set('since', new Date(since.input.value).toISOString());
    const res = await api<{ events: Array<{ at: string; event: string; actor: string | null; target: string | null; ip: string | null }> }>('GET', `/api/admin/audit?${params}`);
    // An address leads to its rate limits (where did these failed logins come from, and is that address blocked?).
    const address = (ip: string | null) => (ip ? el('a', { href: `#limits?${new URLSearchParams({ address: ip })}`, class: 'address-link' }, ip) : '');
    const rows = (res.ok ? res.data.events : []).map((e): Row => [when(e.at), e.event, e.actor ?? '', e.target ?? '', address(e.ip)]);
    list.replaceChildren(table(['admin.col.time', 'admin.col.event', 'admin.col.actor', 'admin.col.target', 'admin.col.ip'], rows));
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  root.append(form, list);
  await load();
}

interface AddressLimits {
  address: string;
  network: string;
  exempt: boolean;
  limits: Array<{ limit: string; points: number; used: number; resets_in_seconds: number }>;
}

const LIMIT_NAMES: Record<string, MessageKey> = {
  captcha_ip: 'admin.limits.captcha_ip',
  invitation_ip: 'admin.limits.invitation_ip',
  register_ip: 'admin.limits.register_ip',
  login_ip: 'admin.limits.login_ip',
  sms_ip: 'admin.limits.sms_ip',
};

/** An address's use of the per-address limits, and lifting them (a workshop behind one address). */
async function addressLimits(root: HTMLElement): Promise<void> {
  const address = field('limits-address', 'admin.limits.address', { required: '', autocomplete: 'off', spellcheck: 'false' });
  const problem = formError();
  const result = el('div', { class: 'address-limits' });
  const form = el('form', { class: 'inline', novalidate: '' }, problem, address.row, submitButton('admin.limits.look'));
  function render(state: AddressLimits, notice?: string) {
    const rows = state.limits.map((l): Row => [LIMIT_NAMES[l.limit] ? t(LIMIT_NAMES[l.limit]!) : l.limit, `${l.used} / ${l.points}`, l.used > 0 ? duration(l.resets_in_seconds) : '—']);
    const lift = button('admin.limits.reset', async () => {
      const res = await api<AddressLimits>('POST', '/api/admin/rate-limits/reset', { address: state.address });
      if (res.ok) render(res.data, t('admin.limits.done'));
      else problem.textContent = errorText(res.error);
    }, { class: 'secondary small lift-limits' });
    result.replaceChildren(
      el('p', {}, t(state.exempt ? 'admin.limits.exempt' : 'admin.limits.network', { network: state.network })),
      table(['admin.limits.col.limit', 'admin.limits.col.used', 'admin.limits.col.resets'], rows),
      lift,
      el('p', { role: 'status' }, notice ?? ''),
    );
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    problem.textContent = '';
    const res = await api<AddressLimits>('GET', `/api/admin/rate-limits?${new URLSearchParams({ address: address.input.value.trim() })}`);
    if (res.ok) render(res.data);
    else {
      result.replaceChildren();
      problem.textContent = errorText(res.error);
    }
  });
  root.append(el('p', { class: 'hint' }, t('admin.limits.hint')), form, result);
  // Arrived from an address in the audit log: look it up at once.
  const asked = new URLSearchParams(location.hash.split('?')[1] ?? '').get('address');
  if (asked) {
    address.input.value = asked;
    form.requestSubmit();
  }
}

void start();
