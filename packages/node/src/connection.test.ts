import { PassThrough } from 'node:stream'
import type { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { LocalConnection, newCounters } from './connection.ts'
import { CONNECTED_CHUNK } from './frames.ts'

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
