// Calls to the service's JSON API, from the same origin (the session cookie goes along by itself).

export interface ApiError {
  status: number;
  code: string;
  message: string;
  details: Record<string, unknown>;
  retryAfter: number | null;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; error: ApiError };

/**
 * Tells the page that the server was busy: 'wait' (detail: seconds until the request is sent again),
 * then 'done' once an answer other than "busy" came back.
 */
export const serverBusy = new EventTarget();

/** How many times a request refused with 503 OVERLOADED is sent again before the refusal is shown. */
const OVERLOAD_RETRIES = 5;

/**
 * One API call. A 503 OVERLOADED means the server refused the request before doing anything with it
 * (not even using its captcha), so the same request is sent again after Retry-After — stretched by a
 * random factor, so that a workshop refused at the same moment does not come back at the same moment.
 */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  return sendWithRetries<T>(method, path, body === undefined ? undefined : { type: 'application/json', content: JSON.stringify(body) });
}

/** Sends a file as the request body (a roster upload), with the same handling of answers as `api`. */
export function upload<T = unknown>(path: string, file: Blob, type: string): Promise<ApiResult<T>> {
  return sendWithRetries<T>('POST', path, { type, content: file });
}

interface Body {
  type: string;
  content: string | Blob;
}

async function sendWithRetries<T>(method: string, path: string, body: Body | undefined): Promise<ApiResult<T>> {
  for (let retries = 0; ; retries++) {
    const result = await callOnce<T>(method, path, body);
    if (result.ok || result.error.code !== 'OVERLOADED' || retries === OVERLOAD_RETRIES) {
      if (retries > 0) serverBusy.dispatchEvent(new Event('done'));
      return result;
    }
    const seconds = (result.error.retryAfter ?? 2) * (1 + Math.random());
    serverBusy.dispatchEvent(new CustomEvent('wait', { detail: Math.ceil(seconds) }));
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  }
}

async function callOnce<T>(method: string, path: string, body: Body | undefined): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': body.type },
      body: body?.content,
      credentials: 'same-origin',
    });
  } catch {
    return { ok: false, error: { status: 0, code: 'NETWORK', message: '', details: {}, retryAfter: null } };
  }
  const text = await response.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : null;
  if (response.ok) return { ok: true, status: response.status, data: json as T };
  const { code = 'INTERNAL_ERROR', message = '', ...details } = ((json as { error?: Record<string, unknown> } | null)?.error ?? {}) as Record<string, unknown>;
  const retryAfter = response.headers.get('retry-after');
  return { ok: false, error: { status: response.status, code: String(code), message: String(message), details, retryAfter: retryAfter ? Number(retryAfter) : null } };
}
