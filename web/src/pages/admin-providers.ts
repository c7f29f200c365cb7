// The console's sign-in providers section (platform administrators): which upstream providers
// (WeChat, WeCom, DingTalk, Feishu, any OpenID Connect provider) the login page offers, and their
// settings. The app secret is write-only: the server says whether one is set, never what it is.
import type { ApiError } from '../api.js';
import { t, type MessageKey } from '../i18n.js';
import { el, errorText, field, formError, submitButton } from '../ui.js';
import { api, button, table, type Row } from './admin-parts.js';

interface Provider {
  name: string;
  configured: boolean;
  enabled: boolean;
  app_id: string | null;
  app_secret_set: boolean;
  authorize_url: string | null;
  api_url: string | null;
  extra: Record<string, string>;
  bound_organization_id: number | null;
}

const NAMES: Record<string, MessageKey> = {
  wechat: 'admin.providers.name.wechat',
  wechat_mp: 'admin.providers.name.wechat_mp',
  wecom: 'admin.providers.name.wecom',
  dingtalk: 'admin.providers.name.dingtalk',
  feishu: 'admin.providers.name.feishu',
  oidc: 'admin.providers.name.oidc',
};
const nameOf = (name: string) => (NAMES[name] ? t(NAMES[name]) : name);

/** Codes whose server message names the setting at fault (in English), said after the console's own words. */
function problemText(error: ApiError): string {
  return error.code === 'INVALID_SIGN_IN_PROVIDER_SETTINGS' ? `${errorText(error)} ${error.message}` : errorText(error);
}

