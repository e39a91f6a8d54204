// Chromium's own EventSource across a forced reconnect: the gateway ends the stream (an admin
// disconnect, as a drain would), the browser reconnects by itself with Last-Event-ID, and the
// page receives every event once, in order, with no code of ours in the page.
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { chromiumMissing, launchChromium } from '../clients/chromium.ts'
import { admin, publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
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

forEachTarget((target) => {
  it.skipIf(missing !== undefined)(
    `gets every event once across a reconnect, in Chromium's EventSource${missing ? ` (not run: ${missing})` : ''}`,
    async () => {
      const t = uniqueTopic('browser')
      const { url, apiKey } = target()
      // Another subscriber keeps the topic live while the browser is away (LINGER_MS=0).
      const keeper = await SseClient.open(`${url}/sse?topic=${t}`)
      const page = await (browser as Browser).newPage()
      await page.goto(`${url}/healthz`)
      await page.evaluate((src) => {
        const w = window as unknown as { got: string[]; opens: number; es: EventSource }
        w.got = []
        w.opens = 0
        w.es = new EventSource(src)
        w.es.onopen = () => w.opens++
        w.es.onmessage = (e) => w.got.push(`${e.data}@${e.lastEventId.split('~')[0]}`)
        w.es.addEventListener('gateway.connected', (e) => {
          ;(window as unknown as { conn: string }).conn = JSON.parse(
            (e as MessageEvent).data,
          ).connectionId
        })
      }, `${url}/sse?topic=${t}`)
      const state = () =>
        page.evaluate(() => {
          const w = window as unknown as { got: string[]; opens: number; conn?: string }
          return { got: [...w.got], opens: w.opens, conn: w.conn }
        })
      const until = async (ok: (s: Awaited<ReturnType<typeof state>>) => boolean, what: string) => {
        const deadline = Date.now() + 20_000
        for (;;) {
          const s = await state()
          if (ok(s)) return s
          if (Date.now() > deadline)
            throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`)
          await new Promise((r) => setTimeout(r, 50))
        }
      }
      const first = await until((s) => s.conn !== undefined, 'the browser to connect')
      await publish(url, apiKey, t, 'b1', 'one')
      await until((s) => s.got.length === 1, 'the first event')
      // The gateway ends the browser's stream; what is published before it is back is replayed.
      expect(
        (await admin(url, apiKey, `/connections/${first.conn}`, { method: 'DELETE' })).status,
      ).toBe(200)
      await publish(url, apiKey, t, 'b2', 'two')
      await publish(url, apiKey, t, 'b3', 'three')
      await until((s) => s.opens >= 2 && s.conn !== first.conn, 'the browser to reconnect')
      await publish(url, apiKey, t, 'b4', 'four')
      const done = await until((s) => s.got.length >= 4, 'four events')
      expect(done.got).toEqual(['one@b1', 'two@b2', 'three@b3', 'four@b4'])
      await page.close()
      keeper.close()
    },
  )
})
