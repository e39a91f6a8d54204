import {
  createContext,
  type ReactNode,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react'
import { useAuth } from './auth'
import type { Stats } from './types'

/** Refresh intervals the user can pick; the first page load uses the default. */
export const INTERVALS = [1000, 2000, 5000, 10_000] as const
const DEFAULT_INTERVAL = 2000
/** Samples kept for rates and the chart: the last five minutes at the slowest default. */
const HISTORY_MS = 5 * 60_000

/** One reading of `GET /admin/api/stats`, with the moment the browser got it. */
export interface Sample {
  at: number
  stats: Stats
}

/** Per-second rates between two readings (published, delivered, dropped). */
export interface Rates {
  published: number
  delivered: number
  dropped: number
}

interface LiveState {
  /** Changes at every refresh: views put it in their load dependencies. */
  tick: number
  intervalMs: number
  paused: boolean
  setIntervalMs(ms: number): void
  setPaused(p: boolean): void
  /** Reads now (and reloads the open view), paused or not. */
  refresh(): void
  /** Readings of the stats, oldest first (at most HISTORY_MS of them). */
  samples: Sample[]
  latest: Stats | undefined
  /** Rates between the last two readings; undefined before the second one. */
  rates: Rates | undefined
  /** The last failure to read the stats, until a reading succeeds. */
  error: Error | undefined
}

const LiveContext = createContext<LiveState | null>(null)

/** Per-second rate of `pick` between two readings. */
export function rateOf<S>(
  a: { at: number; stats: S },
  b: { at: number; stats: S },
  pick: (s: S) => number,
): number {
  const dt = (b.at - a.at) / 1000
  return dt > 0 ? Math.max(0, (pick(b.stats) - pick(a.stats)) / dt) : 0
}

/**
 * Live updates by polling: every `intervalMs` (1–10 s, the user picks) the stats are read and
 * `tick` changes, so the open view reloads its list. Paused by the user, or while the tab is
 * hidden (nothing to look at, nothing to load).
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const { request } = useAuth()
  const [intervalMs, setIntervalMs] = useState<number>(DEFAULT_INTERVAL)
  const [paused, setPaused] = useState(false)
  const [tick, setTick] = useState(0)
  const [samples, setSamples] = useState<Sample[]>([])
  const [error, setError] = useState<Error | undefined>()
  const [hidden, setHidden] = useState(document.hidden)
  const busy = useRef(false)

  useEffect(() => {
    const onVis = () => setHidden(document.hidden)
    document.addEventListener('visibilitychange', onVis)
    return () => document.removeEventListener('visibilitychange', onVis)
  }, [])

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick drives the next reading
  useEffect(() => {
    const ctl = new AbortController()
    const read = async () => {
      if (busy.current) return
      busy.current = true
      try {
        const stats = await request<Stats>('/stats', { signal: ctl.signal })
        const at = Date.now()
        setSamples((list) => [...list.filter((s) => s.at > at - HISTORY_MS), { at, stats }])
        setError(undefined)
      } catch (err) {
        if ((err as Error).name !== 'AbortError') setError(err as Error)
      } finally {
        busy.current = false
      }
    }
    void read()
    return () => ctl.abort()
  }, [tick, paused, request])

  useEffect(() => {
    if (paused || hidden) return
    const t = setInterval(() => setTick((n) => n + 1), intervalMs)
    return () => clearInterval(t)
  }, [paused, hidden, intervalMs])

  const value = useMemo<LiveState>(() => {
    const a = samples.at(-2)
    const b = samples.at(-1)
    const rates =
      a && b
        ? {
            published: rateOf(a, b, (s) => s.published),
            delivered: rateOf(a, b, (s) => s.delivered),
            dropped: rateOf(a, b, (s) => s.dropped),
          }
        : undefined
    return {
      tick,
      intervalMs,
      paused,
      setIntervalMs,
      setPaused,
      refresh: () => setTick((n) => n + 1),
      samples,
      latest: b?.stats,
      rates,
      error,
    }
  }, [tick, intervalMs, paused, samples, error])
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>
}

export function useLive(): LiveState {
  const live = useContext(LiveContext)
  if (!live) throw new Error('useLive outside <LiveProvider>')
  return live
}
