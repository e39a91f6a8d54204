/**
 * A latency histogram in microseconds with ~1% relative precision: exact 1 µs buckets up to
 * 100 µs, then buckets 1% wide. Small enough to send over IPC and merge across workers.
 */
const LINEAR = 100
const STEP = Math.log(1.01)

export interface HistogramData {
  /** [bucket index, count] pairs. */
  buckets: Array<[number, number]>
  count: number
  max: number
}

function indexOf(us: number): number {
  if (us < LINEAR) return Math.max(0, Math.floor(us))
  return LINEAR + Math.floor(Math.log(us / LINEAR) / STEP)
}

/** Upper bound of a bucket (what a percentile in it is reported as). */
function upperOf(idx: number): number {
  if (idx < LINEAR) return idx + 1
  return LINEAR * Math.exp((idx - LINEAR + 1) * STEP)
}

export class Histogram {
  #counts = new Map<number, number>()
  count = 0
  max = 0

  record(us: number): void {
    const idx = indexOf(us)
    this.#counts.set(idx, (this.#counts.get(idx) ?? 0) + 1)
    this.count++
    if (us > this.max) this.max = us
  }

  merge(data: HistogramData): void {
    for (const [idx, n] of data.buckets) this.#counts.set(idx, (this.#counts.get(idx) ?? 0) + n)
    this.count += data.count
    if (data.max > this.max) this.max = data.max
  }

  /** The value at quantile q (0..1), in µs; the exact maximum for q = 1. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN
    if (q >= 1) return this.max
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (const idx of [...this.#counts.keys()].sort((a, b) => a - b)) {
      seen += this.#counts.get(idx) ?? 0
      if (seen >= rank) return Math.min(upperOf(idx), this.max)
    }
    return this.max
  }

  toJSON(): HistogramData {
    return { buckets: [...this.#counts.entries()], count: this.count, max: this.max }
  }

  reset(): void {
    this.#counts.clear()
    this.count = 0
    this.max = 0
  }
}

/** Microseconds on the machine's monotonic clock: the same clock in every process here. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n)
}
