// The upstream sign-in providers (WeChat, WeCom, DingTalk, Feishu, an OpenID Connect system) as the
// pages show them: their names in the page's language, which of them this browser can use, the start
// of a sign-in, and what a failed sign-in's code means. Shared by the login page, the page that
// finishes a sign-in, and the account page's linked accounts.
import { api } from './api.js';
import { hasMessage, t, type MessageKey } from './i18n.js';
import { el } from './ui.js';

/** An enabled provider, from GET /api/auth/providers; `display_name` is the administrator's label (OpenID Connect only). */
export interface OfferedProvider {
  name: string;
  display_name: string | null;
}

const NAMES: Record<string, MessageKey> = {
  wechat: 'provider.name.wechat',
  wechat_mp: 'provider.name.wechat_mp',
  wecom: 'provider.name.wecom',
  dingtalk: 'provider.name.dingtalk',
  feishu: 'provider.name.feishu',
  oidc: 'provider.name.oidc',
};

/** Whether a name from outside (a URL, an answer) is one of a table's own keys — not "constructor" and the like. */
const known = (table: Record<string, MessageKey>, name: string): boolean => Object.hasOwn(table, name);

/** A provider's name in words: the administrator's label when there is one, else ours in the page's language. */
export function providerLabel(name: string, displayName?: string | null): string {
  if (displayName) return displayName;
  return known(NAMES, name) ? t(NAMES[name]!) : name;
}

/** The same, taking the administrator's label from the offered list (an identity names the provider only). */
export function labelAmong(name: string, offered: readonly OfferedProvider[]): string {
  return providerLabel(name, offered.find((p) => p.name === name)?.display_name);
}

/**
 * A provider named by the page's URL, in words; null for a name we do not know: anyone can write a
 * URL, and the page must not say what a stranger put there.
 */
export function namedInUrl(name: string | undefined, offered: readonly OfferedProvider[]): string | null {
  return name && known(NAMES, name) ? labelAmong(name, offered) : null;
}

let asked: Promise<OfferedProvider[]> | undefined;

/** The enabled providers in the administrator's order, asked once per page load; none when the server could not say. */
export function offeredProviders(): Promise<OfferedProvider[]> {
  asked ??= api<{ providers: Array<{ name: string; display_name?: string | null }> }>('GET', '/api/auth/providers').then((res) =>
    res.ok ? res.data.providers.map((p) => ({ name: p.name, display_name: p.display_name ?? null })) : [],
  );
  return asked;
}

/**
 * The providers this browser can use. The Official Account sign-in (wechat_mp) works only inside
 * WeChat's own browser; there it replaces the QR-code page (wechat), which asks to scan with the very
 * phone the page is open on.
 */
export function usableHere(offered: readonly OfferedProvider[], userAgent: string): OfferedProvider[] {
  const inWeChat = /MicroMessenger/i.test(userAgent);
  const hasInApp = offered.some((p) => p.name === 'wechat_mp');
  return offered.filter((p) => (p.name === 'wechat_mp' ? inWeChat : p.name === 'wechat' ? !(inWeChat && hasInApp) : true));
}

/** Where a browser starts signing in with a provider; once signed in, it goes on to `returnTo`. */
export function startPath(name: string, returnTo: string): string {
  return `/api/auth/providers/${encodeURIComponent(name)}/start?${new URLSearchParams({ return_to: returnTo })}`;
}

const FAILURES: Record<string, MessageKey> = {
  UPSTREAM_STATE_INVALID: 'provider.error.UPSTREAM_STATE_INVALID',
  UPSTREAM_DENIED: 'provider.error.UPSTREAM_DENIED',
  UPSTREAM_CODE_INVALID: 'provider.error.UPSTREAM_CODE_INVALID',
  UPSTREAM_UNAVAILABLE: 'provider.error.UPSTREAM_UNAVAILABLE',
  UPSTREAM_BAD_RESPONSE: 'provider.error.UPSTREAM_BAD_RESPONSE',
  ACCOUNT_DISABLED: 'provider.error.ACCOUNT_DISABLED',
  SIGN_IN_PROVIDER_NOT_FOUND: 'provider.error.SIGN_IN_PROVIDER_NOT_FOUND',
  IDENTITY_TAKEN: 'provider.error.IDENTITY_TAKEN',
  RATE_LIMITED: 'provider.error.RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'provider.error.SERVICE_UNAVAILABLE',
  STORE_UNAVAILABLE: 'provider.error.SERVICE_UNAVAILABLE',
};

/**
 * What went wrong with a sign-in (or a linking) at a provider, from the code the server put in the
 * URL; without the provider's name, the code's general words.
 */
export function failureText(code: string, provider: string | null): string {
  const key = known(FAILURES, code) ? FAILURES[code] : undefined;
  if (provider) return t(key ?? 'provider.error.other', { provider });
  const general = `code.${code}`;
  return key && hasMessage(general) ? t(general) : t('provider.error.other_unnamed');
}

/**
 * Reads the named parameters of the page's URL and takes them out of the address bar, so that a
 * reload or a bookmark does not tell the same news again; the other parameters (return_to) stay.
 */
export function takeFromUrl<K extends string>(...names: K[]): Partial<Record<K, string>> {
  const url = new URL(location.href);
  const taken: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value = url.searchParams.get(name);
    if (value !== null) taken[name] = value;
    url.searchParams.delete(name);
  }
  if (url.href !== location.href) history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  return taken;
}

/**
 * A profile picture from the provider, when it gave one over https. Pictures on the provider's host
 * may be refused (the page's CSP, the host's rules): the picture then goes away rather than showing a
 * broken image.
 */
export function avatar(url: string | null | undefined, alt: string): HTMLImageElement | null {
  if (!url || !url.startsWith('https://')) return null;
  const image = el('img', { class: 'avatar', src: url, alt, width: '48', height: '48', referrerpolicy: 'no-referrer' });
  image.addEventListener('error', () => image.remove());
  return image;
}
