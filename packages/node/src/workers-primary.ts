import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import type {
  Config,
  ConnectionInfo,
  GatewayEvent,
  NodeInfo,
  NodeStats,
  Page,
  ResumeAsk,
  Stats,
} from '@sse-gateway/core'
import type { Logger } from 'pino'
import { AggregatorRegistry, Gauge } from 'prom-client'
import {
  Batcher,
  type Envelope,
  isEnvelope,
  type PrimaryAsk,
  TAG,
  type ToPrimary,
  type ToWorker,
} from './workers-ipc.ts'
import { mergeConnectionPages, WorkersDirectory } from './workers-directory.ts'

interface Held {
  worker: Worker
  node: string
  out: Batcher<ToWorker>
  asks: Map<number, (r: unknown) => void>
  /**
   * Said hello: its namespace listens to the channel (a message sent before would be lost) and
   * has the live topics of that moment; every later change reaches it in order.
   */
  ready: boolean
}

/** Node id of a worker: the host's node id, `-w`, the cluster's worker id (a replacement's is new). */
export function workerNodeId(base: string, workerId: number): string {
  return `${base}-w${workerId}`
}

/**
 * The primary of WORKERS=N (no Redis): forks the workers (they share the port through the
 * cluster module), restarts one that dies unexpectedly, drains them all on SIGTERM/SIGINT, and
 * is the host's directory and sequencer (see WorkersDirectory) that the workers' namespaces ask.
 * With Redis the workers are cluster nodes of their own and `directory` is false: the primary
 * only forks, restarts and drains.
 */
