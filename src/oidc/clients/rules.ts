// What a registered client may say about itself: its name, where the provider may send a browser back
// to, where it is told of a logout, which grants it uses and who may sign in to it. Each refusal has a
// stable code and names the field, the same from the console, the API and the command line.
import type { Role } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { printableName } from '../../text/printable-name.js';
import type { ClientGrantType } from './types.js';

export const CLIENT_GRANT_TYPES: readonly ClientGrantType[] = ['authorization_code', 'refresh_token', 'client_credentials'];
export const CLIENT_ROLES: readonly Role[] = ['user', 'org_admin', 'admin'];
export const MAX_CLIENT_URIS = 20;
export const MAX_URI_LENGTH = 2000;
export const MAX_CLIENT_NAME_LENGTH = 100;

// http is for trying a client out on one machine (RFC 8252's loopback redirect): a browser's request
// to these names never leaves the machine, so nothing on the network sees the code in it.
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why the URI cannot be registered; undefined when it can. */
function uriProblem(uri: string): string | undefined {
  if (uri.length > MAX_URI_LENGTH) return `is longer than ${MAX_URI_LENGTH} characters`;
  // new URL() quietly drops tabs and newlines and trims spaces: the stored string must be the one
  // the provider compares byte for byte with what a client sends.
  if (/[\s\p{Cc}]/u.test(uri)) return 'holds spaces or control characters';
  // "https:host/path" parses too (the slashes are optional for special schemes), but is not what a client sends.
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(uri)) return 'is not an absolute URI (scheme://host/path)';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI (scheme://host/path)';
  }
  // "#" with nothing after it leaves url.hash empty: look at the string.
  if (uri.includes('#')) return 'has a fragment (#…), which a redirect URI must not';
  if (url.username || url.password) return 'holds a user name or password';
  if (url.hostname.includes('*')) return 'holds a wildcard: URIs are matched exactly, register each one';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname.toLowerCase())) return undefined;
  if (url.protocol === 'http:') return 'uses http: only https is allowed, or http on localhost, 127.0.0.1 or [::1]';
  return 'must use https (or http on localhost, 127.0.0.1 or [::1])';
}

/** Shown in an error: enough to recognize the URI, not a whole pasted page. */
function quoted(uri: string): string {
  return JSON.stringify(uri.length > 120 ? `${uri.slice(0, 120)}…` : uri);
}

/**
 * A list of redirect URIs (or post-logout redirect URIs) as stored: trimmed, each once, in the order
 * given; INVALID_REDIRECT_URI naming the field (body.redirect_uris) when one is not acceptable.
 */
export function redirectUriList(raw: readonly string[], field: 'redirect_uris' | 'post_logout_redirect_uris'): string[] {
  const uris = [...new Set(raw.map((uri) => uri.trim()))];
  const what = field === 'redirect_uris' ? 'redirect URI' : 'post-logout redirect URI';
  if (uris.length > MAX_CLIENT_URIS) throw new AppError('INVALID_REDIRECT_URI', { message: `At most ${MAX_CLIENT_URIS} ${what}s.`, details: { field: `body.${field}` } });
  for (const uri of uris) {
    const problem = uriProblem(uri);
    if (problem) throw new AppError('INVALID_REDIRECT_URI', { message: `The ${what} ${quoted(uri)} ${problem}.`, details: { field: `body.${field}` } });
  }
  return uris;
}

/** Where the provider posts a logout token (OpenID Connect Back-Channel Logout): the same rules as a redirect URI. */
export function backchannelLogoutUri(raw: string | null): string | null {
  if (raw === null) return null;
  const uri = raw.trim();
  const problem = uriProblem(uri);
  if (problem) throw new AppError('INVALID_CLIENT_METADATA', { message: `The back-channel logout URI ${quoted(uri)} ${problem}.`, details: { field: 'body.backchannel_logout_uri' } });
  return uri;
}

/** A client's name as stored and shown on the consent page: printable, 1-100 characters; INVALID_NAME otherwise. */
export function clientName(raw: string): string {
  const name = printableName(raw, MAX_CLIENT_NAME_LENGTH);
  if (!name) throw new AppError('INVALID_NAME', { message: `An app's name must be 1-${MAX_CLIENT_NAME_LENGTH} printable characters.`, details: { field: 'body.name' } });
  return name;
}

/**
 * The grants a client may use. Unless asked: a confidential client gets the authorization code flow,
 * refresh tokens and client credentials; a public one (no secret) the first two. A public client never
 * gets client credentials: without a secret, anyone could take tokens in its name.
 */
export function grantTypesFor(isPublic: boolean, asked?: readonly string[]): ClientGrantType[] {
  if (asked === undefined) return isPublic ? ['authorization_code', 'refresh_token'] : [...CLIENT_GRANT_TYPES];
  const unknown = asked.find((g) => !(CLIENT_GRANT_TYPES as readonly string[]).includes(g));
  if (unknown !== undefined || asked.length === 0) {
    throw new AppError('VALIDATION_FAILED', { message: `grant types must be one or more of ${CLIENT_GRANT_TYPES.join(', ')}${unknown !== undefined ? `; ${JSON.stringify(unknown)} is not one` : ''}`, details: { field: 'body.grant_types' } });
  }
  const chosen = CLIENT_GRANT_TYPES.filter((g) => asked.includes(g));
  if (isPublic && chosen.includes('client_credentials')) {
    throw new AppError('INVALID_CLIENT_METADATA', { message: 'A public client has no secret, so it cannot use client_credentials.', details: { field: 'body.grant_types' } });
  }
  if (chosen.includes('refresh_token') && !chosen.includes('authorization_code')) {
    throw new AppError('INVALID_CLIENT_METADATA', { message: 'refresh_token comes with authorization_code: a refresh token is issued only at a sign-in.', details: { field: 'body.grant_types' } });
  }
  return chosen;
}

/** A client that signs people in needs somewhere to send them back; one that only uses client credentials does not. */
export function requireRedirectWhereNeeded(grantTypes: readonly ClientGrantType[], redirectUris: readonly string[]): void {
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
    throw new AppError('INVALID_REDIRECT_URI', { message: 'At least one redirect URI is needed (only a client_credentials-only client has none).', details: { field: 'body.redirect_uris' } });
  }
}

/** Roles that may sign in: null for every role; VALIDATION_FAILED for an empty list or a role that does not exist. */
export function allowedRoleList(raw: readonly string[] | null): Role[] | null {
  if (raw === null) return null;
  const unknown = raw.find((r) => !(CLIENT_ROLES as readonly string[]).includes(r));
  if (unknown !== undefined || raw.length === 0) {
    throw new AppError('VALIDATION_FAILED', {
      message: `allowed roles must be one or more of ${CLIENT_ROLES.join(', ')} (or none given, for every role)${unknown !== undefined ? `; ${JSON.stringify(unknown)} is not one` : ''}`,
      details: { field: 'body.allowed_roles' },
    });
  }
  return CLIENT_ROLES.filter((r) => raw.includes(r));
}

/** Organization ids as stored: each once, ascending; VALIDATION_FAILED for an empty list (null means every organization). */
export function organizationIdList(raw: readonly number[] | null): number[] | null {
  if (raw === null) return null;
  if (raw.length === 0 || raw.some((id) => !Number.isSafeInteger(id) || id < 1)) {
    throw new AppError('VALIDATION_FAILED', { message: 'allowed organizations must be one or more organization ids (or none given, for every organization)', details: { field: 'body.allowed_organization_ids' } });
  }
  return [...new Set(raw)].sort((a, b) => a - b);
}
