// What an administrator may say about a sign-in provider: which providers exist, its app id and
// secret, its endpoint bases and its extra settings. Each refusal has a stable code and names the
// field, the same from the console, the API and the command line.
import { AppError } from '../errors.js';
import type { ProviderName } from './types.js';

/** Every provider Gatehouse knows, in the order the login page and the console show them. */
export const PROVIDER_NAMES = ['wechat', 'wechat_mp', 'wecom', 'dingtalk', 'feishu', 'oidc'] as const satisfies readonly ProviderName[];
// A compile-time check that the list names every ProviderName (adding one to types.ts fails here until listed).
const everyName: Record<ProviderName, true> = Object.fromEntries(PROVIDER_NAMES.map((n) => [n, true])) as Record<(typeof PROVIDER_NAMES)[number], true>;
void everyName;

export const MAX_APP_ID_LENGTH = 200;
export const MAX_APP_SECRET_LENGTH = 500;
export const MAX_BASE_URL_LENGTH = 2000;
export const MAX_EXTRA_VALUE_LENGTH = 500;

/** The extra settings each provider takes, and which of them it cannot work without. */
export const PROVIDER_EXTRAS: Readonly<Record<ProviderName, { readonly keys: readonly string[]; readonly required: readonly string[] }>> = {
  wechat: { keys: [], required: [] },
  // An Official Account's web authorization: snsapi_userinfo (the default) or snsapi_base.
  wechat_mp: { keys: ['scope'], required: [] },
  // WeCom's app id is the corp id (unless corp_id says otherwise); its web login also names the application (agentid).
  wecom: { keys: ['agent_id', 'corp_id'], required: ['agent_id'] },
  dingtalk: { keys: [], required: [] },
  feishu: { keys: [], required: [] },
  // Discovery starts at the issuer; scopes default to "openid profile" in the adapter;
  // display_name labels its button on the login page (the school's name for its identity system).
  oidc: { keys: ['issuer', 'scopes', 'display_name'], required: ['issuer'] },
};

const WECHAT_MP_SCOPES: readonly string[] = ['snsapi_userinfo', 'snsapi_base'];

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

const invalid = (field: string, message: string) => new AppError('INVALID_SIGN_IN_PROVIDER_SETTINGS', { message, details: { field } });

export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

/** The name as a ProviderName; SIGN_IN_PROVIDER_NOT_FOUND for one Gatehouse does not know. */
export function providerName(name: string): ProviderName {
  if (isProviderName(name)) return name;
  throw new AppError('SIGN_IN_PROVIDER_NOT_FOUND', { message: `Gatehouse knows no sign-in provider ${JSON.stringify(name.slice(0, 64))}: it knows ${PROVIDER_NAMES.join(', ')}.` });
}

/** Printable text without spaces at either end; refused when empty or longer than `max`. */
function text(raw: string, field: string, what: string, max: number): string {
  const value = raw.trim();
  if (value === '') throw invalid(field, `Give the ${what}.`);
  if (value.length > max) throw invalid(field, `The ${what} is longer than ${max} characters.`);
  if (/\p{Cc}/u.test(value)) throw invalid(field, `The ${what} holds control characters.`);
  return value;
}

export const appId = (raw: string) => text(raw, 'app_id', 'app id', MAX_APP_ID_LENGTH);
export const appSecret = (raw: string) => text(raw, 'app_secret', 'app secret', MAX_APP_SECRET_LENGTH);

/**
 * A base URL as stored (trimmed, without a trailing slash), or null for the provider's default. The
 * server sends the app secret and codes there, and browsers are sent there: https only, but for a
 * stand-in on the same machine (tests, a local proxy), whose traffic never leaves it.
 */
export function baseUrl(raw: string | null | undefined, field: 'authorize_url' | 'api_url'): string | null {
  if (raw === null || raw === undefined || raw.trim() === '') return null;
  const value = raw.trim();
  if (value.length > MAX_BASE_URL_LENGTH) throw invalid(field, `The ${field} is longer than ${MAX_BASE_URL_LENGTH} characters.`);
  if (/[\s\p{Cc}]/u.test(value) || !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) throw invalid(field, `The ${field} is not an absolute URL (https://host/path).`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, `The ${field} is not an absolute URL (https://host/path).`);
  }
  if (url.username || url.password) throw invalid(field, `The ${field} holds a user name or password.`);
  if (url.search || url.hash || value.includes('#') || value.includes('?')) throw invalid(field, `The ${field} is a base: no query or fragment.`);
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname.toLowerCase());
  if (url.protocol !== 'https:' && !loopbackHttp) throw invalid(field, `The ${field} must use https (http only on localhost, 127.0.0.1 or [::1]).`);
  return value.replace(/\/+$/, '');
}

/** The provider's extra settings as stored; refused when a key is not one it takes, a value is empty, or a required one is missing. */
export function extraSettings(name: ProviderName, raw: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const { keys, required } = PROVIDER_EXTRAS[name];
  const extra: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (!keys.includes(key)) {
      throw invalid('extra', keys.length === 0 ? `${name} takes no extra settings (given ${JSON.stringify(key.slice(0, 64))}).` : `${name} takes only ${keys.join(', ')} as extra settings (given ${JSON.stringify(key.slice(0, 64))}).`);
    }
    if (typeof value !== 'string') throw invalid('extra', `The extra setting ${key} must be text.`);
    extra[key] = text(value, 'extra', `extra setting ${key}`, MAX_EXTRA_VALUE_LENGTH);
  }
  for (const key of required) if (!(key in extra)) throw invalid('extra', `${name} needs the extra setting ${key}.`);
  if (name === 'oidc') baseUrlOf(extra.issuer!, 'extra');
  if (name === 'wechat_mp' && extra.scope !== undefined && !WECHAT_MP_SCOPES.includes(extra.scope)) throw invalid('extra', `wechat_mp's scope is ${WECHAT_MP_SCOPES.join(' or ')}.`);
  return extra;
}

/** An OIDC issuer is a URL under the same rules as the bases (it is where discovery is fetched). */
function baseUrlOf(value: string, field: 'extra'): void {
  try {
    baseUrl(value, 'api_url');
  } catch {
    throw invalid(field, `The issuer ${JSON.stringify(value.slice(0, 120))} must be an absolute https URL (http only on localhost, 127.0.0.1 or [::1]).`);
  }
}
