/** One dispatched SSE message (comments and unknown fields are dropped, as EventSource does). */
export interface SseMessage {
  event: string
  data: string
  id: string | undefined
}

/**
 * Incremental parser for `text/event-stream`, per the HTML spec's interpretation rules. The tail
 * view reads the stream with fetch() because EventSource cannot send an Authorization header,
 * so it has to do EventSource's parsing itself.
 */
export class SseParser {
  #buffer = ''
  #data: string[] = []
  #event = ''
  #id: string | undefined
  #sawCr = false

  /** Feeds decoded text; returns every message completed by it. */
  push(chunk: string): SseMessage[] {
    let text = chunk
    // A "\r\n" split across two chunks: the "\r" already ended a line, skip the "\n".
    if (this.#sawCr && text.startsWith('\n')) text = text.slice(1)
    this.#sawCr = text.endsWith('\r')
    this.#buffer += text
    const out: SseMessage[] = []
    const lines = this.#buffer.split(/\r\n|\r|\n/)
    this.#buffer = lines.pop() ?? ''
    for (const line of lines) {
      const msg = this.#line(line)
      if (msg) out.push(msg)
    }
    return out
  }

  #line(line: string): SseMessage | undefined {
    if (line === '') {
      if (this.#data.length === 0) {
        this.#event = ''
        return undefined
      }
      const msg = { event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id }
      this.#data = []
      this.#event = ''
      return msg
    }
    if (line.startsWith(':')) return undefined
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') this.#data.push(value)
    else if (field === 'event') this.#event = value
    else if (field === 'id' && !value.includes('\0')) this.#id = value
    return undefined
  }
}
