import { describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.ts'
import { recordingBackend, untouchableBody } from './test-backend.ts'

const config = { apiKeys: ['k'], maxTopicsPerConnection: 4, maxBodyBytes: 16, corsOrigins: ['*'] }

function publish(headers: Record<string, string>, body?: BodyInit) {
  return new Request('http://gw/publish', {
    method: 'POST',
    headers: { authorization: 'Bearer k', ...headers },
    body,
    // @ts-expect-error Node's fetch needs duplex for stream bodies
    duplex: 'half',
  })
}

describe('POST /publish', () => {
  it('drops without reading the body when no topic has a subscriber', async () => {
    const { backend, dropped } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const res = await app.fetch(
      publish({ 'x-sse-topic': 'a,b', 'x-sse-id': '1' }, untouchableBody()),
    )
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ id: '1', delivered: [], dropped: ['a', 'b'] })
    expect(dropped).toEqual([{ topics: ['a', 'b'], id: '1' }])
  })

  it('drops whatever the declared size when nobody listens', async () => {
    const { backend } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const res = await app.fetch(
      publish(
        { 'x-sse-topic': 'a', 'x-sse-id': '1', 'content-length': '10000000' },
        untouchableBody(),
      ),
    )
    expect(res.status).toBe(202)
  })

  it('reads the body once and publishes one event per live topic', async () => {
    const { backend, published, dropped } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const res = await app.fetch(
      publish({ 'x-sse-topic': 'live,gone', 'x-sse-id': 'e1', 'x-sse-event': 'up' }, 'hi\nthere'),
    )
    expect(await res.json()).toEqual({ id: 'e1', delivered: ['live'], dropped: ['gone'] })
    expect(published).toEqual([{ topic: 'live', id: 'e1', event: 'up', data: 'hi\nthere' }])
    expect(dropped).toEqual([{ topics: ['gone'], id: 'e1' }])
  })

  it('refuses a body over MAX_BODY_BYTES with 413 when it would be delivered', async () => {
    const { backend, published } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const res = await app.fetch(publish({ 'x-sse-topic': 'live', 'x-sse-id': '1' }, 'x'.repeat(17)))
    expect(res.status).toBe(413)
    expect((await res.json()).error.code).toBe('payload_too_large')
    expect(published).toEqual([])
  })

  it('refuses bodies that are not UTF-8', async () => {
    const { backend } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const res = await app.fetch(
      publish({ 'x-sse-topic': 'live', 'x-sse-id': '1' }, new Uint8Array([0xff, 0xfe])),
    )
    expect(res.status).toBe(400)
    expect((await res.json()).error.message).toMatch(/UTF-8/)
  })

  it.each([
    [{ 'x-sse-id': '1' }, 400, /missing topic/],
    [{ 'x-sse-topic': 'a', 'x-sse-id': 'bad id' }, 400, /x-sse-id "bad id"/],
    [{ 'x-sse-topic': 'a' }, 400, /missing x-sse-id/],
    [{ 'x-sse-topic': 'a,b,c,d,e', 'x-sse-id': '1' }, 400, /too many topics/],
  ])('refuses %o with %i naming the problem', async (headers, status, message) => {
    const { backend } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const res = await app.fetch(publish(headers as Record<string, string>, 'x'))
    expect(res.status).toBe(status)
    expect((await res.json()).error.message).toMatch(message)
  })

  it('checks the key before anything else', async () => {
    const { backend } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const res = await app.fetch(
      new Request('http://gw/publish', { method: 'POST', headers: { 'x-sse-topic': 'bad topic' } }),
    )
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/Bearer/)
  })
})

describe('routing', () => {
  it('answers unknown routes with 404 and wrong methods with 405 and Allow', async () => {
    const { backend } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const nf = await app.fetch(new Request('http://gw/nope'))
    expect(nf.status).toBe(404)
    expect((await nf.json()).error.code).toBe('not_found')
    const na = await app.fetch(new Request('http://gw/publish'))
    expect(na.status).toBe(405)
    expect(na.headers.get('allow')).toBe('POST, OPTIONS')
    const del = await app.fetch(new Request('http://gw/sse', { method: 'DELETE' }))
    expect(del.status).toBe(405)
  })

  it('answers a CORS preflight for publish and subscribe', async () => {
    const { backend } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const res = await app.fetch(
      new Request('http://gw/publish', {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example' },
      }),
    )
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-headers')).toContain('x-sse-topic')
  })

  it('guards the admin API with the publisher keys and validates cursors', async () => {
    const { backend } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    expect((await app.fetch(new Request('http://gw/admin/api/topics'))).status).toBe(401)
    const auth = { headers: { 'x-api-key': 'k' } }
    expect((await app.fetch(new Request('http://gw/admin/api/topics', auth))).status).toBe(200)
    const bad = await app.fetch(new Request('http://gw/admin/api/connections?cursor=@@', auth))
    expect(bad.status).toBe(400)
    const gone = await app.fetch(
      new Request('http://gw/admin/api/connections/c2', { method: 'DELETE', ...auth }),
    )
    expect(gone.status).toBe(404)
  })
})
