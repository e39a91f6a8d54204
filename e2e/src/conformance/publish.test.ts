import net from 'node:net'
import { expect, it } from 'vitest'
import { publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import { forEachTarget, uniqueTopic } from './harness.ts'

/** Sends raw bytes on a fresh socket and resolves with everything read until the first full response. */
function rawRequest(
  url: string,
  bytes: string,
  timeoutMs = 10_000,
): Promise<{ head: string; body: string; socket: net.Socket }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    let buf = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no response within ${timeoutMs} ms; got ${JSON.stringify(buf)}`))
    }, timeoutMs)
    socket.setEncoding('utf8')
    socket.on('error', reject)
    socket.on('data', (chunk: string) => {
      buf += chunk
      const end = buf.indexOf('\r\n\r\n')
      if (end === -1) return
      const head = buf.slice(0, end)
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN)
      const body = buf.slice(end + 4)
      if (Number.isNaN(len) || body.length >= len) {
        clearTimeout(timer)
        resolve({ head, body, socket })
      }
    })
    socket.write(bytes)
  })
}

forEachTarget((target) => {
  it('drops a publish to a topic nobody subscribes, and says so', async () => {
    const t = uniqueTopic('nobody')
    const res = await publish(target().url, target().apiKey, t, 'd1', 'lost')
    expect(res).toEqual({
      status: 202,
      body: expect.objectContaining({ id: 'd1', delivered: [], dropped: [t] }),
    })
  })

  it('answers a drop at once although the declared body never fully arrives', async () => {
    const t = uniqueTopic('nobody')
    const { host } = new URL(target().url)
    const { head, body, socket } = await rawRequest(
      target().url,
      `POST /publish HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${target().apiKey}\r\n` +
        `x-sse-topic: ${t}\r\nx-sse-id: big-1\r\nContent-Length: 10000000\r\n\r\n0123456789`,
    )
    expect(head).toMatch(/^HTTP\/1\.1 202/)
    expect(JSON.parse(body)).toMatchObject({ dropped: [t], delivered: [] })
    socket.destroy()
    // The gateway keeps serving everyone else.
    const again = await publish(target().url, target().apiKey, t, 'after', 'x')
    expect(again.status).toBe(202)
  })

  it('does not read an unread body as the next request on the same connection', async () => {
    const t = uniqueTopic('nobody')
    const { host } = new URL(target().url)
    const smuggled = `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`
    const { head, socket } = await rawRequest(
      target().url,
      `POST /publish HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${target().apiKey}\r\n` +
        `x-sse-topic: ${t}\r\nx-sse-id: s-1\r\nContent-Length: 5000\r\n\r\n${smuggled}`,
    )
    expect(head).toMatch(/^HTTP\/1\.1 202/)
    // Whatever follows on that socket must not be a response to the smuggled request.
    const rest = await new Promise<string>((resolve) => {
      let more = ''
      socket.on('data', (c: string) => {
        more += c
      })
      socket.once('close', () => resolve(more))
      setTimeout(() => {
        socket.destroy()
        resolve(more)
      }, 1500)
    })
    expect(rest).not.toMatch(/"status":"ok"/)
  })

  it('requires a valid API key to publish', async () => {
    const t = uniqueTopic()
    const none = await publish(target().url, undefined, t, '1', 'x')
    expect(none.status).toBe(401)
    expect(none.body.error?.code).toBe('unauthorized')
    const wrong = await publish(target().url, 'not-the-key', t, '1', 'x')
    expect(wrong.status).toBe(401)
    const viaHeader = await fetch(`${target().url}/publish`, {
      method: 'POST',
      headers: { 'x-api-key': target().apiKey, 'x-sse-topic': t, 'x-sse-id': '1' },
      body: 'x',
    })
    expect(viaHeader.status).toBe(202)
  })

  it('refuses each bad input with a 4xx JSON error naming it, and other subscribers keep receiving', async () => {
    const t = uniqueTopic()
    const watcher = await SseClient.open(`${target().url}/sse?topic=${t}`)
    const key = target().apiKey
    const url = target().url
    const cases: Array<[string, () => Promise<Response>, number, RegExp]> = [
      ['no topic on subscribe', () => fetch(`${url}/sse`), 400, /missing topic/],
      ['empty topic list', () => fetch(`${url}/sse?topic=,,`), 400, /empty topic list/],
      ['invalid topic characters', () => fetch(`${url}/sse?topic=a%20b`), 400, /"a b"/],
      [
        'too many topics',
        () => fetch(`${url}/sse?topic=${Array.from({ length: 65 }, (_, i) => `x${i}`).join(',')}`),
        400,
        /too many topics/,
      ],
      ['bad envelope', () => fetch(`${url}/sse?topic=a&envelope=xml`), 400, /envelope/],
      [
        'publish without x-sse-id',
        () =>
          fetch(`${url}/publish`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'x-sse-topic': t },
            body: 'x',
          }),
        400,
        /missing x-sse-id/,
      ],
      [
        'publish with an invalid x-sse-id',
        () =>
          fetch(`${url}/publish`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'x-sse-topic': t, 'x-sse-id': 'a b' },
            body: 'x',
          }),
        400,
        /x-sse-id "a b"/,
      ],
      [
        'publish without topic',
        () =>
          fetch(`${url}/publish`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'x-sse-id': '1' },
            body: 'x',
          }),
        400,
        /missing topic/,
      ],
      [
        'oversized body',
        () =>
          fetch(`${url}/publish`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'x-sse-topic': t, 'x-sse-id': 'big' },
            body: 'x'.repeat(1_048_577),
          }),
        413,
        /MAX_BODY_BYTES/,
      ],
      [
        'body not UTF-8',
        () =>
          fetch(`${url}/publish`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'x-sse-topic': t, 'x-sse-id': 'bin' },
            body: new Uint8Array([0x68, 0x69, 0xff, 0xfe]),
          }),
        400,
        /UTF-8/,
      ],
      ['unknown route', () => fetch(`${url}/nope`), 404, /no route/],
      ['wrong method', () => fetch(`${url}/publish`), 405, /not allowed/],
      ['admin without key', () => fetch(`${url}/admin/api/topics`), 401, /API key/],
      [
        'malformed cursor',
        () =>
          fetch(`${url}/admin/api/connections?cursor=!!`, {
            headers: { authorization: `Bearer ${key}` },
          }),
        400,
        /invalid cursor/,
      ],
      [
        'malformed limit',
        () =>
          fetch(`${url}/admin/api/topics?limit=ten`, {
            headers: { authorization: `Bearer ${key}` },
          }),
        400,
        /invalid limit/,
      ],
      ['WebSocket route without upgrade', () => fetch(`${url}/ws?topic=a`), 400, /upgrade/i],
    ]
    for (const [name, call, status, message] of cases) {
      const res = await call()
      expect(res.status, name).toBe(status)
      expect(res.headers.get('content-type'), name).toMatch(/application\/json/)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(body.error.message, name).toMatch(message)
      expect(typeof body.error.code, name).toBe('string')
    }
    await publish(url, key, t, 'still-here', 'ok')
    expect((await watcher.waitForEvents(1))[0]?.id).toBe('still-here')
    expect(watcher.ended).toBe(false)
    watcher.close()
  })
})
