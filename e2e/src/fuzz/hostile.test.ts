/**
 * Hostile input by the thousand, on each target: generated headers, topic lists, ids, event
 * types, bodies, cursors (Last-Event-ID), admin limits and cursors, WebSocket frames and raw
 * HTTP. After each batch: every answer was a well-formed 2xx/4xx of the contract (the status the
 * contract owes, where it fixes one), every node still answers, and the live subscribers got
 * exactly what was validly published to their topic, no more, no less.
 *
 * Bounded: FUZZ_RUNS scales the number of inputs (default 1; 0.2 for a quick look), each batch
 * stops after FUZZ_BATCH_SECONDS (default 90). FUZZ_SEED replays a run. The counts tried per
 * target go to test-results/fuzz-summary.{md,json}.
 */
import http from 'node:http'
import net from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { SseClient } from '../clients/sse.ts'
import { WsClient } from '../clients/ws.ts'
import { forEachTarget, uniqueTopic } from '../conformance/harness.ts'
import { adminInput, publishInput, subscribeInput, wsFrame } from './arbitraries.ts'
import {
  type PublishInput,
  answerProblems,
  decodeUtf8,
  expectPublish,
  parseTopicList,
} from './model.ts'
import { RawWs } from './raw-ws.ts'
import { recordFuzzRun, treeName } from './summary.ts'

const SCALE = Number(process.env.FUZZ_RUNS ?? '1')
const BATCH_MS = Number(process.env.FUZZ_BATCH_SECONDS ?? '90') * 1000
// `make test` replays a seed that passed on every target, so CI is repeatable; FUZZ_SEED=random
// explores new inputs (random seeds found a heartbeat written before `: connected` while a
// 64-topic cluster attach was still running, fixed in connection.ts).
const SEED =
  process.env.FUZZ_SEED === 'random'
    ? Date.now() % 2_147_483_647
    : Number(process.env.FUZZ_SEED ?? '413920978')
const runs = (n: number) => Math.max(1, Math.round(n * SCALE))
const GAP_REASONS = ['expired', 'reset', 'unknown-topic', 'malformed']

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
}

/**
 * One request with header values sent byte for byte (one char per byte, as generated). For an
 * event stream, reads until `gateway.connected` (or 5 s) and then hangs up.
 */
function request(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<Reply> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: hostname, port: Number(port), method, path, headers, agent: false },
      (res) => {
        let text = ''
        const stream = res.headers['content-type']?.startsWith('text/event-stream')
        res.setEncoding('utf8')
        const done = () => {
          clearTimeout(timer)
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text })
        }
        const timer = setTimeout(() => {
          req.destroy()
          done()
        }, 5000)
        res.on('data', (c: string) => {
          text += c
          if (stream && /event: gateway\.connected\n(?:[^\n]+\n)*\n/.test(text)) {
            req.destroy()
            done()
          }
          // A tail has no gateway.connected: its first comment is enough.
          if (stream && path.includes('/tail') && text.includes('\n\n')) {
            req.destroy()
            done()
          }
        })
        res.on('end', done)
        res.on('error', done)
      },
    )
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path}: no answer in 15 s`)))
    req.on('error', reject)
    req.end(body === undefined ? undefined : Buffer.from(body))
  })
}

/**
 * A request with a body, on a raw socket: the gateway may answer before it reads the body (a
 * drop, a 401) and close, and Node's HTTP client then reports the write's EPIPE instead of the
 * answer. Here a failed write is ignored and the answer read all the same.
 */
function requestWithBody(
  base: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<Reply> {
  const { hostname, port, host } = new URL(base)
  let head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${body.byteLength}\r\n`
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), hostname)
    let buf = Buffer.alloc(0)
    const timer = setTimeout(() => {
      s.destroy()
      reject(
        new Error(
          `POST ${path}: no answer in 15 s (got ${JSON.stringify(buf.toString().slice(0, 200))})`,
        ),
      )
    }, 15_000)
    const parse = (final: boolean) => {
      const end = buf.indexOf('\r\n\r\n')
      if (end === -1) {
        if (final) reject(new Error(`POST ${path}: closed without an answer`))
        return
      }
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n')
      const res: http.IncomingHttpHeaders = {}
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':')
        if (i > 0) res[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
      }
      const len = Number(res['content-length'] ?? Number.NaN)
      const rest = buf.subarray(end + 4)
      if (!final && (Number.isNaN(len) || rest.length < len)) return
      clearTimeout(timer)
      s.destroy()
      const text = rest.subarray(0, Number.isNaN(len) ? rest.length : len).toString('utf8')
      resolve({ status: Number(lines[0]?.split(' ')[1]), headers: res, text })
    }
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c])
      parse(false)
    })
    s.on('close', () => parse(true))
    s.on('error', () => {}) // EPIPE/ECONNRESET after an early answer: the answer still counts
    s.write(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), Buffer.from(body)]))
  })
}

