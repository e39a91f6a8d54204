import { clusterTarget } from './cluster.ts'
import { nodeTarget, nodeWorkersTarget } from './node.ts'
import type { TargetFactory } from './types.ts'
import { cfDevTarget, cloudflareTarget, wranglerDevTarget } from './wrangler.ts'

/**
 * Every target the suites know. `E2E_TARGETS=node,node-workers` narrows the list; a target
 * that cannot run here is reported as not run, by name, never passed.
 */
export const ALL_TARGETS: TargetFactory[] = [
  nodeTarget,
  nodeWorkersTarget,
  clusterTarget,
  cfDevTarget,
  wranglerDevTarget,
  cloudflareTarget,
]

export function selectedTargets(): TargetFactory[] {
  const only = process.env.E2E_TARGETS?.split(',').map((s) => s.trim())
  return only ? ALL_TARGETS.filter((t) => only.includes(t.name)) : ALL_TARGETS
}

export type { Target, TargetFactory } from './types.ts'
