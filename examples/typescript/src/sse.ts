/**
 * Reads a `text/event-stream` as the HTML specification describes it
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
 * plus the gateway's `topic:` field, which tells a multi-topic subscriber where an event came from.
 */

/** One dispatched event. */
export interface SseEvent {
  /** From the gateway's `topic:` field; `''` when absent. */
  topic: string
  /** The last event ID, as EventSource's `MessageEvent.lastEventId`. */
  id: string
  /** From `event:`; `''` when absent (EventSource would call it "message"). */
  type: string
  /** The `data:` lines joined with `\n`. */
  data: string
}

/** What a stream carries: comments (`: connected`, `: heartbeat`) and events. */
export type SseItem = { kind: 'comment'; text: string } | ({ kind: 'event' } & SseEvent)

const LINE_END = /\r\n|\r|\n/g

/**
 * Incremental parser: `feed()` text as it arrives, get comments and complete events back.
 * `lastEventId` and `retry` outlive a connection: send the former as `Last-Event-ID` when
 * reconnecting, and wait `retry` milliseconds before doing so. Call `startStream()` for each
 * new connection.
 */
export class SseParser {
  lastEventId = ''
  retry: number | undefined
  #pending = ''
  #skipLf = false // the previous chunk ended with CR: a leading LF belongs to it
  #firstLine = true
  #idBuffer = ''
  #data: string[] = []
  #type = ''
  #topic = ''

  /** Forgets the previous connection's unfinished event; keeps `lastEventId` and `retry`. */
  startStream(): void {
    this.#pending = ''
    this.#skipLf = false
    this.#firstLine = true
    this.#idBuffer = '' // each stream starts with an empty last event ID buffer
    this.#resetEvent()
  }

  /**
   * Parses the complete lines in `chunk` (decoded with `TextDecoder` in stream mode). An
   * unfinished line waits for more text; at the end of the stream it is discarded.
   */
  feed(chunk: string): SseItem[] {
    let buf = this.#pending + chunk
    if (this.#skipLf && buf.startsWith('\n')) buf = buf.slice(1)
    this.#skipLf = false
    const out: SseItem[] = []
    let start = 0
    for (const m of buf.matchAll(LINE_END)) {
      const end = m.index + m[0].length
      if (m[0] === '\r' && end === buf.length) this.#skipLf = true
      let line = buf.slice(start, m.index)
      start = end
      if (this.#firstLine) {
        if (line.startsWith('\uFEFF')) line = line.slice(1) // a leading byte order mark is ignored
        this.#firstLine = false
      }
      const item = this.#line(line)
      if (item) out.push(item)
    }
    this.#pending = buf.slice(start)
    return out
  }

  #line(line: string): SseItem | undefined {
    if (line === '') return this.#dispatch()
    if (line.startsWith(':')) return { kind: 'comment', text: line.replace(/^: ?/, '') }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'data':
        this.#data.push(value)
        break
      case 'event':
        this.#type = value
        break
      case 'topic':
        this.#topic = value
        break
      case 'id':
        if (!value.includes('\0')) this.#idBuffer = value
        break
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value)
        break
      // Any other field is ignored.
    }
    return undefined
  }

  #dispatch(): SseItem | undefined {
    this.lastEventId = this.#idBuffer // even when there is no data to dispatch
    const item: SseItem | undefined =
      this.#data.length > 0
        ? {
            kind: 'event',
            topic: this.#topic,
            id: this.lastEventId,
            type: this.#type,
            data: this.#data.join('\n'),
          }
        : undefined
    this.#resetEvent()
    return item
  }

  #resetEvent(): void {
    this.#data = []
    this.#type = ''
    this.#topic = ''
  }
}
