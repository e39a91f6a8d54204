/**
 * Bounded waits on a client's state: `until(pred)` resolves when a state change makes `pred`
 * true, and rejects after `timeoutMs` naming what it waited for. Subclasses call `notify()` on
 * every change.
 */
export class Waitable {
  readonly #waiters = new Set<() => void>()

  protected notify(): void {
    for (const w of this.#waiters) w()
  }

  /** What a timeout message adds about the state reached (e.g. how many events arrived). */
  protected progress(): string {
    return ''
  }

  until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return
        cleanup()
        resolve()
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${this.progress()}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        this.#waiters.delete(check)
      }
      this.#waiters.add(check)
    })
  }
}
