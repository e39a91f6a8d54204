import { Waitable } from '../clients/waitable.ts'

/**
 * What an interop client reports, one JSON object per stdout line (the same objects come from
 * the in-browser drivers): an SSE event as its library handed it over, a WebSocket text frame as
 * received, or an error the library reported.
 */
export type ClientOutput =
  | { type: string; id: string; data: string }
  | { frame: string }
  | { error: string }
  | { unreadable: string }

/** One event a client received, in the form the scenarios compare. */
export interface Received {
  /** SSE: the event type (`message` when none); WS: the frame's `event`, or null. */
  type: string | null
  /** The publisher's id: the SSE id before the first `~`, or the WS frame's `id`. */
  publisherId: string
  /** The whole SSE id, or the WS frame's `cursor`, when there is one. */
  cursor: string | undefined
  /** WS frames only: the frame's topic. */
  topic?: string | null
  data: string
}

const MAX_STDERR = 16_384

/** Parses one stdout line of a client into what it reported. */
export function parseLine(line: string): ClientOutput {
  try {
    const o = JSON.parse(line) as Record<string, unknown>
    if (typeof o.frame === 'string') return { frame: o.frame }
    if (typeof o.error === 'string') return { error: o.error }
    if (typeof o.type === 'string' && typeof o.data === 'string') {
      return { type: o.type, id: typeof o.id === 'string' ? o.id : '', data: o.data }
    }
  } catch {}
  return { unreadable: line }
}

/** An SSE event or a WS frame as a Received event; undefined for errors and unreadable lines. */
export function toReceived(o: ClientOutput): Received | undefined {
  if ('type' in o) {
    const tilde = o.id.indexOf('~')
    return {
      type: o.type,
      publisherId: tilde === -1 ? o.id : o.id.slice(0, tilde),
      cursor: tilde === -1 ? undefined : o.id,
      data: o.data,
    }
  }
  if ('frame' in o) {
    try {
      const f = JSON.parse(o.frame) as Record<string, unknown>
      return {
        type: typeof f.event === 'string' ? f.event : null,
        publisherId: typeof f.id === 'string' ? f.id : '',
        cursor: typeof f.cursor === 'string' ? f.cursor : undefined,
        topic: typeof f.topic === 'string' ? f.topic : null,
        data: typeof f.data === 'string' ? f.data : JSON.stringify(f.data),
      }
    } catch {
      return undefined
    }
  }
  return undefined
}

/**
 * A running interop client, whatever drives it (a program, a browser page): what it reported so
 * far, its diagnostics, and bounded waits on its output.
 */
export abstract class ClientRun extends Waitable {
  readonly outputs: ClientOutput[] = []
  #stderr = ''
  #ended: string | undefined

  constructor(readonly name: string) {
    super()
  }

  /** Records one reported object (a parsed stdout line, or a browser callback). */
  protected push(o: ClientOutput): void {
    this.outputs.push(o)
    this.notify()
  }

  protected addStderr(text: string): void {
    this.#stderr = (this.#stderr + text).slice(-MAX_STDERR)
    this.notify()
  }

  /** The client is gone (exited, page crashed): every wait fails from now on with `why`. */
  protected ended(why: string): void {
    this.#ended = why
    this.notify()
  }

  get stderr(): string {
    return this.#stderr
  }

  /** Every event received, gateway events included, in arrival order. */
  get received(): Received[] {
    return this.outputs.flatMap((o) => toReceived(o) ?? [])
  }

  /** The gateway's own events (`gateway.connected`, `gateway.gap`), in arrival order. */
  gatewayEvents(type?: string): Received[] {
    return this.received.filter((r) =>
      type ? r.type === type : r.type?.startsWith('gateway.') === true,
    )
  }

  /** Like `until`, but fails at once, with the client's output, when the client is gone. */
  async wait(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    try {
      await this.until(() => pred() || this.#ended !== undefined, timeoutMs, what)
    } catch (err) {
      throw new Error(`${(err as Error).message}${this.describe()}`)
    }
    if (!pred())
      throw new Error(`${this.name} ended (${this.#ended}) before ${what}${this.describe()}`)
  }

  protected override progress(): string {
    return `; ${this.name} reported ${this.outputs.length} lines`
  }

  /** What the client printed, shortened for a failure message. */
  describe(): string {
    const lines = this.outputs.slice(-20).map((o) => short(JSON.stringify(o), 300))
    const skipped = this.outputs.length - lines.length
    return `\n--- ${this.name} reported${skipped > 0 ? ` (last 20 of ${this.outputs.length})` : ''}:\n${lines.join('\n') || '(nothing)'}\n--- ${this.name} stderr:\n${this.#stderr.trim().slice(-3000) || '(nothing)'}`
  }

  /** Ends the client (bounded); resolves when it is gone. */
  abstract stop(): Promise<void>
}

/** `s` cut to `max` characters, saying how long it was. */
export function short(s: string, max = 200): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} chars)`
}
