// Chromium's own EventSource, with no code of ours in the page: the connection learns its id from
// `gateway.connected` (the first event, a named one, so `onmessage` is not disturbed), receives
// a broadcast and a direct send through `onmessage`, and opens a private topic with the token in
// a cookie (EventSource cannot set headers).
import { SignJWT } from 'jose'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { chromiumMissing, launchChromium } from '../clients/chromium.ts'
import { publish } from '../clients/http.ts'
import { forEachTarget, uniqueTopic } from '../conformance/harness.ts'

const missing = chromiumMissing()
let browser: Browser | undefined

beforeAll(async () => {
  if (missing) return
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

interface PageState {
  order: string[]
  messages: string[]
  conn?: string
  topics?: string[]
  errors: number
}

/** Opens an EventSource in the page; every event lands in `window.state`, in arrival order. */
async function listen(page: Page, src: string): Promise<void> {
  await page.evaluate((u) => {
    const state: PageState = { order: [], messages: [], errors: 0 }
    ;(window as unknown as { state: PageState }).state = state
    const es = new EventSource(u)
    es.onmessage = (e) => {
      state.order.push('message')
      state.messages.push(e.data)
    }
    es.onerror = () => state.errors++
    es.addEventListener('gateway.connected', (e) => {
      state.order.push('gateway.connected')
      const d = JSON.parse((e as MessageEvent).data)
      state.conn = d.connectionId
      state.topics = d.topics
    })
  }, src)
}

async function until(page: Page, ok: (s: PageState) => boolean, what: string): Promise<PageState> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const s = await page.evaluate(() => (window as unknown as { state: PageState }).state)
    if (ok(s)) return s
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

forEachTarget((target) => {
  it.skipIf(missing !== undefined)(
    `learns its connection id first, then gets a broadcast and a direct send in onmessage${missing ? ` (not run: ${missing})` : ''}`,
    async () => {
      const t = uniqueTopic('browser-id')
      const { url, apiKey } = target()
      const page = await (browser as Browser).newPage()
      await page.goto(`${url}/healthz`)
      await listen(page, `${url}/sse?topic=${t}`)
      const s = await until(page, (x) => x.conn !== undefined, 'gateway.connected')
      expect(s.order).toEqual(['gateway.connected'])
      expect(s.topics).toEqual([t])
      await publish(url, apiKey, '*', 'all-1', 'to everyone')
      const res = await fetch(`${url}/admin/api/connections/${s.conn}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'x-sse-id': 'dm-1' },
        body: 'to this tab',
        signal: AbortSignal.timeout(10_000),
      })
      expect(res.status).toBe(202)
      const done = await until(page, (x) => x.messages.length >= 2, 'two messages')
      expect(done.messages).toEqual(['to everyone', 'to this tab'])
      expect(done.order[0]).toBe('gateway.connected')
      await page.close()
    },
  )

  it.skipIf(missing !== undefined)(
    `opens a private topic with the token in a cookie${missing ? ` (not run: ${missing})` : ''}`,
    async (ctx) => {
      if (target().tokenSecret === undefined) ctx.skip()
      const t = `private:${uniqueTopic('browser')}`
      const { url, apiKey } = target()
      const token = await new SignJWT({ topics: [t] })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(target().tokenSecret as string))
      const page = await (browser as Browser).newPage()
      await page.goto(`${url}/healthz`)
      // What a backend's login response would do: Set-Cookie for the gateway's origin.
      await page.context().addCookies([{ name: 'sse_token', value: token, url }])
      await listen(page, `${url}/sse?topic=${encodeURIComponent(t)}`)
      await until(page, (x) => x.conn !== undefined, 'gateway.connected on the private topic')
      await publish(url, apiKey, t, 'p-1', 'private hello')
      const s = await until(page, (x) => x.messages.length >= 1, 'the private event')
      expect(s.messages).toEqual(['private hello'])
      await page.close()
    },
  )
})
