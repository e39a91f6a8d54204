// The admin UI as an operator's console (issue #19), in Chromium against every target: live
// counters that move by themselves, the nodes view, server-side search across pages, a test
// event seen in the tail, a bulk disconnect, resumes marked in the tail, the phone layout and an
// axe-core accessibility pass. With UPDATE_DOCS_SCREENSHOTS=1 the node-cluster run also writes
// the screenshots docs/admin-ui.md shows.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import type { Browser, Page, Route } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { chromiumMissing, launchChromium } from '../clients/chromium.ts'
import { admin, eventually, publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import { forEachTarget, uniqueTopic } from '../conformance/harness.ts'
import type { Target } from '../targets/index.ts'
import { ROOT } from '../targets/util.ts'

const ADMIN_DIST = resolve(ROOT, 'apps/admin/dist/index.html')
const missing =
  chromiumMissing() ??
  (!existsSync(ADMIN_DIST) ? `${ADMIN_DIST} is not built (run make build)` : undefined)
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const SHOTS = resolve(ROOT, 'test-results/admin-console')
const DOCS_IMAGES = resolve(ROOT, 'docs/images')

let browser: Browser | undefined

beforeAll(async () => {
  if (missing) return
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

/** The connection id of an open stream: its header, or its `gateway.connected` event. */
function idOf(c: SseClient): string {
  if (c.connectionId) return c.connectionId
  const first = c.gatewayEvents[0]
  if (!first) throw new Error('no gateway.connected event yet')
  return (JSON.parse(first.data) as { connectionId: string }).connectionId
}

async function openStream(
  url: string,
  topics: string,
  ua = 'admin-console-e2e',
): Promise<SseClient> {
  const c = await SseClient.open(`${url}/sse?topic=${encodeURIComponent(topics)}`, {
    'user-agent': ua,
  })
  if (c.status !== 200) throw new Error(`GET /sse?topic=${topics}: HTTP ${c.status} ${c.body}`)
  if (!c.connectionId) await c.waitForGatewayEvents(1)
  return c
}

/** Waits until the admin API lists every one of `ids` (a cluster's index is written async). */
async function listed(t: Target, ids: string[], query: string): Promise<void> {
  await eventually(
    async () => {
      const { body } = await admin<{ items: { id: string }[] }>(
        t.url,
        t.apiKey,
        `/connections?limit=500&${query}`,
      )
      const seen = new Set(body.items.map((c) => c.id))
      return ids.every((id) => seen.has(id))
    },
    15_000,
    `${ids.length} connections listed for ${query}`,
  )
}

/** Text of the stat whose label starts with `name` (its total, without the rate). */
function statValue(page: Page, name: string): Promise<string> {
  return page.getByTestId(`stat-${name}`).getByTestId('stat-value').innerText()
}

async function shot(page: Page, target: Target, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  const png = await page.screenshot({ animations: 'disabled' })
  writeFileSync(resolve(SHOTS, `${target.name}-${name}.png`), png)
  if (process.env.UPDATE_DOCS_SCREENSHOTS && target.name === 'node-cluster') {
    mkdirSync(DOCS_IMAGES, { recursive: true })
    writeFileSync(resolve(DOCS_IMAGES, `admin-console-${name}.png`), png)
  }
}

/** The search form's fields, by label, and the query the list shows once they are applied. */
const FIELDS: [string, string][] = [
  ['Connection id', 'id'],
  ['Topic prefix', 'topicPrefix'],
  ['Address', 'address'],
  ['User agent', 'userAgent'],
]

/** Fills the search form, submits it, and waits for the first page of its answer. */
async function search(page: Page, fields: Record<string, string>): Promise<void> {
  const form = page.getByRole('form', { name: 'Search connections' })
  const q = new URLSearchParams()
  for (const [label, name] of FIELDS) {
    await form.getByLabel(label).fill(fields[label] ?? '')
    if (fields[label]) q.set(name, fields[label] as string)
  }
  await form.getByRole('button', { name: 'Search', exact: true }).click()
  await page.locator(`[data-testid=connections-view][data-filter="${q}"][data-page="1"]`).waitFor()
}

/** Every id the search on screen lists, following Next through its pages. */
async function allPages(page: Page): Promise<string[]> {
  const ids: string[] = []
  for (let p = 1; ; p++) {
    await page.locator(`[data-testid=connections-view][data-page="${p}"]`).waitFor()
    ids.push(
      ...(await page.$$eval('[data-testid=connection-row]', (rows) =>
        rows.map((r) => r.getAttribute('data-id') ?? ''),
      )),
    )
    const next = page.getByRole('button', { name: 'Next' })
    if ((await next.count()) === 0 || (await next.isDisabled())) return ids
    await next.click()
  }
}

/**
 * Holds the list's next reload at the browser while the pager is looked at: a live refresh of the
 * page on screen must leave Next usable (it was disabled for every refresh, and a click missed).
 */
async function usableWhileRefreshing(page: Page): Promise<void> {
  const view = page.getByTestId('connections-view')
  let release: () => void = () => undefined
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  const list = (url: URL) => url.pathname.endsWith('/connections')
  const hold = async (route: Route) => {
    await held
    // A live tick may have replaced (aborted) this request meanwhile.
    await route.continue().catch(() => undefined)
  }
  await page.route(list, hold)
  try {
    await view.getByRole('button', { name: 'Refresh' }).click()
    await page.locator('[data-testid=connections-view][aria-busy=true]').waitFor()
    expect(await view.getByRole('button', { name: 'Next' }).isEnabled()).toBe(true)
  } finally {
    release()
    await page.unroute(list, hold)
  }
  await page.locator('[data-testid=connections-view][aria-busy=false]').waitFor()
}

/** Runs axe-core in the page: the serious and critical violations, named. */
async function axeViolations(page: Page): Promise<string[]> {
  // Colours are measured as they settle: a button that was disabled while its data loaded fades
  // back to full opacity, and contrast taken mid-fade fails. Transitions end by themselves
  // (spinners, which never end, are left out); the wait is bounded all the same.
  await page.evaluate(() =>
    Promise.race([
      Promise.all(
        document
          .getAnimations()
          .filter((a) => Number.isFinite(Number(a.effect?.getComputedTiming().endTime)))
          .map((a) => a.finished.catch(() => undefined)),
      ),
      new Promise((resolve) => setTimeout(resolve, 3_000)),
    ]),
  )
  await page.addScriptTag({ content: AXE })
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (o: unknown) => Promise<unknown> } }).axe
    const r = (await axe.run({
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    })) as { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
  return found
}

forEachTarget((target) => {
  const skip = missing !== undefined
  const note = missing ? ` (not run: ${missing})` : ''
  let page: Page
  const streams: SseClient[] = []
  const open = async (url: string, topics: string, ua?: string) => {
    const c = await openStream(url, topics, ua)
    streams.push(c)
    return c
  }

  beforeAll(async () => {
    if (skip) return
    const t = target()
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1280, height: 900 } })
    page = await ctx.newPage()
    page.setDefaultTimeout(15_000)
    await page.goto(`${t.url}/admin/`)
    await page.getByLabel('API key').fill(t.apiKey)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('tab', { name: 'Topics', selected: true }).waitFor()
  })
  afterAll(async () => {
    for (const s of streams) s.close()
    await page?.context().close()
  })

  it.skipIf(skip)(`shows version, runtime and uptime in the header${note}`, async () => {
    const runtime =
      { node: 'node', 'node-workers': 'node', 'node-cluster': 'cluster' }[target().name] ??
      'cloudflare'
    await page.locator(`[data-testid=runtime][data-runtime=${runtime}]`).waitFor()
    expect(await page.getByTestId('version').innerText()).toMatch(/^v\d+\.\d+\.\d+/)
    expect(await page.getByTestId('about').innerText()).toMatch(/up \d+/)
  })

  it.skipIf(skip)(`live counters change without a click while events flow${note}`, async () => {
    const t = target()
    const topic = uniqueTopic('live')
    await open(t.url, topic)
    await page
      .getByTestId('stat-published')
      .getByTestId('stat-value')
      .filter({ hasText: /\d/ })
      .waitFor()
    // The fastest refresh the header offers, so the chart fills within seconds.
    await page.getByLabel('Update interval').selectOption('1000')
    const before = await statValue(page, 'published')
    // Publish until the page shows a new total; no click, no reload.
    let n = 0
    const flowing = setInterval(() => {
      n++
      void publish(t.url, t.apiKey, topic, `live-${n}`, `{"n":${n}}`).catch(() => {})
    }, 200)
    try {
      await page.waitForFunction(
        (b) =>
          document.querySelector('[data-testid=stat-published] [data-testid=stat-value]')
            ?.textContent !== b,
        before,
        { timeout: 30_000 },
      )
      // The rate beside the total and the chart follow the same readings.
      await page.waitForFunction(
        () =>
          Number(document.querySelector('[data-testid=rate-chart]')?.getAttribute('data-points')) >=
          6,
        undefined,
        { timeout: 30_000 },
      )
    } finally {
      clearInterval(flowing)
    }
    expect(await statValue(page, 'published')).not.toBe(before)
  })

  it.skipIf(skip)(`lists every node with its figures${note}`, async () => {
    const t = target()
    // One node per entry point; behind one port (WORKERS), one per worker.
    const nodes =
      t.name === 'node-workers'
        ? (await admin<{ items: unknown[] }>(t.url, t.apiKey, '/nodes')).body.items.length
        : t.urls.length
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid=node-row]').length === n,
      nodes,
    )
    const { body } = await admin<{ items: { id: string }[] }>(t.url, t.apiKey, '/nodes')
    for (const n of body.items) {
      await page.locator(`[data-testid=node-row][data-node="${n.id}"]`).waitFor()
    }
    expect(await page.getByTestId('node-count').innerText()).toBe(String(nodes))
    await shot(page, t, 'topics')
  })

  it.skipIf(skip)(`searches connections by each field, across pages${note}`, async () => {
    const t = target()
    const tag = uniqueTopic('find')
    // 12 connections under one topic prefix, with a user agent no one else has, spread over
    // the nodes of a cluster: more than one page of 10.
    const mine: SseClient[] = []
    for (let i = 0; i < 12; i++) {
      const url = t.urls[i % t.urls.length] as string
      mine.push(await open(url, `${tag}/t${i}`, `FinderProbe/${tag}`))
    }
    const ids = mine.map(idOf)
    await listed(t, ids, `topicPrefix=${encodeURIComponent(`${tag}/`)}`)
    await page.getByRole('tab', { name: 'Connections' }).click()
    await page.getByLabel('Page size').selectOption('10')
    await search(page, { 'Topic prefix': `${tag}/` })
    await usableWhileRefreshing(page)
    expect((await allPages(page)).sort()).toEqual([...ids].sort())
    await shot(page, t, 'connections')

    await search(page, { 'User agent': `finderprobe/${tag}` })
    expect((await allPages(page)).sort()).toEqual([...ids].sort())

    const one = ids[5] as string
    await search(page, { 'Connection id': one.slice(-8) })
    expect(await allPages(page)).toEqual([one])

    const { body } = await admin<{ items: { id: string; remoteAddress: string | null }[] }>(
      t.url,
      t.apiKey,
      `/connections?id=${one}`,
    )
    const address = body.items[0]?.remoteAddress
    if (address) {
      // Every connection of a local run shares the address: narrowed by the prefix as an
      // operator would, it still spans two pages.
      await search(page, { Address: address, 'Topic prefix': `${tag}/` })
      expect((await allPages(page)).sort()).toEqual([...ids].sort())
    }
    await search(page, {})
  })

  it.skipIf(skip)(`sorts by events sent across pages: the busiest first${note}`, async () => {
    const t = target()
    const tag = uniqueTopic('busy')
    // 12 connections over the nodes; the last opened (page 2 of the oldest-first order) gets
    // 3 events, the one before it 1.
    const mine: SseClient[] = []
    for (let i = 0; i < 12; i++) {
      mine.push(await open(t.urls[i % t.urls.length] as string, `${tag}/t${i}`))
    }
    const ids = mine.map(idOf)
    for (const [i, n] of [
      [11, 3],
      [10, 1],
    ] as const) {
      for (let k = 0; k < n; k++) await publish(t.url, t.apiKey, `${tag}/t${i}`, `b${i}-${k}`, 'x')
      await (mine[i] as SseClient).waitForEvents(n)
    }
    const busiest = ids[11] as string
    const prefix = `topicPrefix=${encodeURIComponent(`${tag}/`)}`
    // A cluster's counters reach the other nodes on their next heartbeat.
    await eventually(
      async () => {
        const { body } = await admin<{ items: { id: string }[] }>(
          t.url,
          t.apiKey,
          `/connections?${prefix}&sort=events&limit=2`,
        )
        return body.items.map((c) => c.id).join() === `${busiest},${ids[10]}`
      },
      15_000,
      'the counts listed',
    )
    await page.getByRole('tab', { name: 'Connections' }).click()
    await page.getByLabel('Page size').selectOption('10')
    await search(page, { 'Topic prefix': `${tag}/` })
    const sort = page.getByLabel('Sort', { exact: true })
    await sort.focus()
    await sort.selectOption('events')
    await page
      .locator('[data-testid=connections-view][data-sort="events"][data-page="1"]')
      .waitFor()
    await expect
      .poll(() => page.locator('[data-testid=connection-row]').first().getAttribute('data-id'))
      .toBe(busiest)
    const listedIds = await allPages(page)
    expect(listedIds.slice(0, 2)).toEqual([busiest, ids[10]])
    expect([...listedIds].sort()).toEqual([...ids].sort())
    await sort.selectOption('oldest')
    await search(page, {})
  })

  it.skipIf(skip)(
    `disconnects every connection of a filter after confirmation${note}`,
    async () => {
      const t = target()
      const tag = uniqueTopic('bulk')
      const keeper = await open(t.url, `${tag}-keep`)
      const doomed: SseClient[] = []
      for (let i = 0; i < 5; i++) {
        doomed.push(await open(t.urls[i % t.urls.length] as string, `${tag}/x${i}`))
      }
      await listed(t, doomed.map(idOf), `topicPrefix=${encodeURIComponent(`${tag}/`)}`)
      const form = page.getByRole('form', { name: 'Search connections' })
      await form.getByLabel('Topic prefix').fill(`${tag}/`)
      await form.getByRole('button', { name: 'Search', exact: true }).click()
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid=connection-row]').length === 5,
      )
      await page.getByRole('button', { name: 'Disconnect all matching' }).click()
      const dialog = page.getByRole('alertdialog')
      expect(await dialog.innerText()).toContain(`${tag}/`)
      await shot(page, t, 'bulk-disconnect')
      await dialog.getByRole('button', { name: 'Disconnect matching' }).click()
      await page.getByText('Disconnected 5 of 5 matching connections.').waitFor()
      for (const c of doomed) await c.waitForEnd(15_000)
      expect(keeper.ended).toBe(false)
      await page.getByText('No live connection matches this search.').waitFor()
      await page.getByRole('button', { name: 'Clear search' }).click()
    },
  )

  it.skipIf(skip)(
    `sends a test event and sees it in the tail of several topics${note}`,
    async () => {
      const t = target()
      const prefix = uniqueTopic('tail')
      const a = `${prefix}/a`
      const b = `${prefix}/b`
      const sub = await open(t.url, `${a},${b}`)
      await listed(t, [idOf(sub)], `topic=${encodeURIComponent(b)}`)
      await page.goto(`${t.url}/admin/tail?topic=${encodeURIComponent(`${prefix}/*`)}`)
      // The prefix is looked up on the gateway; both live topics get a tail.
      await page
        .getByTestId('tailed-topics')
        .filter({ hasText: a })
        .filter({ hasText: b })
        .waitFor()
      await page.locator('[data-testid=tail-status][data-state=live]').waitFor()
      await publish(t.url, t.apiKey, b, 'from-b', '{"via":"publish"}')
      await page.locator(`[data-testid=tail-entry][data-id=from-b][data-topic="${b}"]`).waitFor()

      await page.getByText('Send a test event').click()
      await page.getByLabel('Test topic').selectOption(a)
      await page.getByRole('button', { name: 'Send test event' }).click()
      await page
        .getByTestId('test-event-result')
        .filter({ hasText: `to ${a}` })
        .waitFor()
      const entry = page.locator(
        `[data-testid=tail-entry][data-kind=publish][data-topic="${a}"][data-id^=test-]`,
      )
      await entry.waitFor()
      await sub.until(
        () => sub.events.some((e) => e.id?.startsWith('test-') ?? false),
        10_000,
        'the subscriber got the test event',
      )
      await shot(page, t, 'tail')
    },
  )

  it.skipIf(skip)(`marks a resume in the tail: replayed events and a gap${note}`, async () => {
    const t = target()
    const topic = uniqueTopic('resume')
    const first = await open(t.url, topic)
    await listed(t, [idOf(first)], `topic=${encodeURIComponent(topic)}`)
    await page.goto(`${t.url}/admin/tail?topic=${encodeURIComponent(topic)}`)
    await page.locator('[data-testid=tail-status][data-state=live]').waitFor()
    await publish(t.url, t.apiKey, topic, 'r-1', '1')
    await publish(t.url, t.apiKey, topic, 'r-2', '2')
    await first.waitForEvents(2)
    const cursor = first.rawIds[0] as string
    // Resumes after r-1: r-2 is replayed from the window.
    const resumed = await SseClient.open(`${t.url}/sse?topic=${encodeURIComponent(topic)}`, {
      'last-event-id': cursor,
    })
    streams.push(resumed)
    await page.locator('[data-testid=tail-entry][data-kind=replay]').waitFor()
    // A Last-Event-ID the gateway cannot read: the connection is told it may have missed events.
    const lost = await SseClient.open(`${t.url}/sse?topic=${encodeURIComponent(topic)}`, {
      'last-event-id': 'not-a-cursor',
    })
    streams.push(lost)
    await page.locator('[data-testid=tail-entry][data-kind=gap]').waitFor()
  })

  it.skipIf(skip)(
    `sends one event to one connection, and shows presence per node${note}`,
    async () => {
      const t = target()
      const topic = uniqueTopic('reach')
      const subs: SseClient[] = []
      // One per entry point; behind one port (WORKERS), two, which round robin spreads.
      const urls = t.name === 'node-workers' ? [t.url, t.url] : t.urls
      for (const url of urls) subs.push(await open(url, topic))
      await listed(t, subs.map(idOf), `topic=${encodeURIComponent(topic)}`)
      const to = subs.at(-1) as SseClient
      const id = idOf(to)
      await page.goto(`${t.url}/admin/connections?topic=${encodeURIComponent(topic)}`)
      await page.getByRole('button', { name: `Send an event to ${id}` }).click()
      const dialog = page.getByRole('alertdialog')
      await dialog.getByLabel('Event type').fill('ping')
      await dialog.getByLabel('Data').fill('{"only":"you"}')
      await dialog.getByRole('button', { name: 'Send event' }).click()
      await page.getByText(`to ${id}.`).waitFor()
      await to.until(
        () => to.events.some((e) => e.data === '{"only":"you"}'),
        10_000,
        'the connection got the event sent to it',
      )

      await page.goto(`${t.url}/admin/topics`)
      await page.getByLabel('Filter topics').fill(topic)
      const row = page.locator(`[data-testid=topic-row][data-topic="${topic}"]`)
      await row.getByRole('button', { name: `Presence of ${topic}` }).click()
      await row.getByTestId('presence').waitFor()
      const { body } = await admin<{ items: { id: string }[] }>(t.url, t.apiKey, '/nodes')
      const held = await admin<{ items: { node: string }[] }>(
        t.url,
        t.apiKey,
        `/connections?topic=${encodeURIComponent(topic)}`,
      )
      expect(await row.getByTestId('presence-node').count()).toBe(
        t.name === 'node-workers'
          ? new Set(held.body.items.map((c) => c.node)).size
          : body.items.length,
      )
    },
  )

  it.skipIf(skip)(`has no serious accessibility violations (axe-core)${note}`, async () => {
    const t = target()
    const problems: string[] = []
    for (const path of ['topics', 'connections', `tail?topic=${uniqueTopic('axe')}`]) {
      await page.goto(`${t.url}/admin/${path}`)
      await page.getByRole('tablist').waitFor()
      await page.waitForFunction(() => !document.querySelector('[data-testid=loading]'))
      problems.push(...(await axeViolations(page)).map((v) => `${path}: ${v}`))
    }
    expect(problems).toEqual([])
  })

  it.skipIf(skip)(`fits a phone screen: no sideways scrolling on any view${note}`, async () => {
    const t = target()
    const ctx = await (browser as Browser).newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    })
    const phone = await ctx.newPage()
    phone.setDefaultTimeout(15_000)
    try {
      await phone.goto(`${t.url}/admin/`)
      await phone.getByLabel('API key').fill(t.apiKey)
      await phone.getByRole('button', { name: 'Sign in' }).click()
      await phone.getByTestId('node-row').first().waitFor()
      for (const path of ['topics', 'connections', 'tail?topic=a,b/*']) {
        await phone.goto(`${t.url}/admin/${path}`)
        await phone.getByRole('tablist').waitFor()
        await phone.waitForFunction(() => !document.querySelector('[data-testid=loading]'))
        const wide = await phone.evaluate(
          () => document.documentElement.scrollWidth > window.innerWidth,
        )
        expect(wide, `${path} scrolls sideways`).toBe(false)
        if (path === 'topics') await shot(phone, t, 'phone-topics')
      }
    } finally {
      await ctx.close()
    }
  })
})
