import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { eventually, readUntil } from './helpers.ts'

const hub = (topic: string) => env.TOPIC_HUB.get(env.TOPIC_HUB.idFromName(topic))

/** Opens a subscriber's SSE stream on the topic object, the way the Worker does. */
async function openStream(topic: string, id: string, extra: Record<string, string> = {}) {
  const q = new URLSearchParams({ topic, id, ...extra })
  const res = await hub(topic).fetch(`https://topic-hub/sse?${q}`)
  expect(res.headers.get('content-type')).toBe('text/event-stream')
  const reader = res.body!.getReader()
  const opening = await readUntil(reader, (t) => t.includes('event: gateway.connected'))
  expect(opening.startsWith(': connected\n\nid: ~1.')).toBe(true) // a fresh stream: the cursor of now
  return reader
}

describe('TopicHub', () => {
  it('answers a probe from the headers alone: no subscriber means the publish is dropped', async () => {
    expect(await hub('probe-empty').probe('probe-empty')).toEqual({
      live: false,
      tails: false,
    })
  })

  it('fans one event out to every SSE subscriber as the same framed bytes', async () => {
    const a = await openStream('fan', 'c1')
    const b = await openStream('fan', 'c2', { envelope: '1' })
    expect((await hub('fan').probe('fan')).live).toBe(true)
    const n = await hub('fan').publish({ topic: 'fan', id: 'e1', event: 'up', data: 'x\ny' })
    expect(n).toBe(2)
    const text = await readUntil(a, (t) => t.includes('data: y'))
    const frame = /id: e1~1\.\w+-\w+-1\nevent: up\ntopic: fan\ndata: x\ndata: y\n\n/.exec(text)?.[0]
    expect(frame).toBeDefined()
    expect(await readUntil(b, (t) => t.includes('"cursor"'))).toMatch(
      /data: \{"topic":"fan","id":"e1","event":"up","data":"x\\ny","cursor":"1\.\w+-\w+-1"\}/,
    )
    expect(await hub('fan').counters(['c1', 'c2', 'nope'])).toEqual({
      c1: [1, new TextEncoder().encode(frame).byteLength],
      c2: [1, expect.any(Number)],
    })
    await a.cancel()
    await b.cancel()
  })

  it('closes a stream on request and clears its state when the last subscriber leaves', async () => {
    const r = await openStream('kick', 'k1')
    expect(await hub('kick').holds(['k1', 'k2'])).toEqual(['k1'])
    expect(await hub('kick').close('k1')).toBe(true)
    expect((await r.read()).done).toBe(true)
    expect((await hub('kick').probe('kick')).live).toBe(false)
    expect(await hub('kick').close('k1')).toBe(false)
  })

  it('notices a subscriber that went away and forgets it', async () => {
    const r = await openStream('gone', 'g1')
    await r.cancel()
    await eventually(async () => !(await hub('gone').probe('gone')).live, 'cleanup')
  })

  it('shows publishes and drops to a tail, which is not a subscriber', async () => {
    const res = await hub('tailed').fetch('https://topic-hub/tail?topic=tailed&connected=1')
    const tail = res.body!.getReader()
    expect(await hub('tailed').probe('tailed')).toEqual({ live: false, tails: true })
    await hub('tailed').drop('tailed', 'd1')
    const text = await readUntil(tail, (t) => t.includes('event: drop'))
    expect(text).toMatch(/event: drop\ndata: \{"topic":"tailed","id":"d1","dropped":true/)
    await tail.cancel()
  })

  it('keeps WebSocket members of other topics in storage, and deletes them as they leave', async () => {
    await hub('member').addMember('member', 'w1', 'home')
    expect((await hub('member').probe('member')).live).toBe(true)
    await runInDurableObject(hub('member'), async (_o, state) => {
      // The member, and since when the topic has had subscribers (presence).
      expect([...(await state.storage.list()).keys()]).toEqual(['m:w1', 'since'])
    })
    await hub('member').removeMember('w1')
    expect((await hub('member').probe('member')).live).toBe(false)
    await runInDurableObject(hub('member'), async (_o, state) => {
      expect((await state.storage.list()).size).toBe(0)
    })
  })
})
