// The console's "Apps" section: the school's other systems whose users sign in with their Gatehouse
// account (OpenID Connect clients). Registering one shows its secret once, with a copy button; a
// secret can be rotated, an app disabled, enabled again or deleted. Platform administrators only.
import type { ApiError } from '../api.js';
import { t, type MessageKey } from '../i18n.js';
import { el, errorText, field, formError, submitButton } from '../ui.js';
import { api, button, table, type Row } from './admin-parts.js';

interface Client {
  client_id: string;
  name: string;
  type: 'confidential' | 'public';
  redirect_uris: string[];
  first_party: boolean;
  allowed_organization_ids: number[] | null;
  allowed_roles: string[] | null;
  status: 'active' | 'disabled';
}

interface Organization {
  id: number;
  name: string;
}

const ROLE_NAMES: Record<string, MessageKey> = { user: 'admin.clients.role.user', org_admin: 'admin.clients.role.org_admin', admin: 'admin.clients.role.admin' };
const roleName = (role: string) => (ROLE_NAMES[role] ? t(ROLE_NAMES[role]) : role);

/** Codes whose server message names the URI or setting at fault (in English), said after the console's own words. */
const NAMED_BY_SERVER = new Set(['INVALID_REDIRECT_URI', 'INVALID_CLIENT_METADATA']);

function problemText(error: ApiError): string {
  // An app's name is limited like an organization's, not like a person's (which INVALID_NAME's usual words describe).
  if (error.code === 'INVALID_NAME') return t('admin.clients.name_invalid');
  return NAMED_BY_SERVER.has(error.code) ? `${errorText(error)} ${error.message}` : errorText(error);
}

/** A labelled text area of one URI per line, with a hint read along with it. */
function uriLines(name: string, labelKey: MessageKey, hintKey?: MessageKey): { row: HTMLElement; values: () => string[] } {
  const id = `f-${name}`;
  const hintId = `${id}-hint`;
  const area = el('textarea', { id, name, rows: '3', spellcheck: 'false', autocomplete: 'off', ...(hintKey ? { 'aria-describedby': hintId } : {}) });
  const row = el('div', { class: 'field' }, el('label', { for: id }, t(labelKey)), area, ...(hintKey ? [el('p', { id: hintId, class: 'hint' }, t(hintKey))] : []));
  return { row, values: () => area.value.split('\n').map((line) => line.trim()).filter(Boolean) };
}

/** Checkboxes in a fieldset; what is ticked, or null for nothing ticked (no limit). */
function choices(legendKey: MessageKey, name: string, options: ReadonlyArray<[string, string]>): { set: HTMLFieldSetElement; chosen: () => string[] | null } {
  const boxes = options.map(([value, label]) => el('label', { class: 'check' }, el('input', { type: 'checkbox', name, value }), ` ${label}`));
  const set = el('fieldset', {}, el('legend', {}, t(legendKey)), ...boxes);
  return {
    set,
    chosen: () => {
      const ticked = [...set.querySelectorAll<HTMLInputElement>('input:checked')].map((box) => box.value);
      return ticked.length > 0 ? ticked : null;
    },
  };
}

