// One GET against a Tencent API (WeChat's api.weixin.qq.com, WeCom's qyapi.weixin.qq.com), turned into
// either the JSON body or an UpstreamError. Both answer a refusal with HTTP 200 and `{errcode, errmsg}`,
// so a 200 alone proves nothing: the body's errcode decides. A secret travels in some query strings
// (appid&secret, corpid&corpsecret), so no URL ever goes into an error message.
import { UpstreamError } from './types.js';
import { callUpstream, text } from './upstream-http.js';

/** A Tencent API answer that passed the errcode check: a plain object whose fields the caller reads. */
export type WeixinBody = Readonly<Record<string, unknown>>;

/** Codes that mean "this authorization code is no good" (40029 invalid, 40163 already used), across both APIs. */
const CODE_INVALID = new Set([40029, 40163]);
/** -1 is "系统繁忙" (system busy): worth retrying later, not the user's or the administrator's fault. */
const BUSY = new Set([-1]);

/** base + path + query; a base's own path is kept (a proxy at https://proxy.example/wechat), unlike new URL(path, base). */
export function joinUrl(base: string, path: string, query: Record<string, string>): string {
  const url = new URL(`${base.replace(/\/+$/, '')}${path}`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url.toString();
}

export async function getWeixinJson(fetch: typeof globalThis.fetch, url: string, what: string): Promise<WeixinBody> {
  // Reachability, 5xx and "not a JSON object" as for every provider; then Tencent's own errcode.
  const { status, body } = await callUpstream(fetch, url, { headers: { accept: 'application/json' } }, what);
  const errcode = body.errcode;
  if (errcode !== undefined && errcode !== 0) throw errcodeError(what, errcode, body.errmsg);
  if (status !== 200) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${what}: the provider answered HTTP ${status}`);
  return body;
}

function errcodeError(what: string, errcode: unknown, errmsg: unknown): UpstreamError {
  const code = typeof errcode === 'number' ? errcode : Number(errcode);
  const message = `${what}: errcode ${String(errcode)}${typeof errmsg === 'string' ? ` (${errmsg.slice(0, 200)})` : ''}`;
  if (CODE_INVALID.has(code)) return new UpstreamError('UPSTREAM_CODE_INVALID', message, code);
  if (BUSY.has(code)) return new UpstreamError('UPSTREAM_UNAVAILABLE', message, code);
  // Anything else is the provider refusing this app or this request (a wrong secret, an unauthorized
  // scope, an IP not on the allow-list): the sign-in is denied, and the code tells the administrator why.
  return new UpstreamError('UPSTREAM_DENIED', message, Number.isFinite(code) ? code : String(errcode));
}

/** A required string field of a Tencent answer, or UPSTREAM_BAD_RESPONSE naming what was missing. */
export function requiredString(body: WeixinBody, field: string, what: string): string {
  const value = body[field];
  if (typeof value === 'string' && value !== '') return value;
  throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${what}: the answer has no ${field}`);
}

/** An optional string field: null when absent or empty (WeChat sends "" for "no avatar"). */
export const optionalString = (body: WeixinBody, field: string): string | null => text(body, field);

/** The authorization code of a callback, or UPSTREAM_DENIED: Tencent comes back with only `state` when the user cancels. */
export function callbackCode(callback: URLSearchParams): string {
  const code = callback.get('code');
  if (code === null || code === '') throw new UpstreamError('UPSTREAM_DENIED', 'the user did not authorize the sign-in');
  return code;
}
