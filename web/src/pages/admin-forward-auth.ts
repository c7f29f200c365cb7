// The console's forward-auth section (platform administrators): which organizations and roles may
// enter each host that a proxy protects with Gatehouse; a host without a rule is refused to everyone.
import { t, type MessageKey } from '../i18n.js';
import { el, errorText, field, formError, submitButton } from '../ui.js';
import { api, button, table, type Row } from './admin-parts.js';

interface Rule {
  host: string;
  allowed_organization_ids: number[] | null;
  allowed_roles: string[] | null;
}

const ROLES: ReadonlyArray<[string, MessageKey]> = [
  ['user', 'admin.fa.role.user'],
  ['org_admin', 'admin.fa.role.org_admin'],
  ['admin', 'admin.fa.role.admin'],
];

/** A fieldset of checkboxes; none ticked means "any" (null). */
function choices(legend: MessageKey, name: string, options: Array<[string, string]>): { set: HTMLFieldSetElement; chosen: () => string[] | null } {
  const set = el(
    'fieldset',
    { class: 'choices' },
    el('legend', {}, t(legend)),
    ...options.map(([value, label]) => el('label', { class: 'check' }, el('input', { type: 'checkbox', name, value, id: `f-fa-${name}-${value}` }), ` ${label}`)),
  );
  return {
    set,
    chosen: () => {
      const ticked = [...set.querySelectorAll<HTMLInputElement>('input:checked')].map((input) => input.value);
      return ticked.length === 0 ? null : ticked;
    },
  };
}

export async function forwardAuthSection(root: HTMLElement): Promise<void> {
  const orgs = await api<{ organizations: Array<{ id: number; name: string }> }>('GET', '/api/admin/organizations');
  const organizations = orgs.ok ? orgs.data.organizations : [];
  const orgName = (id: number) => organizations.find((o) => o.id === id)?.name ?? `#${id}`;
  const roleName = (role: string) => t(ROLES.find(([r]) => r === role)?.[1] ?? 'admin.fa.role.user');
  const problem = formError();
  const list = el('div', { class: 'forward-auth-rules' });

  async function load(): Promise<void> {
    const res = await api<{ rules: Rule[] }>('GET', '/api/admin/forward-auth/rules');
    if (!res.ok) return void (problem.textContent = errorText(res.error));
    const rows = res.data.rules.map((rule): Row => [
      el('code', { class: 'fa-host' }, rule.host),
      rule.allowed_organization_ids === null ? t('admin.fa.any_org') : rule.allowed_organization_ids.map(orgName).join('、'),
      rule.allowed_roles === null ? t('admin.fa.any_role') : rule.allowed_roles.map(roleName).join('、'),
      button('admin.fa.remove', async () => {
        if (!confirm(t('admin.fa.remove_confirm', { host: rule.host }))) return;
        problem.textContent = '';
        const removed = await api('DELETE', `/api/admin/forward-auth/rules/${encodeURIComponent(rule.host)}`);
        if (!removed.ok) return void (problem.textContent = errorText(removed.error));
        await load();
      }),
    ]);
    list.replaceChildren(rows.length === 0 ? el('p', { class: 'hint fa-none' }, t('admin.fa.none')) : table(['admin.fa.host', 'admin.fa.orgs', 'admin.fa.roles', 'admin.col.actions'], rows));
  }

  const host = field('fa-host', 'admin.fa.host_field', { required: '', maxlength: '262', placeholder: 'app.school.cn', autocomplete: 'off', spellcheck: 'false' });
  const orgChoices = choices('admin.fa.orgs_legend', 'org', organizations.map((o) => [String(o.id), o.name]));
  const roleChoices = choices('admin.fa.roles_legend', 'role', ROLES.map(([role, key]) => [role, t(key)]));
  const formProblem = formError();
  const form = el('form', { class: 'forward-auth-rule' }, formProblem, host.row, orgChoices.set, roleChoices.set, submitButton('admin.fa.save'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    formProblem.textContent = '';
    const ids = orgChoices.chosen();
    const saved = await api('PUT', `/api/admin/forward-auth/rules/${encodeURIComponent(host.input.value.trim())}`, {
      allowed_organization_ids: ids === null ? null : ids.map(Number),
      allowed_roles: roleChoices.chosen(),
    });
    if (!saved.ok) return void (formProblem.textContent = errorText(saved.error));
    form.reset();
    await load();
  });
  await load();
  root.append(el('p', { class: 'hint' }, t('admin.fa.hint')), problem, list, el('h3', {}, t('admin.fa.add')), form);
}