export async function appsSection(root: HTMLElement): Promise<void> {
  const orgsAnswer = await api<{ organizations: Organization[] }>('GET', '/api/admin/organizations');
  const organizations = orgsAnswer.ok ? orgsAnswer.data.organizations : [];
  const orgName = (id: number) => organizations.find((o) => o.id === id)?.name ?? `#${id}`;
  // Where a new secret is shown, once; focused when it appears, so that a keyboard user lands on it.
  const shown = el('div', { class: 'client-secret', role: 'status', tabindex: '-1' });
  const problem = formError();
  const list = el('div', { class: 'clients' });

  async function load(): Promise<void> {
    const res = await api<{ clients: Client[] }>('GET', '/api/admin/oidc/clients');
    if (!res.ok) return void (problem.textContent = errorText(res.error));
    const rows = res.data.clients.map(rowOf);
    list.replaceChildren(
      rows.length === 0
        ? el('p', { class: 'hint' }, t('admin.clients.none'))
        : table(['admin.clients.name', 'admin.clients.client_id', 'admin.clients.type', 'admin.clients.redirect_uris', 'admin.clients.access', 'admin.col.status', 'admin.col.actions'], rows),
    );
  }

  /** Sends an action on one app, after a confirmation when it asks one; the list is drawn again. */
  async function act<T>(method: string, path: string, confirmation?: string): Promise<T | undefined> {
    if (confirmation !== undefined && !confirm(confirmation)) return undefined;
    problem.textContent = '';
    const res = await api<T>(method, path);
    if (!res.ok) return void (problem.textContent = problemText(res.error));
    await load();
    return res.data;
  }

  function showCreated(client: Client, secret: string | null, said: MessageKey): void {
    const copied = el('span', { class: 'hint' });
    const parts: Node[] = [el('p', { class: 'success' }, t(said, { name: client.name })), el('p', {}, `${t('admin.clients.client_id')}: `, el('code', { class: 'client-id' }, client.client_id))];
    if (secret === null) parts.push(el('p', { class: 'hint' }, t('admin.clients.no_secret')));
    else {
      const copy = button('admin.clients.copy', async () => {
        await navigator.clipboard?.writeText(secret).catch(() => undefined);
        copied.textContent = t('admin.clients.copied');
      });
      parts.push(el('p', {}, t('admin.clients.secret_once')), el('p', {}, el('code', { class: 'new-secret' }, secret), ' ', copy, ' ', copied));
    }
    shown.replaceChildren(...parts);
    shown.focus();
  }

  function rowOf(client: Client): Row {
    const base = `/api/admin/oidc/clients/${encodeURIComponent(client.client_id)}`;
    const actions = el('span', { class: 'actions' });
    if (client.type === 'confidential') {
      actions.append(
        button('admin.clients.rotate', async () => {
          const rotated = await act<{ client: Client; client_secret: string }>('POST', `${base}/rotate-secret`, t('admin.clients.rotate_confirm', { name: client.name }));
          if (rotated) showCreated(rotated.client, rotated.client_secret, 'admin.clients.rotated');
        }),
      );
    }
    actions.append(
      client.status === 'active'
        ? button('admin.clients.disable', () => act('POST', `${base}/disable`, t('admin.clients.disable_confirm', { name: client.name })))
        : button('admin.clients.enable', () => act('POST', `${base}/enable`)),
      button('admin.clients.delete', () => act('DELETE', base, t('admin.clients.delete_confirm', { name: client.name })), { class: 'danger small' }),
    );
    const kind = t(client.type === 'public' ? 'admin.clients.public' : 'admin.clients.confidential') + (client.first_party ? ` · ${t('admin.clients.first_party')}` : '');
    const access = t('admin.clients.orgs_roles', {
      orgs: client.allowed_organization_ids?.map(orgName).join('、') ?? t('admin.clients.every_org'),
      roles: client.allowed_roles?.map(roleName).join('、') ?? t('admin.clients.every_role'),
    });
    const uris = el('ul', { class: 'uris' }, ...client.redirect_uris.map((uri) => el('li', {}, el('code', {}, uri))));
    return [client.name, el('code', { class: 'client-id' }, client.client_id), kind, uris, access, t(client.status === 'active' ? 'admin.status.active' : 'admin.status.disabled'), actions];
  }

  const name = field('client-name', 'admin.clients.name', { required: '', maxlength: '100' });
  const redirects = uriLines('client-redirect-uris', 'admin.clients.redirect_uris', 'admin.clients.redirect_uris_hint');
  const postLogout = uriLines('client-post-logout-uris', 'admin.clients.post_logout_uris');
  const backchannel = field('client-backchannel', 'admin.clients.backchannel_uri', { spellcheck: 'false', autocomplete: 'off' });
  const isPublic = el('input', { type: 'checkbox', id: 'f-client-public' });
  const firstParty = el('input', { type: 'checkbox', id: 'f-client-first-party' });
  const roles = choices('admin.clients.roles_legend', 'client-role', Object.keys(ROLE_NAMES).map((role) => [role, roleName(role)]));
  const orgs = choices('admin.clients.orgs_legend', 'client-org', organizations.map((o) => [String(o.id), o.name]));
  const formProblem = formError();
  const form = el(
    'form',
    { class: 'client-create' },
    formProblem,
    name.row,
    redirects.row,
    postLogout.row,
    backchannel.row,
    el('p', {}, el('label', { class: 'check' }, isPublic, ` ${t('admin.clients.public_label')}`)),
    el('p', {}, el('label', { class: 'check' }, firstParty, ` ${t('admin.clients.first_party_label')}`)),
    roles.set,
    orgs.set,
    submitButton('admin.clients.create'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    formProblem.textContent = '';
    const created = await api<{ client: Client; client_secret: string | null }>('POST', '/api/admin/oidc/clients', {
      name: name.input.value,
      redirect_uris: redirects.values(),
      post_logout_redirect_uris: postLogout.values(),
      ...(backchannel.input.value.trim() ? { backchannel_logout_uri: backchannel.input.value.trim() } : {}),
      public: isPublic.checked,
      first_party: firstParty.checked,
      allowed_roles: roles.chosen(),
      allowed_organization_ids: orgs.chosen()?.map(Number) ?? null,
    });
    if (!created.ok) return void (formProblem.textContent = problemText(created.error));
    form.reset();
    await load();
    showCreated(created.data.client, created.data.client_secret, 'admin.clients.created');
  });

  root.append(el('p', { class: 'hint' }, t('admin.clients.hint')), shown, problem, list, el('h3', {}, t('admin.clients.create')), form);
  await load();
}