/** key=value lines as an object; blank lines are skipped. */
function extraOf(text: string): Record<string, string> {
  const extra: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf('=');
    if (at < 1) extra[line] = '';
    else extra[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return extra;
}

export async function providersSection(root: HTMLElement): Promise<void> {
  const orgs = await api<{ organizations: Array<{ id: number; name: string }> }>('GET', '/api/admin/organizations');
  const organizations = orgs.ok ? orgs.data.organizations : [];
  const orgName = (id: number) => organizations.find((o) => o.id === id)?.name ?? `#${id}`;
  const problem = formError();
  const list = el('div', { class: 'sign-in-providers' });
  let providers: Provider[] = [];

  // The form: which provider, its app id, a write-only secret, its base URLs, extras and organization.
  const nameSelect = el('select', { id: 'f-provider-name', name: 'provider-name' }, ...Object.keys(NAMES).map((name) => el('option', { value: name }, nameOf(name))));
  const nameRow = el('div', { class: 'field' }, el('label', { for: 'f-provider-name' }, t('admin.providers.provider')), nameSelect);
  const appId = field('provider-app-id', 'admin.providers.app_id', { required: '', maxlength: '200', autocomplete: 'off', spellcheck: 'false' });
  const secret = field('provider-secret', 'admin.providers.secret', { type: 'password', maxlength: '500', autocomplete: 'new-password', 'aria-describedby': 'f-provider-secret-error f-provider-secret-hint' });
  secret.row.append(el('p', { id: 'f-provider-secret-hint', class: 'hint' }, t('admin.providers.secret_hint')));
  const authorizeUrl = field('provider-authorize-url', 'admin.providers.authorize_url', { type: 'url', maxlength: '2000', autocomplete: 'off', spellcheck: 'false', placeholder: t('admin.providers.default_url') });
  const apiUrl = field('provider-api-url', 'admin.providers.api_url', { type: 'url', maxlength: '2000', autocomplete: 'off', spellcheck: 'false', placeholder: t('admin.providers.default_url') });
  const extra = el('textarea', { id: 'f-provider-extra', name: 'provider-extra', rows: '2', spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'f-provider-extra-hint' });
  const extraRow = el('div', { class: 'field' }, el('label', { for: 'f-provider-extra' }, t('admin.providers.extra')), extra, el('p', { id: 'f-provider-extra-hint', class: 'hint' }, t('admin.providers.extra_hint')));
  const orgSelect = el(
    'select',
    { id: 'f-provider-org', name: 'provider-org', 'aria-describedby': 'f-provider-org-hint' },
    el('option', { value: '' }, t('admin.providers.no_org')),
    ...organizations.map((o) => el('option', { value: String(o.id) }, o.name)),
  );
  const orgRow = el('div', { class: 'field' }, el('label', { for: 'f-provider-org' }, t('admin.providers.org')), orgSelect, el('p', { id: 'f-provider-org-hint', class: 'hint' }, t('admin.providers.org_hint')));
  const formProblem = formError();
  const form = el('form', { class: 'sign-in-provider' }, formProblem, nameRow, appId.row, secret.row, authorizeUrl.row, apiUrl.row, extraRow, orgRow, submitButton('admin.providers.save'));

  /** Fills the form with a provider's settings (never its secret), to change them. */
  function edit(p: Provider): void {
    nameSelect.value = p.name;
    appId.input.value = p.app_id ?? '';
    secret.input.value = '';
    authorizeUrl.input.value = p.authorize_url ?? '';
    apiUrl.input.value = p.api_url ?? '';
    extra.value = Object.entries(p.extra).map(([k, v]) => `${k}=${v}`).join('\n');
    orgSelect.value = p.bound_organization_id === null ? '' : String(p.bound_organization_id);
    appId.input.focus();
  }

  async function load(): Promise<void> {
    const res = await api<{ providers: Provider[] }>('GET', '/api/admin/sign-in-providers');
    if (!res.ok) return void (problem.textContent = errorText(res.error));
    providers = res.data.providers;
    const rows = providers.map((p): Row => {
      const toggle = async (action: 'enable' | 'disable') => {
        problem.textContent = '';
        const done = await api('POST', `/api/admin/sign-in-providers/${p.name}/${action}`);
        if (!done.ok) return void (problem.textContent = errorText(done.error));
        await load();
      };
      const actions = el('span', { class: 'actions' });
      if (!p.configured) {
        actions.append(button('admin.providers.set_up', async () => edit(p), { 'aria-label': t('admin.providers.set_up_named', { name: nameOf(p.name) }) }));
      } else {
        actions.append(
          button('admin.providers.edit', async () => edit(p), { 'aria-label': t('admin.providers.edit_named', { name: nameOf(p.name) }) }),
          p.enabled
            ? button('admin.providers.disable', () => toggle('disable'), { 'aria-label': t('admin.providers.disable_named', { name: nameOf(p.name) }) })
            : button('admin.providers.enable', () => toggle('enable'), { 'aria-label': t('admin.providers.enable_named', { name: nameOf(p.name) }) }),
        );
      }
      return [
        nameOf(p.name),
        t(!p.configured ? 'admin.providers.not_set_up' : p.enabled ? 'admin.providers.enabled' : 'admin.providers.disabled'),
        p.app_id === null ? '—' : el('code', {}, p.app_id),
        p.bound_organization_id === null ? t('admin.providers.no_org_short') : orgName(p.bound_organization_id),
        actions,
      ];
    });
    list.replaceChildren(table(['admin.providers.provider', 'admin.providers.status', 'admin.providers.app_id', 'admin.providers.org', 'admin.col.actions'], rows));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    formProblem.textContent = '';
    const name = nameSelect.value;
    const saved = await api('PUT', `/api/admin/sign-in-providers/${encodeURIComponent(name)}`, {
      app_id: appId.input.value.trim(),
      ...(secret.input.value === '' ? {} : { app_secret: secret.input.value }),
      authorize_url: authorizeUrl.input.value.trim() || null,
      api_url: apiUrl.input.value.trim() || null,
      extra: extraOf(extra.value),
      bound_organization_id: orgSelect.value === '' ? null : Number(orgSelect.value),
    });
    if (!saved.ok) return void (formProblem.textContent = problemText(saved.error));
    form.reset();
    await load();
  });

  await load();
  root.append(el('p', { class: 'hint' }, t('admin.providers.hint')), problem, list, el('h3', {}, t('admin.providers.set')), form);
}
