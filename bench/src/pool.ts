import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import { Histogram } from './histogram.ts'
import type { WorkerStats } from './load-worker.ts'
import type { PublishResult, PublishSpec } from './publishers.ts'
import type { OpenResult, OpenSpec } from './subscribers.ts'

/** One load-generator process, driven over IPC. */
export class LoadWorker {
  readonly index: number
  readonly #proc: ChildProcess
  #next = 0
  readonly #waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >()

  constructor(index: number, dir: string) {
    this.index = index
    this.#proc = fork(join(dir, 'load-worker.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#proc.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.#waiting.get(m.id)
      if (!w) return
      this.#waiting.delete(m.id)
      if (m.error) w.reject(new Error(`load worker ${index}: ${m.error}`))
      else w.resolve(m.result)
    })
    this.#proc.on('exit', (code) => {
      for (const w of this.#waiting.values())
        w.reject(new Error(`load worker ${index} exited (${code})`))
      this.#waiting.clear()
    })
  }

  get pid(): number {
    return this.#proc.pid ?? 0
  }

  call<T>(cmd: string, args?: unknown): Promise<T> {
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.#proc.send({ id, cmd, args })
    })
  }

  open(spec: OpenSpec) {
    return this.call<OpenResult>('open', spec)
  }
  publish(spec: PublishSpec) {
    return this.call<PublishResult>('publish', spec)
  }
  stats() {
    return this.call<WorkerStats>('stats')
  }

  stop(): void {
    if (this.#proc.connected) this.#proc.disconnect()
    const t = setTimeout(() => this.#proc.kill('SIGKILL'), 2000)
    t.unref()
  }
}

/** The load generator: subscriber processes and publisher processes, and their totals. */
export class LoadPool {
  readonly subscribers: LoadWorker[]
  readonly publishers: LoadWorker[]

  constructor(dir: string, subscriberProcs: number, publisherProcs: number) {
    this.subscribers = Array.from({ length: subscriberProcs }, (_, i) => new LoadWorker(i, dir))
    this.publishers = Array.from(
      { length: publisherProcs },
      (_, i) => new LoadWorker(subscriberProcs + i, dir),
    )
  }

  get all(): LoadWorker[] {
    return [...this.subscribers, ...this.publishers]
  }

  async stats(): Promise<{
    events: number
    lastEventUs: number
    minPerSubscriber: number
    subscribers: number
    unexpectedCloses: number
    hist: Histogram
  }> {
    const all = await Promise.all(this.subscribers.map((w) => w.stats()))
    const hist = new Histogram()
    for (const s of all) hist.merge(s.hist)
    return {
      events: all.reduce((a, s) => a + s.events, 0),
      lastEventUs: Math.max(...all.map((s) => s.lastEventUs)),
      minPerSubscriber: Math.min(
        ...all.filter((s) => s.subscribers > 0).map((s) => s.minPerSubscriber),
      ),
      subscribers: all.reduce((a, s) => a + s.subscribers, 0),
      unexpectedCloses: all.reduce((a, s) => a + s.unexpectedCloses, 0),
      hist,
    }
  }

  /** CPU seconds used so far by every load process and this coordinator. */
  async cpuSeconds(): Promise<number> {
    const all = await Promise.all(this.all.map((w) => w.stats()))
    const u = process.cpuUsage()
    return all.reduce((a, s) => a + s.cpu, 0) + (u.user + u.system) / 1e6
  }

  async each(cmd: string, args?: unknown): Promise<void> {
    await Promise.all(this.subscribers.map((w) => w.call(cmd, args)))
  }

  stop(): void {
    for (const w of this.all) w.stop()
  }
}
