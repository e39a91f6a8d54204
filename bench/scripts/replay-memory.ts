// What the replay window costs in memory at its default bounds, measured in one process with the
// gateway's own store (packages/core ReplayStore, what the memory namespace uses):
//   node --expose-gc --import tsx bench/scripts/replay-memory.ts
// Prints heap bytes per held event and per full topic window, and the heap of a node whose
// windows fill the per-node budget. Figures go to benchmark-results/ by hand (docs/benchmarks.md).
import { randomBytes } from 'node:crypto'
import { ReplayStore, loadConfig } from '@sse-gateway/core'

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with node --expose-gc')
const heap = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}
const { replay } = loadConfig({})
const mib = (n: number) => `${(n / 1_048_576).toFixed(1)} MiB`

function fill(topics: number, events: number, body: number): { heap: number; held: number } {
  const before = heap()
  const store = new ReplayStore(replay)
  for (let t = 0; t < topics; t++) store.position(`topic-${t}`)
  for (let i = 0; i < events; i++) {
    for (let t = 0; t < topics; t++) {
      // A fresh string per event, decoded from bytes as a publish body read from a socket is.
      store.append(`topic-${t}`, { id: `evt-${i}`, data: randomBytes(body / 2).toString('hex') })
    }
  }
  const after = heap()
  const held = store.bytes
  ;(globalThis as { keep?: unknown }).keep = store
  return { heap: after - before, held }
}

console.log(
  `defaults: ${replay.events} events, ${replay.ageMs / 1000} s, ${mib(replay.topicBytes)} per topic, ${mib(replay.budgetBytes)} per node`,
)
for (const body of [100, 1_000]) {
  const one = fill(1, replay.events, body)
  console.log(
    `one topic, ${replay.events} events of ${body} B: heap +${mib(one.heap)} (${Math.round(one.heap / replay.events)} B an event; counted ${mib(one.held)})`,
  )
}
const node = fill(2_000, 100, 1_000)
console.log(
  `2,000 topics x 100 events of 1000 B (past the budget): heap +${mib(node.heap)}, counted ${mib(node.held)} (budget ${mib(replay.budgetBytes)})`,
)
const idle = fill(100_000, 0, 0)
console.log(
  `100,000 topics with a position and no events: heap +${mib(idle.heap)} (${Math.round(idle.heap / 100_000)} B a topic)`,
)
