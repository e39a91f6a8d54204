/**
 * Sends one event to the gateway with `fetch` and says what became of it:
 *
 *     published id=<id> delivered=<topics or -> dropped=<topics or ->
 *
 * The data is the second argument, or standard input when there is none (one trailing newline
 * removed). Exit status: 0 delivered, 1 refused or unreachable, 2 usage, 3 dropped everywhere.
 *
 *     GATEWAY_URL=http://127.0.0.1:8787 API_KEY=secret TOPIC=orders npx tsx src/publisher.ts 42 hello
 */
import { text } from 'node:stream/consumers'

const base = (process.env.GATEWAY_URL || 'http://127.0.0.1:8787').replace(/\/+$/, '')
const { API_KEY: key, TOPIC: topic, EVENT: event } = process.env
const args = process.argv.slice(2)
if (!key || !topic || args.length < 1 || args.length > 2) {
  console.error(
    'usage: API_KEY=key TOPIC=a,b [EVENT=type] [GATEWAY_URL=...] npx tsx src/publisher.ts ID [DATA]  (DATA from stdin when omitted)',
  )
  process.exit(2)
}
const [id, arg] = args as [string, string | undefined]
const data = arg ?? (await text(process.stdin)).replace(/\r?\n$/, '')

function fail(message: string): never {
  console.error(`error: ${message}`)
  process.exit(1)
}

const res = await fetch(`${base}/publish`, {
  method: 'POST',
  headers: {
    authorization: `Bearer ${key}`,
    'content-type': 'text/plain; charset=utf-8',
    'x-sse-topic': topic,
    'x-sse-id': id,
    ...(event ? { 'x-sse-event': event } : {}),
  },
  body: data,
  signal: AbortSignal.timeout(30_000),
}).catch((err: Error) => fail(`cannot reach ${base}: ${err.message} (${String(err.cause)})`))

const body = await res.text()
if (res.status !== 202) {
  // Every gateway error is {"error":{"code","message"}}; a proxy in between may answer otherwise.
  let e: { code: string; message: string } | undefined
  try {
    e = JSON.parse(body).error
  } catch {}
  const hint = res.status === 401 ? ' (check API_KEY)' : ''
  fail(`HTTP ${res.status}${e ? ` ${e.code}: ${e.message}` : `: ${body.trim()}`}${hint}`)
}
const r = JSON.parse(body) as { id: string; delivered: string[]; dropped: string[] }
const list = (topics: string[]) => topics.join(',') || '-'
console.log(`published id=${r.id} delivered=${list(r.delivered)} dropped=${list(r.dropped)}`)
if (r.dropped.length) console.error(`dropped: no subscriber on ${list(r.dropped)}`)
process.exitCode = r.delivered.length ? 0 : 3
