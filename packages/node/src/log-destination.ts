import pino from 'pino'

/** What the gateway's logger writes to: pino's stream, plus the flushes main.ts needs. */
export interface LogDestination {
  write(line: string): void
  /** Hands what is held to the file descriptor's writer (asynchronous). */
  flush(): void
  /** Writes everything held now, before an exit or a line printed around the logger. */
  flushSync(): void
}

/**
 * Log lines held in memory and written 16 KiB at a time: one write per drop would cost the drop
 * path a system call per request, and each asynchronous write wakes a thread of libuv's pool.
 * Lines are kept as a list of strings and joined once per batch; pino's own buffered destination
 * measured the UTF-8 length of all the text it held on every line (about 2 µs a line at 4 KiB).
 * Lines leave in order within `flushMs`, or once `minLength` characters wait, through one
 * `SonicBoom` stream (which retries partial writes and EAGAIN on a pipe).
 */
export function batchedDestination(fd: number, minLength = 16_384, flushMs = 1000): LogDestination {
  const sink = pino.destination({ dest: fd, sync: false })
  let parts: string[] = []
  let size = 0
  const flush = () => {
    if (parts.length === 0) return
    const text = parts.length === 1 ? (parts[0] as string) : parts.join('')
    parts = []
    size = 0
    sink.write(text)
  }
  const timer = setInterval(flush, flushMs)
  timer.unref()
  return {
    write(line) {
      parts.push(line)
      size += line.length
      if (size >= minLength) flush()
    },
    flush,
    flushSync() {
      flush()
      sink.flushSync()
    },
  }
}
