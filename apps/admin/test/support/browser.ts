import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { ROOT } from './gateway.ts'

/** Debian's Chromium (scripts/setup.d/30-chromium.sh installs it); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const SHOTS = resolve(ROOT, 'test-results/admin')
const DOCS_IMAGES = resolve(ROOT, 'docs/images')

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** Says by name that the browser tests did not run here (reported by scripts/test-summary.mjs). */
export function reportNotRun(reason: string): void {
  const dir = resolve(ROOT, 'test-results/raw')
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    resolve(dir, 'not-run-admin-ui.json'),
    JSON.stringify({ target: 'admin-ui (Chromium)', reason }),
  )
}

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (run make setup)`
}

/**
 * Saves a screenshot under test-results/admin/ for people to look at; with
 * UPDATE_DOCS_SCREENSHOTS=1 also as docs/images/admin-<name>.png (the images the docs show).
 */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  const png = await page.screenshot({ animations: 'disabled', fullPage })
  writeFileSync(resolve(SHOTS, `${name}.png`), png)
  if (process.env.UPDATE_DOCS_SCREENSHOTS) {
    mkdirSync(DOCS_IMAGES, { recursive: true })
    writeFileSync(resolve(DOCS_IMAGES, `admin-${name}.png`), png)
  }
}

/** True when the page scrolls sideways: content wider than the screen. */
export function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)
}
