import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  chromiumMissing,
  launchChromium,
  overflowsSideways,
  screenshot,
} from './support/browser.ts'
import { publish, type Subscriber, subscribe } from './support/clients.ts'
import { GatewayProcess, missingBuilds } from './support/gateway.ts'
import { openScene } from './support/scene.ts'

const noChromium = chromiumMissing() // reported as not run by admin-ui.test.ts
const KEY = 'phone-key'

describe.skipIf(!!noChromium)('admin UI on a phone-sized screen', () => {
  let gw: GatewayProcess
  let browser: Browser
  let page: Page
  let scene: Awaited<ReturnType<typeof openScene>>
  let sub: Subscriber

  beforeAll(async () => {
    const missing = missingBuilds()
    if (missing) throw new Error(missing)
    gw = await GatewayProcess.start(KEY)
    browser = await launchChromium()
    scene = await openScene(browser, gw.url, KEY)
    sub = await subscribe(gw.url, 'jobs:build-17')
    const ctx = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    })
    page = await ctx.newPage()
    page.setDefaultTimeout(10_000)
  })

  afterAll(async () => {
    sub?.close()
    await scene?.close()
    await browser?.close()
    await gw?.stop()
  })

  it('signs in and lists topics without sideways scrolling', async () => {
    await page.goto(`${gw.url}/admin/`)
    await page.getByLabel('API key').fill(KEY)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('[data-testid=topic-row][data-topic="jobs:build-17"]').waitFor()
    expect(await overflowsSideways(page)).toBe(false)
    await screenshot(page, 'phone-topics')
  })

  it('shows connections as cards, each with its disconnect button', async () => {
    await page.getByRole('tab', { name: 'Connections' }).tap()
    await page.getByTestId('connection-card').first().waitFor()
    expect(await page.getByTestId('connection-row').first().isVisible()).toBe(false)
    const card = page.locator(`[data-testid=connection-card][data-id="${sub.id}"]`)
    await card.getByRole('button', { name: `Disconnect ${sub.id}` }).waitFor()
    expect(await overflowsSideways(page)).toBe(false)
    await screenshot(page, 'phone-connections')
  })

  it('tails a topic', async () => {
    await page.goto(`${gw.url}/admin/tail?topic=jobs:build-17`)
    await page.locator('[data-testid=tail-status][data-state=live]').waitFor()
    await publish(gw.url, KEY, {
      topic: 'jobs:build-17',
      id: 'p-1',
      event: 'progress',
      data: '{"step":"test","pct":80,"note":"a long line of JSON that has to wrap on a narrow screen"}',
    })
    await publish(gw.url, KEY, {
      topic: 'jobs:build-17',
      id: 'p-2',
      event: 'log',
      data: 'all 214 tests passed',
    })
    await page.locator('[data-testid=tail-entry][data-id="p-2"]').waitFor()
    expect(await overflowsSideways(page)).toBe(false)
    await screenshot(page, 'phone-tail')
  })
})
