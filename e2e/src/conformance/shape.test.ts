/**
 * One contract, checked on every runtime: each probe below records the exact shape of one answer
 * (status, the contract's headers, JSON keys and types, error codes, frames of a stream) and
 * compares it with `shape.contract.json`. A key that one runtime adds or drops fails here until
 * every runtime and the contract agree. When several targets run in one go, their shapes are
 * also compared with each other, so a diff names both runtimes.
 *
 * After a deliberate contract change: `SHAPE_UPDATE=1 E2E_TARGETS=node npx vitest run
 * e2e/src/conformance/shape.test.ts` rewrites the contract from that run (review the diff), and
 * the other runtimes then fail until they answer the same way. Every run writes what it saw to
 * `test-results/raw/shape-<target>.json`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { SseClient } from '../clients/sse.ts'
import { selectedTargets, type Target } from '../targets/index.ts'
import { ROOT } from '../targets/util.ts'
import { forEachTarget, uniqueTopic } from './harness.ts'
import {
  type FrameShape,
  type Shape,
  frameShapes,
  headerShape,
  shapeDiff,
  shapeOf,
} from './shape.ts'

const CONTRACT_FILE = resolve(import.meta.dirname, 'shape.contract.json')
const UPDATE = process.env.SHAPE_UPDATE === '1'
const ORIGIN = 'https://app.example'

/** What one probe saw. */
export interface Answer {
  status: number
  headers: Record<string, string>
  code?: string
  body?: Shape
  frames?: FrameShape[]
  checks?: Record<string, boolean>
}

type Contract = Record<string, Answer>
const contract: Contract = JSON.parse(readFileSync(CONTRACT_FILE, 'utf8'))
/** Per target, per probe: what this run saw. */
const seen = new Map<string, Record<string, Answer>>()

interface AskInit {
  headers?: Record<string, string>
  body?: string | Uint8Array<ArrayBuffer>
  key?: string | false
}

async function ask(t: Target, method: string, path: string, init: AskInit = {}): Promise<Answer> {
  const headers: Record<string, string> = { origin: ORIGIN, ...init.headers }
  if (init.key !== false && init.key !== undefined) headers.authorization = `Bearer ${init.key}`
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers,
    body: init.body,
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  })
  return answerOf(res.status, res.headers, await res.text())
}

function answerOf(status: number, headers: Headers, text: string): Answer {
  const out: Answer = { status, headers: headerShape(headers) }
  if (headers.get('content-type')?.startsWith('application/json')) {
    const json = JSON.parse(text) as { error?: { code?: string } }
    out.body = shapeOf(json)
    if (json.error?.code) out.code = json.error.code
  } else if (text !== '') out.body = 'text'
  return out
}

/** Opens an SSE stream, reads until `enough` frames (or 10 s), then closes it. */
async function stream(
  t: Target,
  path: string,
  enough: number,
  headers: Record<string, string> = {},
  whileOpen?: () => Promise<void>,
): Promise<Answer> {
  const ac = new AbortController()
  const res = await fetch(`${t.url}${path}`, {
    headers: { origin: ORIGIN, accept: 'text/event-stream', ...headers },
    signal: ac.signal,
  })
  const out: Answer = { status: res.status, headers: headerShape(res.headers) }
  if (res.status !== 200 || !res.body) {
    Object.assign(out, answerOf(res.status, res.headers, await res.text()))
    return out
  }
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const deadline = Date.now() + 10_000
  let started = false
  try {
    while (frameShapes(text).length < enough && Date.now() < deadline) {
      const timer = setTimeout(() => ac.abort(), deadline - Date.now())
      const { value, done } = await reader.read().finally(() => clearTimeout(timer))
      if (done) break
      text += decoder.decode(value, { stream: true })
      // Publish once the first frame is here: the stream is registered before it is written.
      if (!started && whileOpen && frameShapes(text).length > 0) {
        started = true
        await whileOpen()
      }
    }
  } catch {
    // aborted at the deadline: the frames so far are the answer
  } finally {
    ac.abort()
  }
  out.frames = frameShapes(text).slice(0, enough)
  return out
}

