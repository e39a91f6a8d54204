import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  chromiumMissing,
  launchChromium,
  overflowsSideways,
  reportNotRun,
  screenshot,
} from './support/browser.ts'
import { publish, type Subscriber, subscribe, within } from './support/clients.ts'
import { GatewayProcess, missingBuilds } from './support/gateway.ts'
import { adminGet, openScene, topicNames, until } from './support/scene.ts'

const noChromium = chromiumMissing()
if (noChromium) reportNotRun(noChromium)

const KEY = 'admin-ui-key'
const row = (topic: string) => `[data-testid=topic-row][data-topic="${topic}"]`
const entry = (id: string, kind: 'publish' | 'drop') =>
  `[data-testid=tail-entry][data-id="${id}"][data-kind=${kind}]`

/** Ids of the connection rows on screen once `label` shows `n` rows none of which are in `seen`. */
async function pageOfRows(page: Page, label: string, n: number, seen: string[]) {
  const handle = await page.waitForFunction(
    ([label, n, seen]) => {
      const ids = [...document.querySelectorAll('[data-testid=connection-row]')].map(
        (e) => e.getAttribute('data-id') ?? '',
      )
      const shown = document.querySelector('[data-testid=page-label]')?.textContent
      const ok = shown === label && ids.length === n && ids.every((i) => !seen.includes(i))
      return ok ? ids : null
    },
    [label, n, seen] as const,
    { timeout: 10_000 },
  )
  return (await handle.jsonValue()) as string[]
}

