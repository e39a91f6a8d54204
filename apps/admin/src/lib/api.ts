/** Calls to the admin API with the stored key; every error carries the gateway's message. */

/** The API lives beside the UI: /admin/api/ when the gateway serves the UI at /admin/. */
export const API_BASE = `${import.meta.env.BASE_URL}api`

export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    /** HTTP status; 0 when the gateway could not be reached at all. */
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message)
  }
}

/** Turns a non-2xx response into an ApiError with the `{"error":{"code","message"}}` text. */
export async function errorOf(res: Response): Promise<ApiError> {
  let code: string | undefined
  let message = `${res.status} ${res.statusText}`.trim()
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } }
    if (body.error?.message) message = body.error.message
    code = body.error?.code
  } catch {
    // Not the gateway's JSON (a proxy's HTML page, say): keep the status line.
  }
  return new ApiError(res.status, message, code)
}

export function authHeaders(key: string): HeadersInit {
  return { authorization: `Bearer ${key}` }
}

export interface RequestOptions {
  method?: string
  signal?: AbortSignal
  headers?: Record<string, string>
  body?: string
}

/** One admin API call; `path` is relative to API_BASE, e.g. `/topics?limit=500`. */
export async function apiRequest<T>(
  key: string,
  path: string,
  init: RequestOptions = {},
): Promise<T> {
  let res: Response
  try {
    res = await fetch(`${API_BASE}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...authHeaders(key), ...init.headers },
      signal: init.signal ?? null,
      ...(init.body !== undefined ? { body: init.body } : {}),
    })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, `cannot reach the gateway at ${location.host}`)
  }
  if (!res.ok) throw await errorOf(res)
  return (await res.json()) as T
}