function publishHeaders(p: PublishInput, key: string): Record<string, string> {
  const h: Record<string, string> = { ...p.extra }
  if (p.key === 'bearer') h.authorization = `Bearer ${key}`
  if (p.key === 'bearer-lowercase') h.authorization = `bearer ${key}`
  if (p.key === 'x-api-key') h['x-api-key'] = key
  if (p.key === 'wrong') h.authorization = `Bearer wrong-${key}`
  if (p.topics !== undefined) h['x-sse-topic'] = p.topics
  if (p.id !== undefined) h['x-sse-id'] = p.id
  if (p.event !== undefined) h['x-sse-event'] = p.event
  return h
}

/** An SSE answer's frames: `[{event?, id?, data}]` plus comments. */
function frames(
  text: string,
): Array<{ comment?: string; event?: string; id?: string; data: string[] }> {
  const out: Array<{ comment?: string; event?: string; id?: string; data: string[] }> = []
  for (const block of text.split('\n\n').slice(0, -1)) {
    const f: { comment?: string; event?: string; id?: string; data: string[] } = { data: [] }
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) f.comment = line.slice(1).trim()
      else if (line.startsWith('event: ')) f.event = line.slice(7)
      else if (line.startsWith('id: ')) f.id = line.slice(4)
      else if (line.startsWith('data: ')) f.data.push(line.slice(6))
    }
    out.push(f)
  }
  return out
}

/** Problems with the opening of a stream the contract accepted. */
function openingProblems(text: string, topics: string[]): string[] {
  const fs = frames(text)
  const problems: string[] = []
  if (fs[0]?.comment !== 'connected')
    problems.push(`first frame is not ": connected": ${text.slice(0, 80)}`)
  const connected = fs.find((f) => f.event === 'gateway.connected')
  if (!connected)
    return [...problems, `no gateway.connected in ${JSON.stringify(text.slice(0, 300))}`]
  const data = JSON.parse(connected.data.join('\n')) as Record<string, unknown>
  if (Object.keys(data).sort().join() !== 'connectionId,resumed,topics') {
    problems.push(`gateway.connected data ${JSON.stringify(data)}`)
  }
  if (
    JSON.stringify([...(data.topics as string[])].sort()) !== JSON.stringify([...topics].sort())
  ) {
    problems.push(
      `gateway.connected topics ${JSON.stringify(data.topics)}, subscribed ${JSON.stringify(topics)}`,
    )
  }
  for (const gap of fs.filter((f) => f.event === 'gateway.gap')) {
    const g = JSON.parse(gap.data.join('\n')) as { reason: string; topics: string[] }
    if (!GAP_REASONS.includes(g.reason)) problems.push(`gap reason ${g.reason}`)
    if (!g.topics.every((t) => topics.includes(t)))
      problems.push(`gap topics ${g.topics} ⊄ ${topics}`)
  }
  return problems
}