describe.skipIf(!!noChromium)('admin UI in Chromium against a real gateway', () => {
  let gw: GatewayProcess
  let browser: Browser
  let page: Page
  let scene: Awaited<ReturnType<typeof openScene>>
  const subs: Subscriber[] = []

  beforeAll(async () => {
    const missing = missingBuilds()
    if (missing) throw new Error(missing)
    gw = await GatewayProcess.start(KEY)
    browser = await launchChromium()
    scene = await openScene(browser, gw.url, KEY)
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    page = await ctx.newPage()
    page.setDefaultTimeout(10_000)
  })

  afterAll(async () => {
    for (const s of subs) s.close()
    await scene?.close()
    await browser?.close()
    await gw?.stop()
  })

  it('refuses a wrong key with a clear message, then signs in with a right one', async () => {
    await page.goto(`${gw.url}/admin/`)
    await page.getByLabel('API key').fill('not-a-key')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByTestId('login-error').getByText('refused this key').waitFor()
    await screenshot(page, 'login')
    await page.getByLabel('API key').fill(KEY)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('tab', { name: 'Topics', selected: true }).waitFor()
  })

  it('keeps the key across a reload, and shows live topics', async () => {
    await page.reload()
    await page.getByRole('tab', { name: 'Topics', selected: true }).waitFor()
    expect(await page.getByLabel('API key').count()).toBe(0)
    await page.locator(row('user:456:notifications')).waitFor()
    expect(
      await page.locator(row('user:456:notifications')).locator('td').nth(1).textContent(),
    ).toBe('4')
    expect(await overflowsSideways(page)).toBe(false)
    await screenshot(page, 'topics')
  })

  it('lists a topic after a real subscriber connects and not after it leaves', async () => {
    const sub = await subscribe(gw.url, 'orders:42')
    await until(async () => (await topicNames(gw.url, KEY)).includes('orders:42'), 'orders:42 live')
    await page.getByRole('button', { name: 'Refresh' }).click()
    await page.locator(row('orders:42')).waitFor()
    await page.getByLabel('Filter topics').fill('orders:4')
    // Searched on the gateway by prefix as the user types.
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=topic-row]').length === 1,
    )
    expect(await page.locator(row('orders:42')).count()).toBe(1)
    sub.close()
    await until(
      async () => !(await topicNames(gw.url, KEY)).includes('orders:42'),
      'orders:42 gone',
    )
    await page.getByRole('button', { name: 'Refresh' }).click()
    await page.locator(row('orders:42')).waitFor({ state: 'detached' })
    await page.getByText('No topic matches').waitFor()
    await page.getByLabel('Filter topics').fill('')
  })

  it('pages through connections with the server cursors', async () => {
    for (let i = 0; i < 23; i++) subs.push(await subscribe(gw.url, 'feed:prices'))
    const opened = subs.map((s) => s.id)
    await until(async () => {
      const body = await adminGet<{ items: unknown[] }>(
        gw.url,
        KEY,
        '/connections?topic=feed:prices&limit=500',
      )
      return body.items.length === 23
    }, '23 connections listed')
    await page
      .locator(row('user:456:notifications'))
      .getByRole('link', { name: /Connections/ })
      .click()
    await page.getByLabel('Topic', { exact: true }).fill('feed:prices')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.getByLabel('Page size').selectOption('10')
    const p1 = await pageOfRows(page, 'Page 1', 10, [])
    await page.getByRole('button', { name: 'Next' }).click()
    const p2 = await pageOfRows(page, 'Page 2', 10, p1)
    await page.getByRole('button', { name: 'Next' }).click()
    const p3 = await pageOfRows(page, 'Page 3', 3, [...p1, ...p2])
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true)
    expect([...p1, ...p2, ...p3].sort()).toEqual([...opened].sort())
    await page.getByRole('button', { name: 'Previous' }).click()
    expect((await pageOfRows(page, 'Page 2', 10, [...p1, ...p3])).sort()).toEqual([...p2].sort())
    await page.getByRole('button', { name: 'Clear topic' }).click()
    await pageOfRows(page, 'Page 1', 10, [])
    expect(await overflowsSideways(page)).toBe(false)
    await screenshot(page, 'connections', true)
  })

  it('disconnects a connection only after confirmation', async () => {
    const sub = await subscribe(gw.url, 'chat:room-7')
    await page.getByLabel('Topic', { exact: true }).fill('chat:room-7')
    await page.getByRole('button', { name: 'Filter' }).click()
    const button = page.getByRole('button', { name: `Disconnect ${sub.id}` })
    await button.click()
    await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click()
    await page.getByRole('alertdialog').waitFor({ state: 'detached' })
    expect(await page.locator(`[data-testid=connection-row][data-id="${sub.id}"]`).count()).toBe(1)
    await button.click()
    await screenshot(page, 'disconnect')
    await page.getByRole('alertdialog').getByRole('button', { name: 'Disconnect' }).click()
    await within(sub.ended, 5_000, 'the subscriber sees its stream end')
    await page.getByText('No live connections').waitFor()
    await page.getByText('Disconnected.').waitFor()
  })

  it('tails a topic: drops, then delivered events; pause holds events, clear empties', async () => {
    await page.goto(`${gw.url}/admin/tail`)
    await page.getByText('Choose a topic to tail').waitFor()
    await page.getByLabel('Topic', { exact: true }).fill('jobs:build-17')
    await page.getByRole('button', { name: 'Tail', exact: true }).click()
    await page.locator('[data-testid=tail-status][data-state=live]').waitFor()
    expect(
      (await publish(gw.url, KEY, { topic: 'jobs:build-17', id: 'j-1', data: 'x' })).dropped,
    ).toEqual(['jobs:build-17'])
    await page.locator(entry('j-1', 'drop')).waitFor()

    subs.push(await subscribe(gw.url, 'jobs:build-17'))
    await publish(gw.url, KEY, {
      topic: 'jobs:build-17',
      id: 'j-2',
      event: 'progress',
      data: '{"step":"compile","pct":40}',
    })
    await publish(gw.url, KEY, {
      topic: 'jobs:build-17',
      id: 'j-3',
      event: 'log',
      data: 'compiling 12 files\nlinking',
    })
    await page.locator(entry('j-3', 'publish')).waitFor()
    expect(await page.locator(entry('j-2', 'publish')).getByTestId('tail-data').textContent()).toBe(
      '{"step":"compile","pct":40}',
    )
    expect(await page.locator(entry('j-3', 'publish')).getByTestId('tail-data').textContent()).toBe(
      'compiling 12 files\nlinking',
    )
    expect(await page.getByTestId('tail-entry').first().getAttribute('data-id')).toBe('j-3')
    await screenshot(page, 'tail')

    await page.getByRole('button', { name: 'Pause' }).click()
    await publish(gw.url, KEY, { topic: 'jobs:build-17', id: 'j-4', data: 'held' })
    await page.getByRole('button', { name: 'Resume (1 new)' }).click()
    await page.locator(entry('j-4', 'publish')).waitFor()
    await page.getByRole('button', { name: 'Clear' }).click()
    expect(await page.getByTestId('tail-entry').count()).toBe(0)
    await page.getByText('0 events').waitFor()
  })

  it('the tail reconnects by itself after the gateway restarts', async () => {
    await gw.restart({
      between: () =>
        page
          .locator('[data-testid=tail-status][data-state=reconnecting]')
          .waitFor()
          .then(() => {}),
    })
    await page.locator('[data-testid=tail-status][data-state=live]').waitFor({ timeout: 20_000 })
    await publish(gw.url, KEY, { topic: 'jobs:build-17', id: 'j-5', data: 'after restart' })
    await page.locator(entry('j-5', 'drop')).waitFor()
  })

  it('a key the gateway stops accepting sends the user back to sign in', async () => {
    await page.getByRole('tab', { name: 'Topics' }).click()
    await gw.restart({ apiKey: 'rotated-key' })
    await page.getByRole('button', { name: 'Refresh' }).click()
    await page.getByText('no longer accepts the saved key').waitFor()
    expect(await page.evaluate(() => localStorage.length)).toBe(0)
    await page.getByLabel('API key').fill('rotated-key')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('tab', { name: 'Topics', selected: true }).waitFor()
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('API key').waitFor()
    expect(await page.evaluate(() => localStorage.length)).toBe(0)
  })
})
