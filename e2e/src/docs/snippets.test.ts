import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clusterTarget } from '../targets/cluster.ts'
import { startNodeGateway } from '../targets/node.ts'
import type { Target } from '../targets/types.ts'
import { ROOT } from '../targets/util.ts'

/**
 * Every `sh` block of the README and docs/ made only of curl commands runs as written against a
 * real gateway (the documented address and keys swapped for the test gateway's). A block passes
 * when curl succeeds (a `curl -N` stream may be cut by the timeout) and no error JSON comes back.
 */
interface Snippet {
  file: string
  line: number
  code: string
}

function snippets(): Snippet[] {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ]
  const out: Snippet[] = []
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(sh|bash|shell)\s*$/.test(lines[i] ?? '')) continue
      const start = i + 1
      const body: string[] = []
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '')
      const code = body.join('\n')
      const commands = code
        .replace(/\\\n/g, ' ')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
      if (commands.length > 0 && commands.every((c) => /^curl\s/.test(c)))
        out.push({ file, line: start, code })
    }
  }
  return out
}

const all = snippets()
/** Blocks written for `make cluster` (nodes on 127.0.0.2-4) run against the cluster target. */
const forCluster = (s: Snippet) => /127\.0\.0\.[2-4]:8787/.test(s.code)
let gw: (Target & { pid: number }) | undefined
let cluster: Target | undefined

beforeAll(async () => {
  // The keys the docs use: dev-key and k1 (getting started, README), change-me (compose).
  gw = await startNodeGateway({ API_KEYS: 'dev-key,k1,change-me' })
  if (all.some(forCluster) && !(await clusterTarget.unavailable()))
    cluster = await clusterTarget.start()
})
afterAll(async () => {
  await gw?.stop()
  await cluster?.stop()
})

/** The snippet with the documented addresses and placeholder key made real. */
function localize(s: Snippet): string {
  if (!forCluster(s)) return s.code.replaceAll('127.0.0.1:8787', new URL(gw?.url ?? '').host)
  if (!cluster) throw new Error('the cluster target is not available here')
  let code = s.code.replaceAll('sk_…', cluster.apiKey)
  cluster.urls.forEach((u, i) => {
    code = code.replaceAll(`http://127.0.0.${i + 2}:8787`, u)
  })
  return code
}

describe('documented curl commands work as written', () => {
  it('finds the snippets', () => {
    expect(all.length).toBeGreaterThanOrEqual(8)
  })

  it.each(all.map((s) => [`${s.file}:${s.line}`, s] as const))('%s', (_name, s) => {
    const url = gw?.url ?? ''
    const script = localize(s)
    const streaming = /curl\s[^\n]*-N\b/.test(script)
    const res = spawnSync('bash', ['-c', script], {
      env: { ...process.env, GW: url, KEY: 'dev-key' },
      encoding: 'utf8',
      timeout: streaming ? 2000 : 15_000,
    })
    const out = `${res.stdout}${res.stderr}`
    if (streaming) {
      expect(
        res.error === undefined || (res.error as NodeJS.ErrnoException).code === 'ETIMEDOUT',
        out,
      ).toBe(true)
      expect(res.stdout, out).toMatch(/: connected/)
    } else {
      expect(res.status, out).toBe(0)
    }
    expect(res.stdout, out).not.toMatch(/"error":\{/)
  })
})