/** Sends raw bytes and reads one response (status, headers, body) from the socket. */
function rawAsk(t: Target, bytes: string, timeoutMs = 20_000): Promise<Answer> {
  const { hostname, port } = new URL(t.url)
  return new Promise((resolveAnswer, reject) => {
    const socket = net.connect(Number(port), hostname)
    let buf = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(buf.toString())}`))
    }, timeoutMs)
    const finish = () => {
      const text = buf.toString('utf8')
      const end = text.indexOf('\r\n\r\n')
      if (end === -1) return false
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n')
      const headers = new Headers()
      for (const l of lines) {
        const i = l.indexOf(':')
        if (i > 0) headers.append(l.slice(0, i).trim(), l.slice(i + 1).trim())
      }
      const body = text.slice(end + 4)
      const len = Number(headers.get('content-length') ?? Number.NaN)
      if (!Number.isNaN(len) && Buffer.byteLength(body) < len) return false
      clearTimeout(timer)
      socket.destroy()
      resolveAnswer(answerOf(Number(statusLine.split(' ')[1]), headers, body))
      return true
    }
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c])
      finish()
    })
    socket.on('end', () => {
      if (!finish()) {
        clearTimeout(timer)
        reject(new Error(`connection ended before an answer: ${JSON.stringify(buf.toString())}`))
      }
    })
    socket.on('error', reject)
    socket.write(bytes)
  })
}

/** A WebSocket subscriber's frames: the gateway's own and one published event. */
function wsFrames(t: Target, path: string, publishOnce?: () => Promise<void>): Promise<Answer> {
  return new Promise((resolveAnswer, reject) => {
    const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}${path}`, {
      headers: { origin: ORIGIN },
    })
    const frames: Shape[] = []
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`WebSocket ${path}: ${frames.length} frames within 10 s`))
    }, 10_000)
    let upgradeHeaders: Headers = new Headers()
    ws.once('upgrade', (res) => {
      upgradeHeaders = new Headers(res.headers as Record<string, string>)
    })
    ws.once('unexpected-response', (_req, res) => {
      let text = ''
      res.on('data', (c: Buffer) => {
        text += c.toString()
      })
      res.on('end', () => {
        clearTimeout(timer)
        const headers = new Headers(res.headers as Record<string, string>)
        resolveAnswer(answerOf(res.statusCode ?? 0, headers, text))
      })
    })
    ws.on('error', () => {})
    ws.on('message', async (raw) => {
      const frame = JSON.parse(raw.toString()) as { topic: unknown; data: string }
      const shape = shapeOf(frame) as Record<string, Shape>
      if (frame.topic === null) shape.dataOf = shapeOf(JSON.parse(frame.data))
      frames.push(shape)
      if (frames.length === 1 && publishOnce) await publishOnce()
      if (frames.length === (publishOnce ? 2 : 1)) {
        clearTimeout(timer)
        ws.terminate()
        resolveAnswer({
          status: 101,
          headers: headerShape(upgradeHeaders),
          body: frames,
        })
      }
    })
  })
}

function publishHeaders(topic: string, id: string, extra: Record<string, string> = {}) {
  return { 'x-sse-topic': topic, 'x-sse-id': id, ...extra }
}

