import { mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { selectedTargets, type Target, type TargetFactory } from '../targets/index.ts'
import { ROOT } from '../targets/util.ts'

const availability = new Map<string, string | undefined>()
for (const f of selectedTargets()) {
  const reason = await f.unavailable()
  availability.set(f.name, reason)
  if (reason) {
    const dir = resolve(ROOT, 'test-results/raw')
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      resolve(dir, `not-run-${f.name}.json`),
      JSON.stringify({ target: f.name, reason }),
    )
  }
}

/**
 * Runs `suite` once per selected target against a real gateway started for this file. A target
 * that cannot run here is skipped by name and recorded under test-results/raw/not-run-*.json.
 */
export function forEachTarget(suite: (t: () => Target, factory: TargetFactory) => void): void {
  for (const factory of selectedTargets()) {
    const reason = availability.get(factory.name)
    describe.skipIf(reason !== undefined)(
      `${factory.name}${reason ? ` (not run: ${reason})` : ''}`,
      () => {
        let target: Target | undefined
        beforeAll(async () => {
          target = await factory.start()
        })
        afterAll(async () => {
          await target?.stop()
        })
        suite(() => {
          if (!target) throw new Error(`target ${factory.name} did not start`)
          return target
        }, factory)
      },
    )
  }
}

let n = 0
/** A topic name no other test uses. */
export function uniqueTopic(prefix = 't'): string {
  n++
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${n}`
}
