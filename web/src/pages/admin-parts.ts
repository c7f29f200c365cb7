// What the console's sections share: calls that may first ask the admin to confirm it is them, tables
// and small action buttons.
import { api as send } from '../api.js';
import { t, type MessageKey } from '../i18n.js';
import { withReauth } from '../reauth.js';
import { el } from '../ui.js';

export type Row = Array<Node | string>;

/** Every call of the console: a sensitive one may first ask the admin to confirm it is them (REAUTHENTICATION_REQUIRED). */
export function api<T = unknown>(method: string, path: string, body?: unknown) {
  return withReauth(() => send<T>(method, path, body));
}

export function table(headers: MessageKey[], rows: Row[]): HTMLTableElement {
  const head = el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, t(h))));
  return el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c))))));
}

export function button(key: MessageKey, onClick: () => Promise<unknown>, extra: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', class: 'secondary small', ...extra }, t(key));
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await onClick();
    } finally {
      b.disabled = false;
    }
  });
  return b;
}
