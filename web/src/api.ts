// Calls to the service's JSON API, from the same origin (the session cookie goes along by itself).

export interface ApiError {
  status: number;
  code: string;
  message: string;
  details: Record<string, unknown>;
  retryAfter: number | null;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; error: ApiError };

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
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
