// Interop client: the npm `eventsource` package (v4, the browser's EventSource API for Node),
// used with its defaults. Prints one JSON line per event it hands over; see e2e/interop/README.md.
import { EventSource } from 'eventsource'

const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`)
const es = new EventSource(process.env.INTEROP_URL)

// A named event reaches only the listeners of its name, never onmessage.
const extra = (process.env.INTEROP_EVENT_TYPES ?? '').split(',').filter(Boolean)
for (const type of new Set(['message', 'gateway.connected', 'gateway.gap', ...extra])) {
  es.addEventListener(type, (e) => print({ type: e.type, id: e.lastEventId, data: e.data }))
}
// After the stream ends the library reconnects by itself (3 s, or `retry:`) with Last-Event-ID.
es.onerror = (e) => print({ error: e.message ?? `stream ended (readyState ${es.readyState})` })

const quit = () => {
  es.close()
  process.exit(0)
}
process.stdin.on('end', quit).resume()
process.on('SIGTERM', quit)
