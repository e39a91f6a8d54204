import { PassThrough } from 'node:stream'
import type { Socket } from 'node:net'
import { EncodedMessage } from '@sse-gateway/core'
import { describe, expect, it } from 'vitest'
import { LocalConnection, newCounters } from './connection.ts'
import { CONNECTED_CHUNK, NODE_ENCODERS } from './frames.ts'

/** A writable stand-in for the socket: what the connection wrote, as text. */
function fakeSocket() {
  const written: string[] = []
  const s = new PassThrough()
  s.on('data', (b: Buffer) => written.push(b.toString()))
  return { socket: s as unknown as Socket, written }
}

function sse(socket: Socket) {
  return new LocalConnection({
    id: 'c1',
    transport: 'sse',
    topics: ['a'],
    node: 'n1',
    remoteAddress: undefined,
    userAgent: undefined,
    envelope: false,
    socket,
    slowConsumerBytes: 1 << 20,
    counters: newCounters(),
    onClose() {},
  })
}

describe('LocalConnection heartbeat', () => {
  it('writes no heartbeat before the opening: the first frame stays ": connected"', async () => {
    const { socket, written } = fakeSocket()
    const conn = sse(socket)
    conn.holdUntilLive() // being attached (a cluster attach can outlast a heartbeat interval)
    conn.heartbeat()
    conn.writeComment(CONNECTED_CHUNK)
    conn.goLive(new Map())
    conn.heartbeat() // the opening counted as a write
    conn.heartbeat() // idle now: a heartbeat
    await new Promise((r) => setImmediate(r))
    const text = written.join('')
    expect(text.indexOf(': connected')).toBeGreaterThanOrEqual(0)
    expect(text.indexOf(': heartbeat')).toBeGreaterThan(text.indexOf(': connected'))
  })
})

describe('LocalConnection messages (broadcast, direct send)', () => {
  it('holds a broadcast that arrives while the connection is attached until after its opening', async () => {
    const { socket, written } = fakeSocket()
    const conn = sse(socket)
    conn.holdUntilLive()
    const msg = new EncodedMessage({ topic: '*', id: 'b1', data: 'all' }, NODE_ENCODERS)
    expect(conn.writeMessage(msg)).toBe(true)
    conn.writeComment(CONNECTED_CHUNK)
    conn.goLive(new Map())
    await new Promise((r) => setImmediate(r))
    const text = written.join('')
    expect(text.indexOf('topic: *\ndata: all')).toBeGreaterThan(text.indexOf(': connected'))
    expect(text.split('data: all').length).toBe(2) // once
    expect(text).not.toContain('id:')
  })

  it('ends with gateway.token-expired, then the last chunk, when the token expires', async () => {
    const { socket, written } = fakeSocket()
    const conn = sse(socket)
    const ended = new Promise((r) => socket.once('finish', r))
    conn.expireAt(Date.now(), ['private:a'])
    await ended
    const text = written.join('')
    expect(text).toMatch(/event: gateway\.token-expired\ndata: \{"topics":\["private:a"\]/)
    expect(text.endsWith('0\r\n\r\n')).toBe(true)
    expect(conn.closed).toBe(true)
  })
})
