// Each example's own unit tests of its event-stream parser (the cases a gateway never sends:
// CR and CRLF line ends, `retry:`, a NUL in `id:`, a byte order mark, an unfinished event),
// run with that language's usual test runner.
import { spawnSync } from 'node:child_process'
import { expect, it } from 'vitest'
import { has, LANGUAGES } from './languages.ts'

for (const lang of LANGUAGES) {
  const { cmd, args, cwd } = lang.unitTests
  const toolchain = has(cmd)
  it.skipIf(!toolchain)(
    `${lang.name} parser unit tests pass (${cmd} ${args.join(' ')})${toolchain ? '' : ` (not run: ${cmd} not found)`}`,
    () => {
      const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000 })
      expect(r.status, `${r.stdout}\n${r.stderr}${r.error ? `\n${r.error.message}` : ''}`).toBe(0)
    },
    300_000,
  )
}
