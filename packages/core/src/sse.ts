import { GatewayError } from './errors.ts'

const LINE_BREAK = /\r\n|\r|\n/

/** One Server-Sent Event as the gateway writes it. */
export interface SseEvent {
  data: string
  id?: string | undefined
  event?: string | undefined
  /** The topic the event was published to: written as a `topic:` field, which EventSource ignores. */
  topic?: string | undefined
  retry?: number | undefined
}

/** Response headers of every event stream. Add `connection: keep-alive` only on HTTP/1.x. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0',
  'x-accel-buffering': 'no', // nginx would otherwise buffer the stream
} as const

function singleLine(name: string, value: string): string {
  if (LINE_BREAK.test(value)) {
    throw new GatewayError('bad_request', `${name} must not contain a line break`)
  }
  return value
}

/**
 * Frames one event: `id:`, `event:`, `topic:`, `retry:`, then one `data:` line per body line
 * (per the HTML spec a body with line breaks becomes several `data:` lines), then a blank line.
 * The only place the gateway frames SSE.
 */
export function formatEvent(ev: SseEvent): string {
  let out = ''
  if (ev.id !== undefined) out += `id: ${singleLine('id', ev.id)}\n`
  if (ev.event !== undefined) out += `event: ${singleLine('event', ev.event)}\n`
  if (ev.topic !== undefined) out += `topic: ${singleLine('topic', ev.topic)}\n`
  if (ev.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(ev.retry))}\n`
  for (const line of ev.data.split(LINE_BREAK)) out += `data: ${line}\n`
  return `${out}\n`
}

/** A comment line (`: text`), ignored by every SSE client: used for connect notices and heartbeats. */
export function formatComment(text: string): string {
  return `: ${text.replace(/\r\n|\r|\n/g, ' ')}\n\n`
}
