import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { type Frame, eventually, sseClient } from './helpers.ts'

// Its own file: resetting every object instance ends every open stream of the file.

const hub = (topic: string) => env.TOPIC_HUB.get(env.TOPIC_HUB.idFromName(topic))
const published = (f: Frame) => f.event === undefined

/** Opens a subscriber's stream on the topic object, the way the Worker does for one topic. */
async function open(topic: string, id: string, after?: { epoch: string; seq: number }) {
  const q = new URLSearchParams({ topic, id })
  if (after) q.set('resume', JSON.stringify({ topic, after }))
  const client = sseClient(await hub(topic).fetch(`https://topic-hub/sse?${q}`))
  await client.until((e) => e.length > 0, 'the opening')
  return client
}

/** The position a one-topic SSE id names (`<pub>~1.<hash>-<epoch>-<seq>`). */
function positionOf(id: string): { epoch: string; seq: number } {
  const [, epoch, seq] = id.split('~')[1]?.split('.')[1]?.split('-') ?? []
  return { epoch: epoch as string, seq: Number.parseInt(seq as string, 36) }
}

describe('an object reset', () => {
  it('ends the subscriber responses it was writing, one topic or several', async () => {
    const open = async (q: string) => {
      const c = sseClient(await exports.default.fetch(new Request(`http://gateway/sse?${q}`)))
      await c.until((e) => e.length > 0, 'the opening')
      return c
    }
    const single = await open('topic=reset-a')
    const merged = await open('topic=reset-a,reset-b')
    // The objects reset (what a deploy, or an error that breaks an object, does). Note:
    // abortAllDurableObjects() of the test pool leaves the old instances' streams running.
    for (const t of ['reset-a', 'reset-b']) {
      await runInDurableObject(hub(t), (_o, state) => state.abort('reset')).catch(() => {})
    }
    for (const c of [single, merged]) {
      // Read on until it ends (what was in flight may come first); an error ends it too: the
      // client reconnects and resumes. The test's timeout bounds the wait.
      for (;;) {
        const r = await c.reader.read().catch(() => ({ done: true }))
        if (r.done) break
      }
    }
  })
})

describe('the replay window across evictions', () => {
  it('keeps the epoch, the numbering and the held events when the object is rebuilt', async () => {
    const topic = 'evicted'
    const sub = await open(topic, 's1')
    const start = positionOf(sub.events()[0]?.id as string)
    await hub(topic).publish({ topic, id: 'e1', data: 'one' })
    await hub(topic).publish({ topic, id: 'e2', data: 'two' })
    await sub.until((e) => e.filter(published).length === 2, 'two events')
    await abortAllDurableObjects() // the object is gone from memory; its storage stays
    const back = await open(topic, 's2', start)
    const got = await back.until((e) => e.filter(published).length === 2, 'the replay')
    expect(got.some((f) => f.event === 'gateway.gap')).toBe(false)
    expect(got.filter(published).map((f) => positionOf(f.id as string))).toEqual([
      { epoch: start.epoch, seq: start.seq + 1 },
      { epoch: start.epoch, seq: start.seq + 2 },
    ])
    await hub(topic).publish({ topic, id: 'e3', data: 'three' })
    const live = await back.until((e) => e.filter(published).length === 3, 'the next event')
    expect(positionOf(live.at(-1)?.id as string).seq).toBe(start.seq + 3)
    await back.close()
  })

  it('forgets an idle topic once its window has aged out: a later resume is told `reset`', async () => {
    const topic = 'aged'
    const sub = await open(topic, 'a1')
    await hub(topic).publish({ topic, id: 'e1', data: 'one' })
    const got = await sub.until((e) => e.some(published), 'the event')
    const last = positionOf(got.at(-1)?.id as string)
    await sub.close()
    await eventually(async () => (await hub(topic).holds(['a1'])).length === 0, 'a1 to leave')
    // The alarm is due after REPLAY_AGE_MS; age the stored event instead of waiting.
    await runInDurableObject(hub(topic), (_o, state) => {
      state.storage.sql.exec('UPDATE replay_events SET time = 0')
    })
    await abortAllDurableObjects()
    expect(await runDurableObjectAlarm(hub(topic))).toBe(true)
    await runInDurableObject(hub(topic), (_o, state) => {
      const tables = state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'replay%'")
        .toArray()
      expect(tables).toEqual([])
    })
    const back = await open(topic, 'a2', last)
    const frames = await back.until((e) => e.length === 2, 'the gap')
    expect(frames[1]?.event).toBe('gateway.gap')
    expect(JSON.parse(frames[1]?.data ?? '')).toEqual({ reason: 'reset', topics: [topic] })
    await back.close()
  })
})