/** Every probe, by name: the same requests on every target. */
const PROBES: Record<string, (t: Target) => Promise<Answer>> = {
  'GET /healthz': (t) => ask(t, 'GET', '/healthz'),
  'GET /readyz': (t) => ask(t, 'GET', '/readyz'),
  'GET /metrics': (t) => ask(t, 'GET', '/metrics'),
  'GET /no-such-route': (t) => ask(t, 'GET', '/no-such-route'),
  'DELETE /publish': (t) => ask(t, 'DELETE', '/publish'),
  'OPTIONS /publish': (t) => ask(t, 'OPTIONS', '/publish'),
  'OPTIONS /sse': (t) => ask(t, 'OPTIONS', '/sse'),
  'GET /ws without an upgrade': (t) => ask(t, 'GET', '/ws?topic=a'),
  'GET /sse without a topic': (t) => ask(t, 'GET', '/sse'),
  'GET /sse with an invalid topic': (t) => ask(t, 'GET', '/sse?topic=a%20b'),
  'GET /sse with a UTF-8 topic header': async (t) => {
    // UTF-8 bytes in the header, as curl sends them (fetch writes each char as one byte).
    const topic = Buffer.from('café', 'utf8').toString('latin1')
    const res = await fetch(`${t.url}/sse`, {
      headers: { origin: ORIGIN, 'x-sse-topic': topic },
      signal: AbortSignal.timeout(10_000),
    })
    const text = await res.text()
    const a = answerOf(res.status, res.headers, text)
    a.checks = { 'message quotes café intact': text.includes('invalid topic \\"café\\"') }
    return a
  },
  'GET /sse': (t) => stream(t, `/sse?topic=${uniqueTopic('shape')}`, 2),
  'GET /sse resuming from a malformed Last-Event-ID': (t) =>
    stream(t, `/sse?topic=${uniqueTopic('shape')}`, 3, { 'last-event-id': 'not-a-cursor' }),
  'GET /sse of two topics, then a publish': (t) => {
    const [a, b] = [uniqueTopic('shape'), uniqueTopic('shape')]
    return stream(t, `/sse?topic=${a},${b}`, 3, {}, async () => {
      await ask(t, 'POST', '/publish', {
        key: t.apiKey,
        headers: publishHeaders(b, 'p-1', { 'x-sse-event': 'note' }),
        body: 'hello',
      })
    })
  },
  'GET /sse?envelope=json, then a publish': (t) => {
    const a = uniqueTopic('shape')
    return stream(t, `/sse?topic=${a}&envelope=json`, 3, {}, async () => {
      await ask(t, 'POST', '/publish', {
        key: t.apiKey,
        headers: publishHeaders(a, 'p-2'),
        body: 'x',
      })
    })
  },
  'WS /ws, then a publish': (t) => {
    const a = uniqueTopic('shape')
    return wsFrames(t, `/ws?topic=${a}`, async () => {
      await ask(t, 'POST', '/publish', {
        key: t.apiKey,
        headers: publishHeaders(a, 'p-3'),
        body: 'x',
      })
    })
  },
  'WS /ws with an invalid topic': (t) => wsFrames(t, '/ws?topic=a%20b'),
  'POST /publish to nobody': (t) =>
    ask(t, 'POST', '/publish', {
      key: t.apiKey,
      headers: publishHeaders(uniqueTopic('nobody'), 'd-1'),
      body: 'x',
    }),
  'POST /publish with x-api-key': (t) =>
    ask(t, 'POST', '/publish', {
      key: false,
      headers: { 'x-api-key': t.apiKey, ...publishHeaders(uniqueTopic('nobody'), 'd-2') },
      body: 'x',
    }),
  'POST /publish to a subscriber and nobody': (t) =>
    withSubscriber(t, (topic) =>
      ask(t, 'POST', '/publish', {
        key: t.apiKey,
        headers: publishHeaders(`${topic},${uniqueTopic('nobody')}`, 'd-3'),
        body: 'x',
      }),
    ),
  'POST /publish without a key': (t) =>
    ask(t, 'POST', '/publish', { key: false, headers: publishHeaders('a', '1'), body: 'x' }),
  'POST /publish with a wrong key': (t) =>
    ask(t, 'POST', '/publish', { key: 'wrong-key', headers: publishHeaders('a', '1'), body: 'x' }),
  'POST /publish without an id': (t) =>
    ask(t, 'POST', '/publish', { key: t.apiKey, headers: { 'x-sse-topic': 'a' }, body: 'x' }),
  'POST /publish with an invalid id': (t) =>
    ask(t, 'POST', '/publish', { key: t.apiKey, headers: publishHeaders('a', 'a b'), body: 'x' }),
  'POST /publish with a reserved event type': (t) =>
    ask(t, 'POST', '/publish', {
      key: t.apiKey,
      headers: publishHeaders('a', '1', { 'x-sse-event': 'gateway.gap' }),
      body: 'x',
    }),
  'POST /publish to too many topics': (t) =>
    ask(t, 'POST', '/publish', {
      key: t.apiKey,
      headers: publishHeaders(Array.from({ length: 65 }, (_, i) => `t${i}`).join(','), '1'),
      body: 'x',
    }),
  'POST /publish with a body that is not UTF-8': (t) =>
    withSubscriber(t, (topic) =>
      ask(t, 'POST', '/publish', {
        key: t.apiKey,
        headers: publishHeaders(topic, 'u-1'),
        body: new Uint8Array([0x66, 0xff, 0xfe]),
      }),
    ),
  'POST /publish with a body over MAX_BODY_BYTES': (t) =>
    withSubscriber(t, (topic) =>
      ask(t, 'POST', '/publish', {
        key: t.apiKey,
        headers: publishHeaders(topic, 'big-1'),
        body: 'x'.repeat(1_048_577),
      }),
    ),
  'POST /publish whose body stalls': (t) =>
    withSubscriber(t, (topic) => {
      const { host } = new URL(t.url)
      return rawAsk(
        t,
        `POST /publish HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${ORIGIN}\r\nAuthorization: Bearer ${t.apiKey}\r\n` +
          `x-sse-topic: ${topic}\r\nx-sse-id: stall-1\r\nContent-Length: 1000\r\n\r\n0123456789`,
      )
    }),
  'GET /admin/api/topics': (t) =>
    withSubscriber(t, (topic) =>
      ask(t, 'GET', `/admin/api/topics?prefix=${topic}`, { key: t.apiKey }),
    ),
  'GET /admin/api/topics without a key': (t) => ask(t, 'GET', '/admin/api/topics'),
  'GET /admin/api/topics with an invalid limit': (t) =>
    ask(t, 'GET', '/admin/api/topics?limit=many', { key: t.apiKey }),
  'GET /admin/api/connections': (t) =>
    withSubscriber(t, (topic) =>
      ask(t, 'GET', `/admin/api/connections?topic=${topic}`, { key: t.apiKey }),
    ),
  'GET /admin/api/stats': (t) => ask(t, 'GET', '/admin/api/stats', { key: t.apiKey }),
  'GET /admin/api/nodes': (t) => ask(t, 'GET', '/admin/api/nodes', { key: t.apiKey }),
  'DELETE /admin/api/connections/{id}': async (t) => {
    const sub = await SseClient.open(`${t.url}/sse?topic=${uniqueTopic('shape')}`)
    try {
      return await ask(t, 'DELETE', `/admin/api/connections/${sub.connectionId}`, { key: t.apiKey })
    } finally {
      sub.close()
    }
  },
  'DELETE /admin/api/connections/{unknown id}': (t) =>
    ask(t, 'DELETE', '/admin/api/connections/c-0000-unknown', { key: t.apiKey }),
  'GET /admin/api/topics/{topic}/tail, then a publish': (t) =>
    withSubscriber(t, (topic) =>
      stream(t, `/admin/api/topics/${topic}/tail`, 2, { authorization: `Bearer ${t.apiKey}` }, () =>
        ask(t, 'POST', '/publish', {
          key: t.apiKey,
          headers: publishHeaders(topic, 'tail-1'),
          body: 'x',
        }).then(() => {}),
      ),
    ),
}

