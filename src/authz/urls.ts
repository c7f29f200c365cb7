// The URLs forward auth deals in, each read one strict way: the host a rule protects, the original
// URL a proxy reports, and the return URL a visitor is sent back to after signing in. Everything is
// compared and sent on in the WHATWG URL parser's serialization (lower case, punycode, no default
// port), never as the raw text, so that what is checked is what the browser goes to.
import { AppError } from '../errors.js';

/** Longest return URL accepted; longer ones are cut back to their origin (see loginUrl). */
export const MAX_RETURN_URL_LENGTH = 4096;

const HOSTNAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV6_LITERAL = /^\[[0-9a-f:.]+\]$/;

/** Whether a hostname is this machine's: http (no TLS) is accepted for these only. */
export function isLoopbackHostname(hostname: string): boolean {
  // *.localhost is loopback by RFC 6761, and browsers treat it so.
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === '[::1]';
}

/**
 * A protected host as a rule names it: a host name (or address) and a port when not the default,
 * as a browser's address bar shows it; no scheme, path, user name or wildcard. INVALID_HOST otherwise.
 */
export function normalizeRuleHost(raw: string): string {
  const value = raw.trim();
  const invalid = () => new AppError('INVALID_HOST', { message: `"${value.slice(0, 100)}" is not a host: give a host name with an optional port, such as app.school.cn or app.school.cn:8443 (no scheme, path or wildcard).` });
  // No character that would end the authority or smuggle in another (user info, path, query, fragment, backslash), and no wildcard.
  if (value === '' || value.length > 262 || /[\s/\\?#@*%]/.test(value)) throw invalid();
  let url: URL;
  try {
    url = new URL(`http://${value}`);
  } catch {
    throw invalid();
  }
  if (!(HOSTNAME.test(url.hostname) || IPV6_LITERAL.test(url.hostname)) || url.username || url.password || url.pathname !== '/') throw invalid();
  // http:// dropped :80; https's default port goes too, so that app:443 and app are one host.
  return url.host.replace(/:443$/, '');
}

/** An absolute http(s) URL, parsed; null for anything else. */
function parseHttpUrl(raw: string): URL | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
}

/** The request a proxy asks about, as it reports it. */
export interface OriginalRequest {
  /** The URL, serialized by the URL parser. */
  url: string;
  /** Its host as rules name hosts (normalizeRuleHost's form). */
  host: string;
}

function originalFrom(url: URL | null): OriginalRequest | null {
  if (!url || url.username || url.password) return null;
  return { url: url.href, host: url.host.replace(/:443$/, '') };
}

/** nginx auth_request: X-Original-URL, the whole URL (`$scheme://$http_host$request_uri`). */
export function originalFromUrlHeader(header: string | undefined): OriginalRequest | null {
  return header ? originalFrom(parseHttpUrl(header)) : null;
}

/** Traefik's ForwardAuth and Caddy's forward_auth: X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri. */
export function originalFromForwardedHeaders(proto: string | undefined, host: string | undefined, uri: string | undefined): OriginalRequest | null {
  if (!proto || !host) return null;
  const scheme = proto.trim().toLowerCase();
  const path = uri ?? '/';
  // The host is one authority (not a list, no user info), the URI a path: neither may reach into the other.
  if ((scheme !== 'https' && scheme !== 'http') || /[\s/\\?#@,]/.test(host) || !path.startsWith('/')) return null;
  return originalFrom(parseHttpUrl(`${scheme}://${host}${path}`));
}

/**
 * The URL to send a visitor back to after signing in, when `raw` is one: an absolute https URL (http
 * only on a loopback host) with no user info, on a host that has a forward-auth rule; null otherwise.
 * Only printable ASCII passes: a browser-made URL is ASCII (its host in punycode), and what is not —
 * a backslash, a tab or newline, a look-alike letter of another script — is where the tricks live.
 */
export function allowedReturnUrl(raw: string, hasRule: (host: string) => boolean): string | null {
  if (raw.length > MAX_RETURN_URL_LENGTH || !/^[\x21-\x7e]+$/.test(raw) || raw.includes('\\')) return null;
  // The scheme's two slashes, then the authority at once: "https:host" and "https:///host" are read
  // as hosts by the parser, but no browser-made URL looks like that.
  if (!/^https?:\/\/[^/]/i.test(raw)) return null;
  const url = parseHttpUrl(raw);
  if (!url || url.username || url.password) return null;
  if (url.protocol === 'http:' && !isLoopbackHostname(url.hostname)) return null;
  const original = originalFrom(url);
  return original && hasRule(original.host) ? original.url : null;
}

/** Where Gatehouse's login page comes back to the original URL: through /authz/continue, which checks it again. */
export function loginUrl(publicUrl: string, returnUrl: string | null): string {
  if (returnUrl === null) return `${publicUrl}/login`;
  let back = `/authz/continue?${new URLSearchParams({ rd: returnUrl })}`;
  // The login page keeps return paths of up to 2048 characters (web/src/return-to.ts): past that,
  // the visitor returns to the application's front page rather than to the account page.
  if (back.length > 2048) back = `/authz/continue?${new URLSearchParams({ rd: `${new URL(returnUrl).origin}/` })}`;
  return `${publicUrl}/login?${new URLSearchParams({ return_to: back })}`;
}
