import { describe, expect, it } from 'vitest'
import { type GoneReason, TopicStreams } from '../src/topic-streams.ts'
import { eventually, readUntil } from './helpers.ts'

describe('TopicStreams', () => {
  it('pings an idle stream with an empty comment and forgets it at the first write after its reader left', async () => {
    const gone: GoneReason[] = []
    const streams = new TopicStreams({
      heartbeatMs: 60_000,
      disconnectCheckMs: 50,
      slowConsumerBytes: 1_048_576,
      onGone: (_s, reason) => gone.push(reason),
    })
    const { body } = streams.open({
      id: 'c1',
      kind: 'sub',
      envelope: false,
      heartbeat: true,
      connected: true,
      signal: undefined,
    })
    const reader = body.getReader()
    const text = await readUntil(reader, (t) => t.includes(':\n\n'))
    expect(text).toBe(': connected\n\n:\n\n') // the ping: no event, no heartbeat text
    await reader.cancel()
    await eventually(async () => gone.length > 0, 'the stream to be forgotten')
    expect(gone).toEqual(['left'])
    expect(streams.size).toBe(0)
  })

  it('drops a stream when its request is aborted, without waiting for a write', async () => {
    const gone: GoneReason[] = []
    const streams = new TopicStreams({
      heartbeatMs: 60_000,
      disconnectCheckMs: 0,
      slowConsumerBytes: 1_048_576,
      onGone: (_s, reason) => gone.push(reason),
    })
    const abort = new AbortController()
    streams.open({
      id: 'c2',
      kind: 'sub',
      envelope: false,
      heartbeat: true,
      connected: false,
      signal: abort.signal,
    })
    abort.abort()
    expect(gone).toEqual(['left'])
    expect(streams.subs.size).toBe(0)
  })
})
