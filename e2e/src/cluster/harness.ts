import { mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { type Cluster, clusterTarget, startCluster } from '../targets/cluster.ts'
import { selectedTargets } from '../targets/index.ts'
import { ROOT } from '../targets/util.ts'

const selected = selectedTargets().some((t) => t.name === clusterTarget.name)
const unavailable = selected ? await clusterTarget.unavailable() : undefined
if (unavailable) {
  const dir = resolve(ROOT, 'test-results/raw')
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    resolve(dir, `not-run-${clusterTarget.name}.json`),
    JSON.stringify({ target: clusterTarget.name, reason: unavailable }),
  )
}
const skip = !selected ? 'not selected by E2E_TARGETS' : unavailable

/**
 * Runs `suite` against a 3-node cluster (redis-server + nodes on 127.0.0.2-4) started for this
 * file. Skipped by name, and recorded as not run, where the cluster cannot run here.
 */
export function describeCluster(
  title: string,
  opts: { ttlMs?: number },
  suite: (cluster: () => Cluster) => void,
): void {
  describe.skipIf(skip !== undefined)(
    `node-cluster: ${title}${skip ? ` (not run: ${skip})` : ''}`,
    () => {
      let cluster: Cluster | undefined
      beforeAll(async () => {
        cluster = await startCluster(opts)
      })
      afterAll(async () => {
        await cluster?.stop()
      })
      suite(() => {
        if (!cluster) throw new Error('the cluster did not start')
        return cluster
      })
    },
  )
}

let n = 0
/** A topic name no other test uses. */
export function topic(prefix = 'c'): string {
  n++
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${n}`
}
