import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { PipelinedHttpConnection } from './http-client.ts'

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((r) => server?.close(r))
  server = undefined
})

/** A node:http server answering `/<status>` with that status, `?late` 20 ms late, `?close` closing. */
async function serve(): Promise<number> {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const status = Number(url.pathname.slice(1))
    const answer = () => {
      const headers = url.searchParams.has('close') ? { connection: 'close' } : {}
      res.writeHead(status, headers).end(url.searchParams.has('chunked') ? undefined : 'ok')
    }
    if (url.searchParams.has('late')) setTimeout(answer, 20)
    else answer()
  })
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r))
  return (server.address() as AddressInfo).port
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`

describe('PipelinedHttpConnection', () => {
  it('matches replies to requests sent in one write, in order', async () => {
    const port = await serve()
    const c = new PipelinedHttpConnection({ host: '127.0.0.1', port })
    const paths = ['/202?late', '/201', '/404?late', '/200?chunked', '/204']
    const replies = paths.map((p) => c.send(get(p)))
    c.flush()
    const statuses = (await Promise.all(replies)).map((r) => r.status)
    expect(statuses).toEqual([202, 201, 404, 200, 204])
    const again = c.send(get('/203'))
    c.flush()
    expect((await again).status).toBe(203)
    c.close()
  })

  it('fails the requests behind a reply that closes the connection', async () => {
    const port = await serve()
    const c = new PipelinedHttpConnection({ host: '127.0.0.1', port })
    const first = c.send(get('/202?close'))
    const second = c.send(get('/202'))
    c.flush()
    expect((await first).status).toBe(202)
    await expect(second).rejects.toThrow()
    expect(c.closed).toBe(true)
  })
})
