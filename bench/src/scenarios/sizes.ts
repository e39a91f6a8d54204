/** How big each scenario is: `quick` fits `make bench` in under 5 minutes, `full` is the issue's. */
export interface Sizes {
  mode: 'quick' | 'full'
  fanout: { subscribers: number[]; deliveriesPerBurst: number; rounds: number; conns: number }
  manyTopics: { topics: number; publishes: number; rounds: number; conns: number }
  latency: { subscribers: number; rates: number[]; seconds: number }
  drop: { seconds: number; conns: number; partialTries: number; partialTimeoutMs: number }
  /**
   * Idle SSE connections held at once (per case); idle WebSocket connections (per case, none by
   * default); `idleMs`: after the first reading, wait this long and read the memory again (a
   * Durable Object holding only hibernatable WebSockets is evicted after 10–20 s idle; 0 = once).
   */
  connections: { counts: number[]; wsCounts: number[]; idleMs: number }
  publish: { seconds: number; conns: number; bodies: number[] }
  /** Pipelined publishes: `depth` requests per write on `conns` connections; one publisher's `window`. */
  pipelined: { seconds: number; conns: number; depth: number; window: number }
  /** Subscriber processes in the load generator (more for many connections). */
  subscriberProcs: number
  publisherProcs: number
}

export const SIZES: Record<'quick' | 'full', Sizes> = {
  quick: {
    mode: 'quick',
    fanout: { subscribers: [100, 1_000], deliveriesPerBurst: 200_000, rounds: 2, conns: 8 },
    manyTopics: { topics: 1_000, publishes: 10_000, rounds: 1, conns: 16 },
    latency: { subscribers: 1_000, rates: [50], seconds: 5 },
    drop: { seconds: 3, conns: 16, partialTries: 3, partialTimeoutMs: 2_000 },
    connections: { counts: [5_000], wsCounts: [], idleMs: 0 },
    publish: { seconds: 2, conns: 8, bodies: [16, 16_384] },
    pipelined: { seconds: 3, conns: 16, depth: 8, window: 64 },
    subscriberProcs: 2,
    publisherProcs: 2,
  },
  full: {
    mode: 'full',
    fanout: { subscribers: [100, 1_000, 10_000], deliveriesPerBurst: 500_000, rounds: 3, conns: 8 },
    manyTopics: { topics: 10_000, publishes: 40_000, rounds: 2, conns: 16 },
    latency: { subscribers: 1_000, rates: [50, 200], seconds: 15 },
    drop: { seconds: 5, conns: 16, partialTries: 5, partialTimeoutMs: 3_000 },
    connections: { counts: [10_000, 18_000, 50_000], wsCounts: [], idleMs: 0 },
    publish: { seconds: 5, conns: 8, bodies: [16, 16_384] },
    pipelined: { seconds: 5, conns: 16, depth: 8, window: 64 },
    subscriberProcs: 4,
    publisherProcs: 2,
  },
}

/**
 * A copy of `base` with `path=value` overrides, e.g. `fanout.subscribers=100,1000` or
 * `latency.seconds=30` (numbers, or comma-separated lists where the size is a list).
 */
export function withOverrides(base: Sizes, overrides: string[]): Sizes {
  const sizes = structuredClone(base) as unknown as Record<string, unknown>
  for (const o of overrides) {
    const [path = '', value = ''] = o.split('=')
    const keys = path.split('.')
    const last = keys.pop() as string
    let obj = sizes
    for (const k of keys) obj = obj[k] as Record<string, unknown>
    if (!obj || !(last in obj)) throw new Error(`unknown size ${path}`)
    const nums = value.split(',').map(Number)
    if (nums.some(Number.isNaN)) throw new Error(`size ${path}: ${value} is not a number`)
    obj[last] = Array.isArray(obj[last]) ? nums : nums[0]
  }
  return sizes as unknown as Sizes
}
