// One way to call a provider's API for the hand-written adapters (DingTalk, Feishu, and under the
// Tencent errcode check WeChat and WeCom): the network and the provider's availability are told apart
// from what it answered, so each adapter only reads bodies. No URL goes into a message: some carry a
// secret in their query.
import { UpstreamError } from './types.js';

export interface UpstreamAnswer {
  status: number;
  /** The parsed JSON body; a provider that answers something else is not one we can read. */
  body: Record<string, unknown>;
}

/** Calls `url` with the injected fetch; unreachable, timed out or 5xx → UPSTREAM_UNAVAILABLE, a body that is not a JSON object → UPSTREAM_BAD_RESPONSE. */
export async function callUpstream(fetch: typeof globalThis.fetch, url: string, init: RequestInit, what: string): Promise<UpstreamAnswer> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'manual' });
  } catch (error) {
    // TypeError (refused, DNS), AbortError/TimeoutError (the injected timeout): the provider is not there now.
    throw new UpstreamError('UPSTREAM_UNAVAILABLE', `${what}: ${(error as Error).name}: ${(error as Error).message}`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new UpstreamError('UPSTREAM_UNAVAILABLE', `${what}: the answer broke off: ${(error as Error).message}`);
  }
  if (response.status >= 500) throw new UpstreamError('UPSTREAM_UNAVAILABLE', `${what}: HTTP ${response.status}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${what}: HTTP ${response.status}, not JSON`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${what}: HTTP ${response.status}, not a JSON object`);
  return { status: response.status, body: body as Record<string, unknown> };
}

/** A string field, or null when absent or empty (providers leave fields out when the app lacks the permission). */
export function text(body: Record<string, unknown> | undefined, field: string): string | null {
  const value = body?.[field];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The provider's base URL without a trailing slash: the administrator's, else the provider's default. */
export function base(configured: string | null, fallback: string): string {
  return (configured ?? fallback).replace(/\/+$/, '');
}
