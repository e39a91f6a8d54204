/**
 * Prints the events of one or more gateway topics, one line each:
 *
 *     event topic=<topic> id=<id> event=<type or -> data=<data as a JSON string>
 *
 * Prints `ready` each time the gateway confirms a subscription (its `gateway.connected` event).
 * The `eventsource` package reconnects by itself and sends the last id it saw as
 * `Last-Event-ID`, so the gateway replays what was missed.
 *
 *     GATEWAY_URL=http://127.0.0.1:8787 TOPIC=orders,alerts EVENT=created npx tsx src/subscriber.ts
 *
 * TOKEN, when set, is sent as `Authorization: Bearer <TOKEN>`: a token for private topics.
 */
import { EventSource } from 'eventsource'

/** `?envelope=json`: each event's data is this JSON object, so we know its topic. */
interface Envelope {
  topic: string
  id: string
  event: string | null
  data: string
}

const base = (process.env.GATEWAY_URL || 'http://127.0.0.1:8787').replace(/\/+$/, '')
const topics = process.env.TOPIC
if (!topics) {
  console.error(
    'usage: TOPIC=a,b [EVENT=type,…] [GATEWAY_URL=…] [TOKEN=…] npx tsx src/subscriber.ts',
  )
  process.exit(2)
}
const url = `${base}/sse?topic=${encodeURIComponent(topics)}&envelope=json`

// TOKEN: a subscriber token for private topics (see src/mint-token.ts). The library sets
// headers through its `fetch` option, on every reconnection too.
const token = process.env.TOKEN?.trim()
// The library gives up on an answer other than 200, as a browser does, and says only its status:
// keep the gateway's error message to show it.
let refusal = ''
const es = new EventSource(url, {
  fetch: async (input, init) => {
    const headers = token ? { ...init.headers, Authorization: `Bearer ${token}` } : init.headers
    const res = await fetch(input, { ...init, headers })
    if (res.status !== 200) refusal = `HTTP ${res.status}: ${(await res.clone().text()).trim()}`
    return res
  },
})
let lastId = '' // what the library sends as Last-Event-ID when it reconnects

function print(e: MessageEvent): void {
  if (e.lastEventId) lastId = e.lastEventId
  const { topic, id, event, data } = JSON.parse(e.data) as Envelope
  const line = `event topic=${topic} id=${id} event=${event ?? '-'} data=${JSON.stringify(data)}`
  process.stdout.write(`${line}\n`)
}

es.onmessage = print // events published without a type
// A typed event (x-sse-event) reaches only the listeners of its name: EVENT lists them.
for (const type of (process.env.EVENT ?? '').split(',').filter(Boolean)) {
  es.addEventListener(type, print)
}
// The gateway's own events. gateway.connected comes once the topics are registered, so whatever
// is published from then on reaches us; gateway.gap says what a resume could not replay;
// gateway.token-expired comes just before the gateway ends a stream whose TOKEN expired.
for (const type of ['gateway.connected', 'gateway.gap', 'gateway.token-expired']) {
  es.addEventListener(type, (e) => {
    if (e.lastEventId) lastId = e.lastEventId
    console.error(`${type} ${e.data}`)
    if (type === 'gateway.connected') process.stdout.write('ready\n')
  })
}
es.onerror = (e) => {
  if (es.readyState === EventSource.CLOSED) {
    console.error(`error: ${refusal || e.message}`)
    process.exit(1)
  }
  console.error(
    `disconnected: ${e.message ?? 'the stream ended'}; reconnecting (Last-Event-ID: ${lastId || '-'})`,
  )
}
