import type { Browser, BrowserContext, Page } from 'playwright-core'
import { publish, subscribe, type Subscriber } from './clients.ts'

/** Admin API call from the test's side, to wait for the gateway's state before looking at the UI. */
export async function adminGet<T>(base: string, key: string, path: string): Promise<T> {
  const res = await fetch(`${base}/admin/api${path}`, {
    headers: { authorization: `Bearer ${key}` },
  })
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`)
  return (await res.json()) as T
}

/** Polls `check` (a gateway-side condition) until true; fails after `ms` naming `what`. */
export async function until(check: () => Promise<boolean>, what: string, ms = 10_000) {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export async function topicNames(base: string, key: string): Promise<string[]> {
  const body = await adminGet<{ items: { topic: string }[] }>(base, key, '/topics?limit=500')
  return body.items.map((t) => t.topic)
}

/**
 * Real subscribers for the lists to show: Node fetch() SSE streams, plus a browser page holding
 * an EventSource and a WebSocket (so both transports and a browser's user agent appear), and a
 * little traffic so the counters are not all zero.
 */
export async function openScene(browser: Browser, base: string, key: string) {
  const subs: Subscriber[] = []
  const add = async (topics: string, n: number) => {
    for (let i = 0; i < n; i++) subs.push(await subscribe(base, topics))
  }
  await add('user:456:notifications', 2)
  await add('tenant/acme/orders', 2)
  await add('user:456:notifications,tenant/acme/orders', 1)
  const ctx: BrowserContext = await browser.newContext()
  const page: Page = await ctx.newPage()
  await page.goto(`${base}/healthz`)
  await page.evaluate(async () => {
    const es = new EventSource('/sse?topic=user:456:notifications&envelope=json')
    const ws = new WebSocket(`ws://${location.host}/ws?topic=dashboard:live`)
    await Promise.all([
      new Promise((r) => es.addEventListener('open', r, { once: true })),
      new Promise((r) => ws.addEventListener('open', r, { once: true })),
    ])
  })
  for (let i = 1; i <= 3; i++) {
    const data = JSON.stringify({ unread: i })
    await publish(base, key, {
      topic: 'user:456:notifications',
      id: `n-${i}`,
      event: 'unread',
      data,
    })
  }
  await publish(base, key, { topic: 'tenant/acme/orders', id: 'o-1', data: '{"order":1}' })
  await publish(base, key, { topic: 'user:789:notifications', id: 'n-9', data: '{"unread":1}' })
  return {
    subs,
    async close() {
      for (const s of subs) s.close()
      await ctx.close()
    },
  }
}