export function runPrimary(opts: {
  config: Config
  count: number
  baseNodeId: string
  log: Logger
  directory: boolean
  /** Extra environment for the workers (a generated API key, so they all share it). */
  env: Record<string, string>
  onListening: (address: string, port: number) => void
  exit: (code: number) => void
}): void {
  const { config, log } = opts
  const dir = new WorkersDirectory({ replay: config.replay, lingerMs: config.lingerMs })
  const held = new Map<number, Held>()
  let askSeq = 0
  let draining = false
  let announced = false

  const nodeOf = (w: number) => held.get(w)?.node ?? workerNodeId(opts.baseNodeId, w)

  /**
   * Asks every ready worker; `done` runs with their answers (null from a worker gone) in the same
   * turn as the last answer arrives, before any message after it is handled.
   */
  const askEach = (op: PrimaryAsk, a: unknown, done: (answers: unknown[]) => void): void => {
    const targets = [...held.values()].filter((h) => h.ready)
    const answers: unknown[] = new Array(targets.length).fill(null)
    let left = targets.length
    if (left === 0) {
      done(answers)
      return
    }
    for (const [i, h] of targets.entries()) {
      const id = ++askSeq
      h.asks.set(id, (r) => {
        answers[i] = r
        if (--left === 0) done(answers)
      })
      h.out.push({ k: 'ask', id, op, a })
    }
  }
  const askAll = (op: PrimaryAsk, a?: unknown): Promise<unknown[]> =>
    new Promise((resolve) => askEach(op, a, resolve))

  /**
   * A subscriber's attach. Every worker has its topics live before it hears `: connected`, so a
   * publish made after that, on any worker, is never dropped. The history is read and the answer
   * queued in one step, with no publish sequenced between: what was sequenced before is in the
   * history, what comes after reaches the worker after the answer on the same FIFO channel.
   */
  const attach = (h: Held, key: number, id: number, a: unknown): void => {
    const { topics, asks } = a as { topics: string[]; asks?: ResumeAsk[] }
    const live = dir.attach(key, topics)
    const reply = () => {
      if (held.get(key) !== h) return
      h.out.push({ k: 'res', id, r: dir.histories(topics, asks) })
    }
    if (live.length === 0) reply()
    else askEach('live', live, reply)
  }

  const tellDead = (topics: string[]) => {
    if (topics.length === 0) return
    for (const h of held.values()) if (h.ready) h.out.push({ k: 'dead', topics })
  }

  const sweeper = setInterval(
    () => {
      tellDead(dir.expireLingering())
      dir.sweep()
    },
    Math.min(30_000, Math.max(1_000, Math.floor(config.replay.ageMs / 4))),
  )
  sweeper.unref()
  if (config.lingerMs > 0) {
    setInterval(() => tellDead(dir.expireLingering()), Math.max(100, config.lingerMs / 4)).unref()
  }

  /**
   * The host's `/metrics`: the workers' figures summed (prom-client's aggregation: counters,
   * connections and histograms add up; process figures as prom-client aggregates them), the
   * topics counted once per host, and the replay windows, which are the primary's.
   */
  const hostMetrics = (perWorker: Array<object | null>): Promise<string> => {
    const reg = AggregatorRegistry.aggregate(perWorker.filter((m) => m !== null))
    reg.removeSingleMetric('sse_gateway_topics')
    new Gauge({
      name: 'sse_gateway_topics',
      help: 'Topics with at least one subscriber on this host (every worker)',
      registers: [reg],
    }).set(dir.topicCount())
    new Gauge({
      name: 'sse_gateway_replay_bytes',
      help: 'Bytes held in the replay windows of this host (the primary)',
      registers: [reg],
    }).set(dir.store.bytes)
    return reg.metrics()
  }

  const answer = async (op: string, a: unknown): Promise<unknown> => {
    switch (op) {
      case 'anyConnection':
        return dir.connectionCount() > 0
      case 'broadcast': {
        const counts = (await askAll('broadcast', a)) as Array<number | null>
        return counts.reduce<number>((n, c) => n + (c ?? 0), 0)
      }
      case 'sendTo':
        return ((await askAll('sendTo', a)) as unknown[]).some((r) => r === true)
      case 'disconnect':
        return ((await askAll('disconnect', a)) as unknown[]).some((r) => r === true)
      case 'presence':
        return dir.presence(a as string, nodeOf)
      case 'listTopics':
        return dir.listTopics(a as Parameters<WorkersDirectory['listTopics']>[0], nodeOf)
      case 'listConnections': {
        const pages = (await askAll('listConnections', a)) as Array<Page<ConnectionInfo> | null>
        const limit = (a as { limit: number }).limit
        return mergeConnectionPages(
          pages.filter((p) => p !== null),
          limit,
        )
      }
      case 'stats': {
        const nodes = ((await askAll('stats')) as Array<NodeStats | null>).filter((n) => n !== null)
        nodes.sort((x, y) => (x.node < y.node ? -1 : 1))
        const totals: Record<string, number | string> = {}
        for (const n of nodes) {
          for (const [k, v] of Object.entries(n)) {
            if (typeof v === 'number') totals[k] = ((totals[k] as number | undefined) ?? 0) + v
          }
        }
        totals.topics = dir.topicCount()
        totals.asOf = new Date().toISOString()
        return { ...totals, nodes } as unknown as Stats
      }
      case 'metrics':
        return hostMetrics((await askAll('metrics')) as Array<object | null>)
      case 'nodes': {
        const nodes = ((await askAll('node')) as Array<NodeInfo | null>).filter((n) => n !== null)
        return nodes.sort((x, y) => (x.id < y.id ? -1 : 1))
      }
      default:
        throw new Error(`unknown request ${op}`)
    }
  }

  const onMessage = (key: number, msg: ToPrimary) => {
    const h = held.get(key)
    if (!h) return
    switch (msg.k) {
      case 'req': {
        if (msg.op === 'hello') {
          // Answered in this turn: every live/dead change after it follows it on the channel.
          h.ready = true
          h.out.push({ k: 'res', id: msg.id, r: { live: dir.liveTopics() } })
          return
        }
        if (msg.op === 'attach') {
          attach(h, key, msg.id, msg.a)
          return
        }
        if (msg.op === 'publish') {
          // Sequenced and sent in this turn: one topic's events leave in sequence order.
          const { ev, to } = dir.publish(msg.a as GatewayEvent)
          let answered = false
          for (const w of to) {
            const t = held.get(w)
            if (!t) continue
            if (w === key) {
              answered = true
              t.out.push({ k: 'ev', ev, req: msg.id })
            } else t.out.push({ k: 'ev', ev })
          }
          if (!answered) h.out.push({ k: 'res', id: msg.id, r: 0 })
          return
        }
        answer(msg.op, msg.a).then(
          (r) => h.out.push({ k: 'res', id: msg.id, r }),
          (err: unknown) => h.out.push({ k: 'res', id: msg.id, r: null, err: String(err) }),
        )
        return
      }
      case 'res': {
        const resolve = h.asks.get(msg.id)
        h.asks.delete(msg.id)
        resolve?.(msg.r)
        return
      }
      case 'detach':
        tellDead(dir.detach(key, msg.topics))
        return
      case 'tail':
        if (msg.add) dir.addTail(key, msg.topic)
        else dir.removeTail(key, msg.topic)
        return
      case 'notice':
        for (const w of dir.tailHolders(msg.topic)) held.get(w)?.out.push(msg)
        return
      case 'drop':
        for (const w of dir.drop(msg.topic)) {
          held.get(w)?.out.push({ k: 'drop', topic: msg.topic, id: msg.id })
        }
        return
    }
  }

  const fork = () => {
    const worker = cluster.fork({ ...opts.env, SSE_GATEWAY_WORKER_BASE: opts.baseNodeId })
    const h: Held = {
      worker,
      node: workerNodeId(opts.baseNodeId, worker.id),
      out: new Batcher((batch) => worker.send({ [TAG]: batch } satisfies Envelope<ToWorker>)),
      asks: new Map(),
      ready: false,
    }
    held.set(worker.id, h)
    worker.on('message', (m: unknown) => {
      if (!isEnvelope<ToPrimary>(m)) return
      for (const msg of m[TAG]) onMessage(worker.id, msg)
    })
  }

  cluster.on('listening', (_w, address) => {
    if (announced) return
    announced = true
    opts.onListening(address.address ?? config.host, address.port)
  })

  cluster.on('exit', (worker, code, signal) => {
    const h = held.get(worker.id)
    held.delete(worker.id)
    if (h) for (const resolve of h.asks.values()) resolve(null)
    if (opts.directory) tellDead(dir.removeWorker(worker.id))
    if (draining) {
      if (held.size === 0) {
        clearInterval(sweeper)
        log.info('stopped')
        opts.exit(0)
      }
      return
    }
    log.warn(
      { node: h?.node, pid: worker.process.pid, code, signal },
      'worker exited; forking a replacement',
    )
    fork()
  })

  const stop = (signal: string) => {
    if (draining) return
    draining = true
    log.info({ signal, workers: held.size }, 'draining')
    if (held.size === 0) opts.exit(0)
    for (const h of held.values()) h.worker.process.kill('SIGTERM')
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))

  for (let i = 0; i < opts.count; i++) fork()
}

/**
 * WORKERS: a whole number of processes (1 to 1024), or `auto` for one per core the process may
 * use. Unset or 1: the embedded single process, no primary.
 */
export function parseWorkers(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 1
  const v = raw.trim()
  if (v.toLowerCase() === 'auto') return availableParallelism()
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1024) {
    throw new Error(
      `WORKERS must be a whole number from 1 to 1024 or "auto" (got ${JSON.stringify(raw)})`,
    )
  }
  return Number(v)
}