forEachTarget((target, factory) => {
  const counts = {
    publish: 0,
    subscribe: 0,
    admin: 0,
    websocket: 0,
    'raw-http': 0,
  } satisfies Record<string, number>
  const passed: string[] = []
  /** What a batch saw that is the platform's, not the contract's: counted, not failed. */
  const notes: Record<string, number> = {}
  const failed: string[] = []
  let started = Date.now()
  const LIVE = uniqueTopic('fuzz-live')
  let sse: SseClient
  let ws: WsClient
  /** What the live subscribers are owed: every 202 whose `delivered` names LIVE. */
  const owed: Array<{ id: string; event: string | null; data: string }> = []
  /** Cursors seen on LIVE, seeds for mutated Last-Event-ID values. */
  const cursors: string[] = []

  const t = () => target()
  const urlOf = (i: number) => t().urls[i % t().urls.length] as string

  async function batch(
    name: string,
    property: fc.IAsyncProperty<never> | fc.IAsyncProperty<unknown>,
    numRuns: number,
  ) {
    try {
      await fc.assert(property as fc.IAsyncProperty<unknown>, {
        numRuns: runs(numRuns),
        interruptAfterTimeLimit: BATCH_MS,
        seed: SEED,
        endOnFailure: true,
      })
      await everyNodeAnswers()
      passed.push(name)
    } catch (err) {
      failed.push(name)
      throw err
    }
  }

  async function everyNodeAnswers() {
    for (const url of t().urls) {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) })
      expect(res.status, `${url}/healthz after the batch`).toBe(200)
    }
  }

  beforeAll(async () => {
    started = Date.now()
    const urls = t().urls
    sse = await SseClient.open(`${urls[urls.length - 1]}/sse?topic=${LIVE}`)
    ws = await WsClient.open(`${(urls[0] as string).replace(/^http/, 'ws')}/ws?topic=${LIVE}`)
    await ws.waitForGatewayEvents(1)
  })

  afterAll(() => {
    sse?.close()
    ws?.close()
    const total = Object.values(counts).reduce((a, b) => a + b, 0)
    // A target that never started its batches ran none: say so rather than "none failed".
    if (total === 0) failed.push('not started')
    recordFuzzRun(factory.name, {
      inputs: counts,
      total,
      seconds: Math.round((Date.now() - started) / 1000),
      seed: SEED,
      passed,
      failed,
      at: new Date().toISOString(),
      tree: treeName(),
      notes,
    })
  })

  it('answers generated publishes as the contract says, and delivers exactly the valid ones', async () => {
    const live = new Set([LIVE])
    const property = fc.asyncProperty(publishInput([LIVE], t().urls.length), async (input) => {
      counts.publish++
      const want = expectPublish(input, live)
      const res = await requestWithBody(
        urlOf(input.node),
        '/publish',
        publishHeaders(input, t().apiKey),
        input.body,
      )
      const problems = answerProblems(res.status, res.headers['content-type'] ?? null, res.text)
      expect(problems, `${res.status} ${res.text.slice(0, 300)}`).toEqual([])
      expect(res.status, `owed ${want.status}; got ${res.text.slice(0, 300)}`).toBe(want.status)
      if (res.status !== 202) return
      const body = JSON.parse(res.text) as Record<string, unknown>
      expect(Object.keys(body).sort()).toEqual(['delivered', 'dropped', 'id'])
      expect(body.id).toBe(want.id)
      const delivered = body.delivered as string[]
      expect([...delivered, ...(body.dropped as string[])].sort()).toEqual(
        [...(want.topics ?? [])].sort(),
      )
      expect(delivered).toEqual((want.topics ?? []).filter((x) => live.has(x)))
      if (delivered.includes(LIVE)) {
        owed.push({
          id: want.id as string,
          event: want.event ?? null,
          data: decodeUtf8(input.body) as string,
        })
      }
    })
    await batch('publish', property, 1500)

    // Exactly what was owed, then a last event that says everything before it has arrived.
    const end = { id: 'fuzz-end', event: null, data: 'end' }
    const res = await requestWithBody(
      urlOf(0),
      '/publish',
      { authorization: `Bearer ${t().apiKey}`, 'x-sse-topic': LIVE, 'x-sse-id': end.id },
      new TextEncoder().encode(end.data),
    )
    expect(res.status).toBe(202)
    owed.push(end)
    await sse.until(
      () => sse.events.length >= owed.length,
      30_000,
      `${owed.length} events over SSE`,
    )
    await ws.until(
      () => ws.events.length >= owed.length,
      30_000,
      `${owed.length} events over WebSocket`,
    )
    const key = (e: { id: string | undefined; event: string | null | undefined; data: string }) =>
      JSON.stringify([e.id, e.event ?? null, e.data])
    // SSE carries line breaks as separate data lines: CRLF and CR come back as LF.
    const overSse = owed.map((e) => key({ ...e, data: e.data.replace(/\r\n|\r/g, '\n') }))
    const clusterOrder = t().urls.length > 1 // entry points differ: compare as multisets
    const got = sse.events.map(key)
    const gotWs = ws.events.map(key)
    if (clusterOrder) {
      expect([...got].sort()).toEqual([...overSse].sort())
      expect([...gotWs].sort()).toEqual(owed.map(key).sort())
    } else {
      expect(got).toEqual(overSse)
      expect(gotWs).toEqual(owed.map(key))
    }
    for (const id of sse.rawIds) if (id) cursors.push(id)
  })

  it('answers generated subscriptions and resume cursors as the contract says', async () => {
    const property = fc.asyncProperty(
      subscribeInput([LIVE], cursors.slice(-20), t().urls.length),
      async (input) => {
        counts.subscribe++
        const parsed = parseTopicList(input.topics)
        const envelopeOk =
          input.envelope === undefined || input.envelope === 'json' || input.envelope === 'none'
        // The local targets' private topics (PRIVATE_TOPICS=private:*,vip) need a token: 401.
        const isPrivate =
          t().tokenSecret !== undefined &&
          parsed !== 'invalid' &&
          parsed.some((x) => x === 'vip' || x.startsWith('private:'))
        const owedStatus = parsed !== 'invalid' && envelopeOk ? (isPrivate ? 401 : 200) : 400
        const q = new URLSearchParams()
        const headers: Record<string, string> = {}
        if (input.transport === 'ws' || input.topicIn === 'query') {
          q.set('topic', Buffer.from(input.topics, 'latin1').toString('utf8'))
        } else headers['x-sse-topic'] = input.topics
        if (input.envelope !== undefined) q.set('envelope', input.envelope)
        if (input.lastEventId !== undefined) {
          if (input.transport === 'ws' || input.lastEventIdIn === 'query') {
            q.set('lastEventId', Buffer.from(input.lastEventId, 'latin1').toString('utf8'))
          } else headers['last-event-id'] = input.lastEventId
        }
        const path = `/${input.transport}?${q.toString()}`
        if (input.transport === 'ws') {
          const got = await RawWs.open(urlOf(input.node), path)
          if (got instanceof RawWs) {
            try {
              expect(owedStatus, `${path} was accepted`).toBe(200)
              await got.until(() => got.texts.length > 0 || got.ended, 10_000, 'gateway.connected')
              const first = JSON.parse(got.texts[0] ?? 'null') as {
                event?: string
                topic?: unknown
              }
              expect(first?.event, path).toBe('gateway.connected')
              expect(first?.topic).toBeNull()
            } finally {
              got.close()
            }
            return
          }
          const ct = /content-type:\s*([^\r\n]+)/i.exec(got.head)?.[1] ?? null
          expect(answerProblems(got.status, ct, got.body)).toEqual([])
          expect(got.status, `${path}: ${got.body}`).toBe(owedStatus)
          return
        }
        const res = await request(urlOf(input.node), 'GET', path, headers)
        expect(res.status, `${path} ${JSON.stringify(headers)}: ${res.text.slice(0, 300)}`).toBe(
          owedStatus,
        )
        if (res.status === 200) {
          expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8')
          expect(openingProblems(res.text, parsed as string[])).toEqual([])
        } else {
          expect(answerProblems(res.status, res.headers['content-type'] ?? null, res.text)).toEqual(
            [],
          )
        }
      },
    )
    await batch('subscribe', property, 400)
  })

  it('answers generated admin requests (limits, cursors, prefixes, ids) as the contract says', async () => {
    const property = fc.asyncProperty(adminInput([LIVE], t().urls.length), async (input) => {
      counts.admin++
      const headers: Record<string, string> = input.key
        ? { authorization: `Bearer ${t().apiKey}` }
        : {}
      const res = await request(urlOf(input.node), input.method, input.path, headers)
      const where = `${input.method} ${input.path} (key: ${input.key}) → ${res.status} ${res.text.slice(0, 200)}`
      expect([200, 400, 401, 404, 405], where).toContain(res.status)
      if (!input.key) expect([401, 404, 405], where).toContain(res.status)
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        expect(input.path, where).toContain('/tail')
        return
      }
      expect(
        answerProblems(res.status, res.headers['content-type'] ?? null, res.text),
        where,
      ).toEqual([])
      if (res.status === 200 && input.method === 'DELETE' && /\/connections\?/.test(input.path)) {
        // A bulk disconnect of the filter: what it matched and ended (the fuzz's own live
        // subscribers never match: generated filters are not their topic).
        const body = JSON.parse(res.text) as Record<string, unknown>
        expect(Object.keys(body).sort(), where).toEqual(['disconnected', 'matched'])
        return
      }
      if (res.status === 200 && /\/(topics|connections)\?/.test(input.path)) {
        const body = JSON.parse(res.text) as { items: unknown; nextCursor: unknown }
        expect(Object.keys(body).sort(), where).toEqual(['items', 'nextCursor'])
        expect(Array.isArray(body.items), where).toBe(true)
        expect(body.nextCursor === null || typeof body.nextCursor === 'string', where).toBe(true)
      }
    })
    await batch('admin', property, 400)
  })

  it('closes a WebSocket on a bad frame with a protocol code, or keeps delivering: never a silent socket', async () => {
    const ownsWebSocket = factory.name.startsWith('node')
    const topic = uniqueTopic('fuzz-ws')
    let sock: RawWs | undefined
    let n = 0
    const property = fc.asyncProperty(wsFrame, async (frame) => {
      counts.websocket++
      if (!sock || sock.ended || sock.closeCode !== undefined) {
        sock?.close()
        const opened = await RawWs.open(urlOf(0), `/ws?topic=${topic}`)
        if (!(opened instanceof RawWs))
          throw new Error(`/ws refused: ${opened.status} ${opened.body}`)
        sock = opened
        await sock.until(() => sock?.texts.length === 1, 10_000, 'gateway.connected')
      }
      const s = sock
      s.send(frame)
      n++
      const probe = `probe-${n}`
      const before = s.texts.length
      const res = await requestWithBody(
        urlOf(t().urls.length - 1),
        '/publish',
        { authorization: `Bearer ${t().apiKey}`, 'x-sse-topic': topic, 'x-sse-id': probe },
        new TextEncoder().encode('p'),
      )
      expect([202]).toContain(res.status)
      const oversizedControl = frame.opcode >= 0x8 && frame.payload.byteLength > 125
      const answered = () =>
        s.texts.slice(before).some((x) => x.includes(`"${probe}"`)) ||
        s.ended ||
        s.closeCode !== undefined
      if (oversizedControl && !ownsWebSocket) {
        // workerd's own frame parser takes a control frame over 125 bytes without a word to
        // the Worker (no close, no error event): the socket goes silent. The platform's, not
        // ours: counted and reported (docs/cloudflare.md), and the socket is replaced.
        const ok = await s.until(answered, 3_000, 'the probe').then(
          () => true,
          () => false,
        )
        if (!ok) {
          const note =
            'websocket: the platform left a socket silent after a control frame over 125 bytes'
          notes[note] = (notes[note] ?? 0) + 1
          s.close()
          sock = undefined
          return
        }
      }
      await s.until(
        answered,
        10_000,
        `the probe event or a close after ${JSON.stringify({ ...frame, payload: frame.payload.byteLength })}`,
      )
      // A client's close frame is echoed with its own code; anything else is the gateway's call.
      if (s.closeCode !== undefined && frame.opcode !== 0x8) {
        expect(
          [1000, 1002, 1003, 1005, 1007, 1008, 1009],
          `close code after ${JSON.stringify({ ...frame, payload: frame.payload.byteLength })}`,
        ).toContain(s.closeCode)
      }
    })
    try {
      await batch('websocket', property, 400)
    } finally {
      sock?.close()
    }
  })

  it('answers raw, malformed HTTP without a 5xx (Node parses it: our answers), and keeps serving', async () => {
    const ownsHttp = factory.name.startsWith('node')
    const line = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'BREW', 'G ET', '', 'get'),
      path: fc.constantFrom(
        '/healthz',
        '/sse?topic=a',
        '/publish',
        '*',
        'http://h/healthz',
        '/%zz',
        '//',
        '/admin/api/topics',
        '/ws',
      ),
      version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/9.9', 'HTTX/1.1', ''),
      headers: fc.array(
        fc.constantFrom(
          'Host: h',
          'Host: h',
          'Content-Length: 5',
          'Content-Length: 5\r\nContent-Length: 6',
          'Content-Length: -1',
          'Transfer-Encoding: chunked',
          'Transfer-Encoding: gzip, chunked',
          ' folded: line',
          'No-Colon',
          'x-sse-topic: a\x00b',
          'x-sse-topic: \x01',
          `Bad Name: x`,
          'Upgrade: websocket\r\nConnection: Upgrade',
          'Expect: 100-continue',
        ),
        { maxLength: 4 },
      ),
      body: fc.constantFrom('', 'hello', '5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', '\x00\x01\x02'),
    })
    const property = fc.asyncProperty(line, async (r) => {
      counts['raw-http']++
      const bytes = `${r.method} ${r.path} ${r.version}\r\n${r.headers.join('\r\n')}${r.headers.length ? '\r\n' : ''}\r\n${r.body}`
      const answer = await rawExchange(urlOf(0), bytes)
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)
      if (!ownsHttp) {
        // On Cloudflare the platform parses HTTP before the Worker runs: what it answers to
        // broken HTTP is its own (local workerd: a plain 500 for conflicting Content-Length).
        if (status >= 500)
          notes['raw-http: the platform answered 5xx'] =
            (notes['raw-http: the platform answered 5xx'] ?? 0) + 1
        return
      }
      // Refusals of the protocol itself, before any route (an unknown method: 501, a version
      // it does not speak: 505), may be Node's; no other 5xx may come back.
      if (status >= 500) expect([501, 505], JSON.stringify(bytes)).toContain(status)
      const ct = /\r\ncontent-type:\s*([^\r\n]+)/i.exec(answer)?.[1]
      if (status >= 400 && ct?.startsWith('application/json')) {
        // The first answer only: a keep-alive connection may have answered what followed too.
        const end = answer.indexOf('\r\n\r\n')
        const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(answer.slice(0, end))?.[1] ?? 0)
        const body = Buffer.from(answer.slice(end + 4), 'latin1')
          .subarray(0, len)
          .toString('utf8')
        expect(answerProblems(status, ct, body), JSON.stringify(bytes)).toEqual([])
      }
    })
    await batch('raw-http', property, 300)
  })
})

/**
 * Sends raw bytes; resolves with the first answer once it is complete (its Content-Length read,
 * or its head for a stream), when the server closes, or after 5 s (a server still waiting for a
 * body the request promised).
 */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const s = net.connect(Number(port), hostname)
    let out = ''
    const finish = () => {
      clearTimeout(timer)
      s.destroy()
      resolve(out)
    }
    const timer = setTimeout(finish, 5000)
    s.setEncoding('latin1')
    s.on('data', (c: string) => {
      out += c
      const end = out.indexOf('\r\n\r\n')
      if (end === -1) return
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(out.slice(0, end))?.[1]
      if (len === undefined || out.length - end - 4 >= Number(len)) finish()
    })
    s.on('close', finish)
    s.on('error', finish)
    s.write(Buffer.from(bytes, 'latin1'))
  })
}
