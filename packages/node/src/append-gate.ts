/**
 * Where the writes of one event-loop turn wait for the Redis appends in flight (a cluster node),
 * or for the publishes a `WORKERS` process has sent to its primary to be numbered.
 *
 * A cluster publish is answered once Redis has given its event a sequence number. Publishers
 * that each wait for their answer (most do) then fall into groups: one group's events are being
 * written while the next group's appends are with Redis, and every write to a subscriber (or
 * batch to another node) carries one group's events instead of all of them. So the writes that
 * `afterAppends` schedules wait, past the end of the turn, for the appends sent so far to be
 * answered: at most `APPEND_WAIT_MS`, and not at all when none is in flight (one publish at a
 * time, an embedded node).
 */

/** The longest a write waits for appends in flight. */
export const APPEND_WAIT_MS = 2

let sent = 0
let answered = 0
/** Writes waiting, each until `answered` reaches its `until` (nondecreasing along the list). */
const waiting: Array<{ until: number; run: () => void }> = []
let deadline: ReturnType<typeof setTimeout> | undefined

/** An append is on its way to Redis. */
export function appendSent(): void {
  sent++
}

/** An append was answered (or failed): the writes that waited for it go once this turn is over. */
export function appendAnswered(): void {
  answered++
  const first = waiting[0]
  if (first !== undefined && first.until <= answered) setImmediate(runAnswered)
}

/** Runs `run` once this turn's I/O is done and the appends in flight by then are answered. */
export function afterAppends(run: () => void): void {
  setImmediate(() => {
    if (sent === answered) return run()
    waiting.push({ until: sent, run })
    deadline ??= setTimeout(runAll, APPEND_WAIT_MS)
  })
}

function runAnswered(): void {
  while (waiting.length > 0 && (waiting[0] as { until: number }).until <= answered) {
    ;(waiting.shift() as { run: () => void }).run()
  }
  if (waiting.length === 0 && deadline !== undefined) {
    clearTimeout(deadline)
    deadline = undefined
  }
}

function runAll(): void {
  deadline = undefined
  for (const w of waiting.splice(0)) w.run()
}
