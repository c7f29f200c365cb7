// The session cookie's one set of attributes, for every place that sets, clears or reads it: a cookie
// is only replaced or deleted by a Set-Cookie with the same name, Domain and Path, and a __Host- or
// __Secure- cookie only with Secure, so setting and clearing from one definition keeps them in step.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KNOWN_DEVICE_MAX_AGE_SECONDS, knownDeviceCookieName, type KnownDevices } from '../security/known-devices.js';
import { clientOf } from './client-identity.js';

export interface SessionCookieSettings {
  /** config.session.cookieName: with the __Host- or __Secure- prefix when Secure. */
  name: string;
  secure: boolean;
  /** COOKIE_DOMAIN: sent to this domain and its sub-domains; undefined: this host only. */
  domain: string | undefined;
  maxAgeSeconds: number;
}

function attributes(settings: SessionCookieSettings) {
  return { httpOnly: true, sameSite: 'lax' as const, secure: settings.secure, path: '/', ...(settings.domain ? { domain: settings.domain } : {}) };
}

export function setSessionCookie(reply: FastifyReply, settings: SessionCookieSettings, token: string): void {
  reply.setCookie(settings.name, token, { ...attributes(settings), maxAge: settings.maxAgeSeconds });
  // A host-only cookie of the same name, left from before COOKIE_DOMAIN was set, would be sent first
  // (it is older) and shadow the new one: it goes.
  if (settings.domain) reply.clearCookie(settings.name, { ...attributes(settings), domain: undefined });
}

export function clearSessionCookie(reply: FastifyReply, settings: SessionCookieSettings): void {
  reply.clearCookie(settings.name, attributes(settings));
}

/**
 * A complete sign-in, whichever its way: the session cookie, and the known-device cookie renewed for
 * the account, so that a stranger's wrong passwords elsewhere do not lock this browser out
 * (security/lockout.ts). Signing out keeps the second: the browser stays one where the account has
 * signed in.
 */
export function setSignedInCookies(request: FastifyRequest, reply: FastifyReply, settings: SessionCookieSettings, knownDevices: KnownDevices, signedIn: { token: string; phone: string }): void {
  setSessionCookie(reply, settings, signedIn.token);
  const device = knownDevices.remember(signedIn.phone, clientOf(request).deviceCookie);
  reply.setCookie(knownDeviceCookieName(settings.secure), device, { httpOnly: true, sameSite: 'lax', secure: settings.secure, path: '/', maxAge: KNOWN_DEVICE_MAX_AGE_SECONDS });
}
