import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
}

/**
 * The functions that took the most CPU in a V8 profile (`node --cpu-prof`), by self time:
 * what to look at first on the hot path.
 */
export function summarizeProfile(file: string, top: number): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const total = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0)
  const seconds = (p.endTime - p.startTime) / 1e6
  const byFn = new Map<string, number>()
  const byFile = new Map<string, number>()
  for (const n of p.nodes) {
    const hits = n.hitCount ?? 0
    if (hits === 0) continue
    const f = n.callFrame
    const key = keyOf(n)
    byFn.set(key, (byFn.get(key) ?? 0) + hits)
    const file = f.url ? basename(f.url) : f.functionName
    byFile.set(file, (byFile.get(file) ?? 0) + hits)
  }
  const inclusive = inclusiveHits(p.nodes, keyOf)
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(6)}%  ${k}`)
  return [
    `${file}: ${total} samples over ${seconds.toFixed(1)} s`,
    '',
    'Self time by function:',
    ...rows(byFn),
    '',
    'Self time by script:',
    ...rows(byFile),
    '',
    'Total time (self + callees) by function:',
    ...rows(inclusive),
    '',
  ].join('\n')
}

function keyOf(n: ProfileNode): string {
  const f = n.callFrame
  const where = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : ''
  return `${f.functionName || '(anonymous)'} ${where}`.trim()
}

/** Samples under each function (counted once per sample, however deep it recurses). */
function inclusiveHits(nodes: ProfileNode[], key: (n: ProfileNode) => string): Map<string, number> {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const childIds = new Set(nodes.flatMap((n) => n.children ?? []))
  const out = new Map<string, number>()
  const subtree = new Map<number, number>()
  const total = (n: ProfileNode): number => {
    const known = subtree.get(n.id)
    if (known !== undefined) return known
    let t = n.hitCount ?? 0
    for (const c of n.children ?? []) {
      const child = byId.get(c)
      if (child) t += total(child)
    }
    subtree.set(n.id, t)
    return t
  }
  const walk = (n: ProfileNode, onStack: Set<string>) => {
    const k = key(n)
    const fresh = !onStack.has(k)
    if (fresh) {
      out.set(k, (out.get(k) ?? 0) + total(n))
      onStack.add(k)
    }
    for (const c of n.children ?? []) {
      const child = byId.get(c)
      if (child) walk(child, onStack)
    }
    if (fresh) onStack.delete(k)
  }
  for (const n of nodes) if (!childIds.has(n.id)) walk(n, new Set())
  return out
}
