/** Small helpers for the gateway's HTTP API, as a publisher or an operator would call it. */

export interface PublishResult {
  status: number
  body: {
    id?: string
    delivered?: string[]
    dropped?: string[]
    error?: { code: string; message: string }
  }
}

export async function publish(
  url: string,
  key: string | undefined,
  topics: string,
  id: string,
  data: string,
  extra: Record<string, string> = {},
): Promise<PublishResult> {
  const headers: Record<string, string> = { 'x-sse-topic': topics, 'x-sse-id': id, ...extra }
  if (key !== undefined) headers.authorization = `Bearer ${key}`
  const res = await fetch(`${url}/publish`, {
    method: 'POST',
    headers,
    body: data,
    signal: AbortSignal.timeout(10_000),
  })
  return { status: res.status, body: (await res.json()) as PublishResult['body'] }
}

export async function admin<T = unknown>(
  url: string,
  key: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}/admin/api${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) },
    signal: AbortSignal.timeout(10_000),
  })
  return { status: res.status, body: (await res.json()) as T }
}

/** Follows `nextCursor` through every page; returns all items and the page count. */
export async function listAll<T>(
  url: string,
  key: string,
  path: string,
  limit: number,
  between?: (page: number) => Promise<void>,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const sep = path.includes('?') ? '&' : '?'
    const q: string = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const { status, body }: { status: number; body: { items: T[]; nextCursor: string | null } } =
      await admin(url, key, q)
    if (status !== 200) throw new Error(`GET ${q} → ${status} ${JSON.stringify(body)}`)
    items.push(...body.items)
    cursor = body.nextCursor
    pages++
    if (pages > 1000) throw new Error('more than 1000 pages: the cursor does not advance')
    if (cursor && between) await between(pages)
  } while (cursor)
  return { items, pages }
}

/** Polls `fn` until it returns true; for state that changes on the server without an event to us. */
export async function eventually(
  fn: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await fn()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