/** Runs `fn` while one SSE subscriber holds a fresh topic (so publishes to it are delivered). */
async function withSubscriber<T>(t: Target, fn: (topic: string) => Promise<T>): Promise<T> {
  const topic = uniqueTopic('live')
  const sub = await SseClient.open(`${t.url}/sse?topic=${topic}`)
  try {
    // Open means registered: the first comment is written once the topic is live everywhere.
    return await fn(topic)
  } finally {
    sub.close()
  }
}

forEachTarget((target, factory) => {
  const mine: Record<string, Answer> = {}
  seen.set(factory.name, mine)

  for (const [name, probe] of Object.entries(PROBES)) {
    it(`answers ${name} in the contract's shape`, async () => {
      const answer = await probe(target())
      mine[name] = answer
      if (UPDATE) return
      const expected = contract[name]
      expect(expected, `no probe "${name}" in shape.contract.json`).toBeDefined()
      const diff = shapeDiff(expected, answer)
      expect(diff.join('\n'), `${factory.name} · ${name}: ${JSON.stringify(answer)}`).toBe('')
    })
  }

  afterAll(() => {
    const dir = resolve(ROOT, 'test-results/raw')
    mkdirSync(dir, { recursive: true })
    writeFileSync(resolve(dir, `shape-${factory.name}.json`), `${JSON.stringify(mine, null, 2)}\n`)
    if (UPDATE && Object.keys(mine).length === Object.keys(PROBES).length) {
      writeFileSync(CONTRACT_FILE, `${JSON.stringify(mine, null, 2)}\n`)
    }
  })
})

describe.skipIf(selectedTargets().length < 2)('across the targets run', () => {
  it('every target answers every probe in the same shape', () => {
    const names = [...seen.keys()].filter((n) => Object.keys(seen.get(n) ?? {}).length > 0)
    const problems: string[] = []
    for (const probe of Object.keys(PROBES)) {
      for (let i = 1; i < names.length; i++) {
        const [a, b] = [names[0] as string, names[i] as string]
        const [x, y] = [seen.get(a)?.[probe], seen.get(b)?.[probe]]
        if (!x || !y) continue
        // Each against the contract's unions: equal where the contract says one type.
        const dx = shapeDiff(contract[probe], x)
        const dy = shapeDiff(contract[probe], y)
        if (JSON.stringify(dx) !== JSON.stringify(dy)) {
          problems.push(`${probe}: ${a} ${JSON.stringify(x)} vs ${b} ${JSON.stringify(y)}`)
        }
      }
    }
    expect(problems).toEqual([])
  })
})
