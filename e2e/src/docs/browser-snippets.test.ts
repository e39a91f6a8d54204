import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, eventually, publish } from '../clients/http.ts'
import { BrowserHost, browserMissing } from '../interop/browser-clients.ts'
import { startNodeGateway } from '../targets/node.ts'
import type { Target } from '../targets/types.ts'
import { ROOT } from '../targets/util.ts'

/**
 * The browser snippets of the README and the getting-started guide run as written in Chromium
 * against a real gateway (its address swapped in) and show what a user expects: a typed event
 * and an untyped one, each with its topic and the publisher's id.
 */
const DOCUMENTED = 'http://127.0.0.1:8787'

/** The first ```html block after `after` in `file`. */
function htmlBlock(file: string, after: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8')
  const from = text.indexOf(after)
  const m = /```html\n([\s\S]*?)```/.exec(text.slice(from))
  if (from === -1 || !m?.[1]) throw new Error(`no html block after "${after}" in ${file}`)
  return m[1]
}

const missing = browserMissing()
describe.skipIf(missing !== undefined)(
  `browser snippets of the docs${missing ? ` (not run: ${missing})` : ''}`,
  () => {
    let gw: Target | undefined
    let host: BrowserHost | undefined
    beforeAll(async () => {
      gw = await startNodeGateway()
      host = await BrowserHost.start()
    })
    afterAll(async () => {
      await host?.stop()
      await gw?.stop()
    })

    /** Opens `html` in a page, then publishes a typed event to news and an untyped one to alerts. */
    async function runSnippet(name: string, html: string) {
      const g = gw as Target
      const h = host as BrowserHost
      h.pages.set(`/${name}`, html.replaceAll(DOCUMENTED, g.url))
      const page = await h.browser.newPage()
      const logs: string[] = []
      page.on('console', (m) => logs.push(m.text()))
      const subscribers = async () =>
        (await admin<{ items: unknown[] }>(g.url, g.apiKey, '/connections?topic=alerts')).body.items
          .length
      await eventually(async () => (await subscribers()) === 0, 10_000, 'the last page gone')
      await page.goto(`${h.pageUrl}${name}`)
      await eventually(async () => (await subscribers()) === 1, 10_000, 'the page subscribed')
      const typed = await publish(g.url, g.apiKey, 'news', 'n-1', 'Hello', {
        'x-sse-event': 'breaking',
      })
      const untyped = await publish(g.url, g.apiKey, 'alerts', 'a-1', 'World')
      expect([typed.body.delivered, untyped.body.delivered]).toEqual([['news'], ['alerts']])
      return { page, logs }
    }

    it('getting started: the page lists typed and untyped events with topic and id', async () => {
      const html = htmlBlock('docs/getting-started.md', '## 4. In a browser')
      const { page } = await runSnippet('getting-started.html', html)
      try {
        await expect
          .poll(() => page.locator('#log li').allTextContents(), { timeout: 10_000 })
          .toEqual(['[news] #n-1 breaking: Hello', '[alerts] #a-1 message: World'])
      } finally {
        await page.close()
      }
    })

    it('README: the snippet logs typed and untyped events with topic and id', async () => {
      const html = htmlBlock('README.md', 'In a browser:')
      const { page, logs } = await runSnippet('readme.html', html)
      try {
        await expect
          .poll(() => logs, { timeout: 10_000 })
          .toEqual(['news n-1 breaking Hello', 'alerts a-1 message World'])
      } finally {
        await page.close()
      }
    })
  },
)
