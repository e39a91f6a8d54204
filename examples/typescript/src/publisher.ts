/**
 * Sends one event to the gateway and says what became of it:
 *
 *     published id=<id> delivered=<topics or -> dropped=<topics or ->
 *
 * The data is the second argument, or standard input when there is none (one trailing newline
 * removed). Exit status: 0 delivered, 1 refused or unreachable, 2 usage, 3 dropped everywhere.
 *
 *     GATEWAY_URL=http://127.0.0.1:8787 API_KEY=secret TOPIC=orders npx tsx src/publisher.ts 42 hello
 */
import { text } from 'node:stream/consumers'

/** The gateway's 202 body. */
interface Published {
  id: string
  delivered: string[]
  dropped: string[]
}

/** The shape of every error the gateway answers with. */
interface ApiError {
  error?: { code?: string; message?: string }
}

function fail(code: number, message: string): number {
  console.error(`error: ${message}`)
  return code
}

async function main(args: string[]): Promise<number> {
  const base = (process.env.GATEWAY_URL || 'http://127.0.0.1:8787').replace(/\/+$/, '')
  const { API_KEY: key, TOPIC: topic, EVENT: event } = process.env
  if (!key || !topic || args.length < 1 || args.length > 2) {
    console.error(
      'usage: API_KEY=key TOPIC=a,b [EVENT=type] [GATEWAY_URL=...] npx tsx src/publisher.ts ID [DATA]  (DATA from stdin when omitted)',
    )
    return 2
  }
  const [id, arg] = args as [string, string | undefined]
  const data = arg ?? (await text(process.stdin)).replace(/\r?\n$/, '')

  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    'content-type': 'text/plain; charset=utf-8',
    'x-sse-topic': topic,
    'x-sse-id': id,
  }
  if (event) headers['x-sse-event'] = event
  let res: Response
  try {
    res = await fetch(`${base}/publish`, {
      method: 'POST',
      headers,
      body: data,
      signal: AbortSignal.timeout(30_000),
    })
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : ''
    return fail(1, `cannot reach ${base}: ${String(err)}${cause}`)
  }
  const body = await res.text()
  if (res.status !== 202 && res.status !== 200) {
    const hint = res.status === 401 ? ' (check API_KEY)' : ''
    let e: ApiError['error']
    try {
      e = (JSON.parse(body) as ApiError).error
    } catch {}
    return e?.code
      ? fail(1, `HTTP ${res.status} ${e.code}: ${e.message}${hint}`)
      : fail(1, `HTTP ${res.status}: ${body.trim()}${hint}`)
  }
  const r = JSON.parse(body) as Published
  const list = (topics: string[] = []) => topics.join(',') || '-'
  console.log(`published id=${r.id} delivered=${list(r.delivered)} dropped=${list(r.dropped)}`)
  if (r.dropped?.length) console.error(`dropped: no subscriber on ${list(r.dropped)}`)
  return r.delivered?.length ? 0 : 3
}

process.exitCode = await main(process.argv.slice(2))
