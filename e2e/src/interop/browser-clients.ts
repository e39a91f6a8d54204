import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { chromiumMissing, launchChromium } from '../clients/chromium.ts'
import { ROOT } from '../targets/util.ts'
import { type ClientOutput, ClientRun } from './client-run.ts'

const PLAYWRIGHT = resolve(ROOT, 'node_modules/playwright-core/package.json')

/** The browser's own clients, driven in a page: they have no client.json. */
export const BROWSER_CLIENTS = [
  { name: 'chromium-eventsource', transport: 'sse', library: 'EventSource (Chromium)' },
  { name: 'chromium-websocket', transport: 'ws', library: 'WebSocket (Chromium)' },
] as const
export type BrowserClientName = (typeof BROWSER_CLIENTS)[number]['name']

/** Why the browser clients cannot run here, or undefined. */
export function browserMissing(): string | undefined {
  if (!existsSync(PLAYWRIGHT)) return 'playwright-core not installed (run npm ci)'
  return chromiumMissing()
}

export function playwrightVersion(): string {
  return (JSON.parse(readFileSync(PLAYWRIGHT, 'utf8')) as { version: string }).version
}

/**
 * One Chromium for the whole file, and a loopback HTTP server for the blank page the clients run
 * in: the gateway is another origin (another port), as it is for a user's page.
 */
export class BrowserHost {
  private constructor(
    readonly browser: Browser,
    readonly server: Server,
    /** A blank page; `pageUrl + path` serves what `pages` holds for `/path`. */
    readonly pageUrl: string,
    readonly pages: Map<string, string>,
  ) {}

  static async start(): Promise<BrowserHost> {
    const browser = await launchChromium()
    const pages = new Map<string, string>()
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(
        pages.get(req.url ?? '/') ?? '<!doctype html><meta charset="utf-8"><title>interop</title>',
      )
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const addr = server.address()
    const port = addr && typeof addr === 'object' ? addr.port : 0
    return new BrowserHost(browser, server, `http://127.0.0.1:${port}/`, pages)
  }

  get version(): string {
    return this.browser.version()
  }

  async stop(): Promise<void> {
    await this.browser.close().catch(() => {})
    await new Promise((r) => this.server.close(r))
  }
}

/** The page's side: what `emit` is, once exposed. */
type Emit = (o: ClientOutput) => void

/**
 * A browser client: a page that opens the browser's own EventSource (with a listener per event
 * name, as a page must) or WebSocket (reconnecting in a loop with `?lastEventId=` from the last
 * frame's cursor, as a page must), and reports through an exposed binding.
 */
export class BrowserRun extends ClientRun {
  #page: Page | undefined

  private constructor(name: BrowserClientName) {
    super(name)
  }

  static async start(
    host: BrowserHost,
    name: BrowserClientName,
    url: string,
    eventTypes: string[],
  ): Promise<BrowserRun> {
    const run = new BrowserRun(name)
    const page = await host.browser.newPage()
    run.#page = page
    page.on('console', (m) => run.addStderr(`console.${m.type()}: ${m.text()}\n`))
    page.on('pageerror', (e) => run.addStderr(`page error: ${e.message}\n`))
    page.on('requestfailed', (r) =>
      run.addStderr(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}\n`),
    )
    page.on('crash', () => run.ended('the page crashed'))
    await page.exposeBinding('emit', (_source, o: ClientOutput) => run.push(o))
    await page.goto(host.pageUrl)
    if (name === 'chromium-eventsource') {
      await page.evaluate(
        ({ url, eventTypes }) => {
          const emit = (globalThis as unknown as { emit: Emit }).emit
          const es = new EventSource(url)
          const names = new Set(['message', 'gateway.connected', 'gateway.gap', ...eventTypes])
          for (const type of names) {
            es.addEventListener(type, (e) => {
              const m = e as MessageEvent<string>
              emit({ type: m.type, id: m.lastEventId, data: m.data })
            })
          }
          es.onerror = () => emit({ error: `error event, readyState ${es.readyState}` })
        },
        { url, eventTypes },
      )
    } else {
      await page.evaluate(
        ({ url }) => {
          const emit = (globalThis as unknown as { emit: Emit }).emit
          let cursor: string | undefined
          const open = () => {
            const ws = new WebSocket(
              cursor ? `${url}&lastEventId=${encodeURIComponent(cursor)}` : url,
            )
            ws.onmessage = (m: MessageEvent<string>) => {
              emit({ frame: m.data })
              try {
                const c = (JSON.parse(m.data) as { cursor?: unknown }).cursor
                if (typeof c === 'string') cursor = c
              } catch {}
            }
            ws.onclose = (e) => {
              emit({ error: `closed ${e.code} ${e.reason}; reconnecting` })
              setTimeout(open, 500)
            }
          }
          open()
        },
        { url },
      )
    }
    return run
  }

  async stop(): Promise<void> {
    await this.#page?.close().catch(() => {})
  }
}
