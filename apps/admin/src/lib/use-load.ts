import { useCallback, useEffect, useRef, useState } from 'react'

export interface Loaded<T> {
  data: T | undefined
  error: Error | undefined
  loading: boolean
  /** When the data last arrived. */
  at: Date | undefined
  reload(): void
}

/**
 * Runs `load` when `deps` change or on reload(); a newer run aborts the one in flight so a slow
 * answer never overwrites a fresher one. Old data stays on screen while reloading.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<Omit<Loaded<T>, 'reload'>>({
    data: undefined,
    error: undefined,
    loading: true,
    at: undefined,
  })
  const [tick, setTick] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load

  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's, plus reload ticks
  useEffect(() => {
    const ctl = new AbortController()
    setState((s) => ({ ...s, loading: true, error: undefined }))
    loadRef.current(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted)
          setState({ data, error: undefined, loading: false, at: new Date() })
      },
      (error: unknown) => {
        if (!ctl.signal.aborted) setState((s) => ({ ...s, error: error as Error, loading: false }))
      },
    )
    return () => ctl.abort()
  }, [...deps, tick])

  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { ...state, reload }
}
