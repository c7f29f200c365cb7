// The consent page: a third-party app asks a signed-in user to use their account (OpenID Connect).
// The server sends this page at /interaction/:uid; the page shows what the app asks for and sends
// the user's answer, and the server says where the browser goes next (back to the app).
import { api } from '../api.js';
import { lang, t } from '../i18n.js';
import { signInPath } from '../return-to.js';
import { scopeLines } from '../scopes.js';
import { el, errorText, formError, frame } from '../ui.js';

interface InteractionDetails {
  client: { client_id: string; name: string };
  /** The scopes the app asks for that the user has not granted it yet. */
  scopes: string[];
  user: { name: string };
}

const section = frame('consent.title');
const content = el('div', { class: 'consent' });
section.append(content);
// The request's own address, without anything after its id (a trailing slash, say).
const interaction = /^\/interaction\/[^/]+/.exec(location.pathname)?.[0];

/** Something stands in the way: say what, and offer a way on (never a blank page). Returns the way on. */
function stop(text: string): HTMLAnchorElement {
  const problem = formError();
  problem.textContent = text;
  const wayOn = el('a', { href: '/account' }, t('nav.account'));
  content.replaceChildren(problem, el('p', {}, wayOn));
  return wayOn;
}

/** The request is unknown or has expired: the app has to start again. */
function expired(): HTMLAnchorElement {
  return stop(t('code.INTERACTION_NOT_FOUND'));
}

/** The session ended meanwhile: sign in, then come back to this request. */
function signIn(path: string): void {
  location.assign(signInPath(path));
}

function ask(path: string, details: InteractionDetails): void {
  const problem = formError();
  const allow = el('button', { type: 'button', class: 'primary' }, t('consent.allow'));
  const deny = el('button', { type: 'button', class: 'secondary' }, t('consent.deny'));
  // Someone else's session on a shared computer: sign out, and the request asks who is there again.
  const signOut = el('button', { type: 'button', class: 'link' }, t('consent.not_you'));
  signOut.addEventListener('click', async () => {
    signOut.disabled = true;
    await api('POST', '/api/auth/logout');
    location.assign(path);
  });
  const lines = scopeLines(details.scopes, lang);
  content.replaceChildren(
    el('p', { class: 'consent-asks' }, t('consent.asks', { app: details.client.name })),
    ...(lines.length ? [el('ul', { class: 'scopes' }, ...lines.map((line) => el('li', {}, line)))] : []),
    el('p', { class: 'hint' }, t('nav.signed_in_as', { name: details.user.name }), ' ', signOut),
    problem,
    el('div', { class: 'consent-actions' }, allow, deny),
    el('p', { class: 'hint' }, t('consent.later')),
  );

  async function answer(allowed: boolean, button: HTMLButtonElement): Promise<void> {
    problem.textContent = '';
    // One answer: a second click while the first is on its way would find the request answered.
    allow.disabled = deny.disabled = true;
    const res = await api<{ redirect_to: string }>('POST', `${path}/consent`, { allow: allowed });
    if (res.ok) return location.assign(res.data.redirect_to);
    if (res.error.code === 'UNAUTHENTICATED') return signIn(path);
    // The buttons go with the request; the keyboard goes on from the way out.
    if (res.error.status === 404) return expired().focus();
    allow.disabled = deny.disabled = false;
    problem.textContent = errorText(res.error);
    // Back where the keyboard was: disabling the button took the focus away.
    button.focus();
  }
  allow.addEventListener('click', () => void answer(true, allow));
  deny.addEventListener('click', () => void answer(false, deny));
}

async function load(): Promise<void> {
  if (!interaction) return void expired();
  const res = await api<InteractionDetails>('GET', `${interaction}/details`);
  if (res.ok) return ask(interaction, res.data);
  if (res.error.code === 'UNAUTHENTICATED') return signIn(interaction);
  if (res.error.status === 404) return void expired();
  stop(errorText(res.error));
}

void load();
