const LF = 10

/** The index just past the last complete SSE frame (`\n\n`) in `buf`, or 0 when there is none. */
export function frameEnd(buf: Uint8Array): number {
  for (let i = buf.length - 1; i > 0; i--) {
    if (buf[i] === LF && buf[i - 1] === LF) return i + 1
  }
  return 0
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a, 0)
  out.set(b, a.byteLength)
  return out
}

/**
 * Merges the event streams of several topic objects into one response body (a multi-topic SSE
 * subscription). Bytes are passed on whole frames at a time, because a chunk that crossed from
 * an object to the Worker may hold half a frame, and two sources must never interleave inside
 * one. The merged stream ends when any source ends (an admin disconnect, an object reset) and
 * cancels the others; a client that leaves cancels every source.
 *
 * The pending reads of the sources are what keeps this Worker-side stream alive: workerd
 * cancels a stream that has nothing pending as hung.
 */
export function mergeEventStreams(
  first: Uint8Array,
  sources: ReadableStream<Uint8Array>[],
): ReadableStream<Uint8Array> {
  const { readable, writable } = new IdentityTransformStream()
  const writer = writable.getWriter()
  const readers = sources.map((s) => s.getReader())
  let finished = false
  const finish = (failed: boolean) => {
    if (finished) return
    finished = true
    for (const r of readers) r.cancel().catch(() => {})
    if (failed) writer.abort().catch(() => {})
    else writer.close().catch(() => {})
  }
  writer.write(first).catch(() => finish(true))
  writer.closed.catch(() => finish(true))

  const pump = async (reader: ReadableStreamDefaultReader<Uint8Array>) => {
    let pending: Uint8Array | undefined
    for (;;) {
      const { done, value } = await reader.read()
      if (done || finished) return
      const buf = pending ? concat(pending, value) : value
      const cut = frameEnd(buf)
      // Awaiting the write passes a slow client's backpressure on to the topic object.
      if (cut > 0) await writer.write(buf.subarray(0, cut))
      pending = cut < buf.byteLength ? buf.slice(cut) : undefined
    }
  }
  for (const reader of readers) {
    pump(reader).then(
      () => finish(false),
      () => finish(true),
    )
  }
  return readable
}
