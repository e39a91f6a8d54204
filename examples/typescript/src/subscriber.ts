/**
 * Prints the events of one or more gateway topics, one line each:
 *
 *     event topic=<topic> id=<id> event=<type or -> data=<data as a JSON string>
 *
 * Prints `ready` each time a stream is open, and reconnects after a dropped connection, sending
 * the last id it saw as `Last-Event-ID`.
 *
 *     GATEWAY_URL=http://127.0.0.1:8787 TOPIC=orders,alerts npx tsx src/subscriber.ts
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { SseParser } from './sse.ts'

const DEFAULT_RETRY_MS = 1000 // until the gateway sends `retry:`
const MAX_BACKOFF_MS = 30_000 // cap for repeated failures to connect

/** A refusal that retrying cannot fix (400: bad topic list, 404: not a gateway). */
class Fatal extends Error {}

/** The connection failed or ended; `opened` says whether the stream had been open. */
class Disconnected extends Error {
  constructor(
    message: string,
    readonly opened: boolean,
  ) {
    super(message)
  }
}

const dash = (s: string) => s || '-'

/** Opens one connection and prints what it carries until it ends; always throws. */
async function stream(url: string, parser: SseParser): Promise<never> {
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    'cache-control': 'no-cache',
  }
  // The gateway accepts the header but does not replay: events published while we were away are lost.
  if (parser.lastEventId) headers['last-event-id'] = parser.lastEventId
  let res: Response
  try {
    res = await fetch(url, { headers })
  } catch (err) {
    throw new Disconnected(`cannot connect: ${reason(err)}`, false)
  }
  if (res.status !== 200) {
    const message = `HTTP ${res.status}: ${(await res.text()).trim()}`
    if (res.status >= 400 && res.status < 500 && res.status !== 429) throw new Fatal(message)
    throw new Disconnected(message, false)
  }
  const type = res.headers.get('content-type') ?? ''
  if (!type.startsWith('text/event-stream') || !res.body) {
    throw new Fatal(`not an event stream: Content-Type ${type}`)
  }
  console.error(`connected to ${url} (connection ${res.headers.get('x-sse-connection-id')})`)
  parser.startStream()
  const decoder = new TextDecoder() // stream mode keeps a UTF-8 sequence split across chunks whole
  let ready = false
  try {
    for await (const chunk of res.body) {
      for (const item of parser.feed(decoder.decode(chunk, { stream: true }))) {
        if (!ready) {
          // The first comment (": connected") or event: we are subscribed.
          ready = true
          process.stdout.write('ready\n')
        }
        if (item.kind === 'event') {
          const { topic, id, type, data } = item
          process.stdout.write(
            `event topic=${dash(topic)} id=${dash(id)} event=${dash(type)} data=${JSON.stringify(data)}\n`,
          )
        }
      }
    }
  } catch (err) {
    throw new Disconnected(reason(err), true)
  }
  throw new Disconnected('the gateway closed the stream', true)
}

function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  // fetch reports "fetch failed" and keeps what happened in `cause`.
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message
}

async function main(): Promise<number> {
  const base = (process.env.GATEWAY_URL || 'http://127.0.0.1:8787').replace(/\/+$/, '')
  const topics = process.env.TOPIC ?? ''
  if (!topics) {
    console.error('usage: TOPIC=a,b [GATEWAY_URL=http://127.0.0.1:8787] npx tsx src/subscriber.ts')
    return 2
  }
  const url = `${base}/sse?topic=${encodeURIComponent(topics)}`
  // Nothing to clean up: stdout is written line by line, so Ctrl-C or SIGTERM can exit at once.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(0))

  const parser = new SseParser()
  let delay = DEFAULT_RETRY_MS
  for (;;) {
    let opened = false
    let why = ''
    try {
      await stream(url, parser)
    } catch (err) {
      if (err instanceof Fatal) {
        console.error(`error: ${err.message}`)
        return 1
      }
      opened = err instanceof Disconnected && err.opened
      why = reason(err)
    }
    const baseDelay = parser.retry ?? DEFAULT_RETRY_MS
    if (opened) delay = baseDelay // the stream worked: start over from the gateway's delay
    console.error(
      `disconnected: ${why}; reconnecting in ${delay} ms (Last-Event-ID: ${dash(parser.lastEventId)})`,
    )
    await sleep(delay)
    delay = Math.min(Math.max(delay * 2, baseDelay), MAX_BACKOFF_MS) // back off while the gateway stays away
  }
}

process.exitCode = await main()
