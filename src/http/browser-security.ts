// Browser-facing protections for every response and every state-changing request.
// - CSRF: a request that changes state (POST, PUT, PATCH, DELETE) and comes from a page of another
//   site is refused, judged by the headers browsers set and pages cannot forge: Sec-Fetch-Site, or
//   Origin where a browser sends no Sec-Fetch-Site. Programs (curl, API-key clients) send neither and
//   are not affected; the session cookie is SameSite=Lax as a second line.
// - Security headers: a CSP without inline script, no framing, nosniff, a strict referrer policy, and
//   on an https deployment (PUBLIC_URL) HSTS, so that a browser never tries plain http again.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // Captcha images arrive as data: URLs; the avatars of linked WeChat, DingTalk… accounts come from the providers' https CDNs.
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Whether the request comes from a page of this same origin, or from something that is not a page of another site. */
export function isSameOriginOrNotBrowser(request: FastifyRequest): boolean {
  const fetchSite = request.headers['sec-fetch-site'];
  if (typeof fetchSite === 'string') return fetchSite === 'same-origin' || fetchSite === 'none';
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

// One year, the value HSTS preload lists ask for; not includeSubDomains: other hosts of the school's
// domain are not the service's to decide.
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

export interface SecurityHeaderOptions {
  /** The service is served over https: send Strict-Transport-Security. */
  hsts: boolean;
}

export interface BrowserSecurityOptions extends SecurityHeaderOptions {
  /**
   * Path prefixes other sites' pages may post to: the OpenID Connect endpoints, which are made for
   * other sites (a browser app's token request, a relying party's logout form) and guard themselves
   * (client authentication, PKCE, the logout form's own anti-forgery field).
   */
  crossSitePaths?: readonly string[];
}

export function installBrowserSecurity(app: FastifyInstance, options: BrowserSecurityOptions): void {
  const crossSitePaths = options.crossSitePaths ?? [];
  app.addHook('onRequest', async (request) => {
    if (!UNSAFE_METHODS.has(request.method) || isSameOriginOrNotBrowser(request)) return;
    if (crossSitePaths.some((prefix) => request.url.startsWith(prefix))) return;
    throw new AppError('CROSS_SITE_REQUEST');
  });
  app.addHook('onSend', async (request, reply) => setSecurityHeaders(request, reply, options));
}

/** Also called for the answers Fastify's router gives before any hook runs (src/app.ts). */
export function setSecurityHeaders(request: FastifyRequest, reply: FastifyReply, options: SecurityHeaderOptions): void {
  if (options.hsts) reply.header('strict-transport-security', STRICT_TRANSPORT_SECURITY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'strict-origin-when-cross-origin');
  reply.header('x-frame-options', 'DENY');
  reply.header('cross-origin-opener-policy', 'same-origin');
  // Swagger UI (/docs) brings its own inline bootstrap script; everything else gets the strict policy.
  if (!request.url.startsWith('/docs')) reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
}
