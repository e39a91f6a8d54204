import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { writeAccepted } from './framed-reply.ts'

const BODY = '{"id":"a1","delivered":[],"dropped":["nobody"]}'

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((r) => server?.close(r))
  server = undefined
})

/**
 * A plain node:http server: `/framed` answers with writeAccepted, `/node` with Node's own
 * writeHead + end (the bytes writeAccepted must reproduce); `?slow` answers 50 ms late,
 * `?close` as for a body left unread, `?cors` with a CORS header.
 */
async function serve(keepAliveTimeout = 5_000): Promise<number> {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const close = url.searchParams.has('close')
    const cors = url.searchParams.has('cors') ? { 'access-control-allow-origin': '*' } : undefined
    const answer = () => {
      if (url.pathname === '/framed' && writeAccepted(res, BODY, close, cors)) return
      res.writeHead(202, {
        'content-type': 'application/json',
        'content-length': BODY.length,
        ...cors,
        ...(close ? { connection: 'close' } : {}),
      })
      res.end(BODY)
    }
    if (url.searchParams.has('slow')) setTimeout(answer, 50)
    else answer()
  })
  server.keepAliveTimeout = keepAliveTimeout
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r))
  return (server.address() as net.AddressInfo).port
}

/** Sends `requests` in one write; resolves with everything received once `done` says so or the socket closes. */
function exchange(
  port: number,
  requests: string,
  done: (text: string) => boolean,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let text = ''
    const finish = (closed: boolean) => {
      socket.destroy()
      resolve({ text: text.replace(/^Date: .*\r\n/gm, ''), closed })
    }
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1')
      if (done(text)) finish(false)
    })
    socket.once('close', () => finish(true))
    socket.once('error', reject)
    socket.write(requests)
  })
}

const post = (path: string, extra = '', version = '1.1') =>
  `POST ${path} HTTP/${version}\r\nHost: x\r\n${extra}Content-Length: 2\r\n\r\nhi`

const answers = (n: number) => (text: string) =>
  (text.match(/\r\n\r\n\{[^}]*\}/g) ?? []).length === n

describe('writeAccepted', () => {
  it.each([
    ['keep-alive', '', '1.1'],
    ['a client that asks to close', 'Connection: close\r\n', '1.1'],
    ['HTTP/1.0', '', '1.0'],
    ['HTTP/1.0 keep-alive', 'Connection: keep-alive\r\n', '1.0'],
  ])('sends the bytes Node would send: %s', async (_, extra, version) => {
    const port = await serve()
    const framed = await exchange(port, post('/framed', extra, version), answers(1))
    const node = await exchange(port, post('/node', extra, version), answers(1))
    expect(framed.text).toBe(node.text)
    expect(framed.text).toMatch(/^HTTP\/1\.1 202 Accepted\r\n/)
    expect(framed.text.endsWith(BODY)).toBe(true)
  })

  it('sends the bytes Node would send with a CORS header and with no keep-alive timeout', async () => {
    const port = await serve(0)
    const framed = await exchange(port, post('/framed?cors'), answers(1))
    const node = await exchange(port, post('/node?cors'), answers(1))
    expect(framed.text).toBe(node.text)
    expect(framed.text).toContain('access-control-allow-origin: *\r\n')
  })

  it('closes the connection after the answer when told to (a body left unread)', async () => {
    const port = await serve()
    const framed = await exchange(port, post('/framed?close') + post('/framed'), () => false)
    const node = await exchange(port, post('/node?close') + post('/node'), () => false)
    expect(framed.closed).toBe(true)
    expect(framed.text).toBe(node.text)
    expect(framed.text.match(/HTTP\/1\.1/g)).toHaveLength(1)
    expect(framed.text).toMatch(/^connection: close\r\n/m)
  })

  it('waits behind an answer still pending on a pipelined connection, then keeps it open', async () => {
    const port = await serve()
    const got = await exchange(
      port,
      post('/node?slow') + post('/framed') + post('/framed?slow') + post('/framed'),
      answers(4),
    )
    expect(got.closed).toBe(false)
    expect(got.text.match(/HTTP\/1\.1 202 Accepted/g)).toHaveLength(4)
    const node = await exchange(port, post('/node'), answers(1))
    expect(got.text).toBe(node.text.repeat(4))
  })

  it('declines, writing nothing, when the head has begun', async () => {
    const port = await serve()
    server?.removeAllListeners('request')
    let declined: boolean | undefined
    server?.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(500)
      declined = !writeAccepted(res, BODY, false)
      res.end()
    })
    const got = await exchange(port, post('/framed'), (t) => t.includes('\r\n\r\n'))
    expect(declined).toBe(true)
    expect(got.text).toMatch(/^HTTP\/1\.1 500 /)
    expect(got.text).not.toContain(BODY)
  })
})
