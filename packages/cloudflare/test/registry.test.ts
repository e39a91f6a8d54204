import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { registryFor } from '../src/env.ts'
import { readSettings } from '../src/settings.ts'
import type { ConnRecord } from '../src/records.ts'
import { RegistryClient } from '../src/registry-client.ts'

const registry = (name: string) => env.REGISTRY.get(env.REGISTRY.idFromName(name))

function rec(id: string, topics: string[]): ConnRecord {
  return {
    id,
    transport: 'sse',
    topics,
    home: null,
    connectedAt: '2026-01-01T00:00:00.000Z',
    remoteAddress: '127.0.0.1',
    userAgent: 'test',
  }
}

describe('Registry', () => {
  it('pages connections in id order, each exactly once, with or without a topic', async () => {
    const r = registry('paging')
    for (let i = 0; i < 25; i++) {
      const id = `c${String(i).padStart(3, '0')}`
      await r.add(rec(id, i % 2 === 0 ? ['even', 'all'] : ['all']))
    }
    const seen: string[] = []
    let after: string | undefined
    for (let guard = 0; guard < 10; guard++) {
      const page = await r.listConnections({ after, limit: 10, topic: undefined })
      seen.push(...page.items.map((c) => c.id))
      after = page.items.at(-1)?.id
      if (!page.more) break
    }
    expect(seen).toHaveLength(25)
    expect(new Set(seen).size).toBe(25)
    expect([...seen].sort()).toEqual(seen)
    const even = await r.listConnections({ after: undefined, limit: 500, topic: 'even' })
    expect(even.items).toHaveLength(13)
    expect(even.more).toBe(false)
    const topics = await r.listTopics({ after: undefined, limit: 1 })
    expect(topics).toEqual({ items: [{ topic: 'all', subscribers: 25 }], more: true })
    expect((await r.listTopics({ after: 'all', limit: 5 })).items).toEqual([
      { topic: 'even', subscribers: 13 },
    ])
  })

  it('searches connections by id, topic prefix, address and user agent, page by page', async () => {
    const r = registry('search')
    for (let i = 0; i < 12; i++) {
      await r.add({
        ...rec(`s${String(i).padStart(3, '0')}`, [i < 7 ? `tenant/a/u${i}` : `other:${i}`]),
        remoteAddress: i % 3 === 0 ? '10.1.0.9' : '127.0.0.1',
        userAgent: i % 4 === 0 ? 'Mozilla/5.0 Firefox/140' : 'curl/8',
      })
    }
    const all = async (search: Record<string, string>, topic?: string) => {
      const ids: string[] = []
      let after: string | undefined
      for (let guard = 0; guard < 20; guard++) {
        const page = await r.listConnections({ after, limit: 2, topic, search })
        ids.push(...page.items.map((c) => c.id))
        after = page.items.at(-1)?.id
        if (!page.more) return ids
      }
      throw new Error('the search does not end')
    }
    expect(await all({ topicPrefix: 'tenant/a/' })).toEqual([
      's000',
      's001',
      's002',
      's003',
      's004',
      's005',
      's006',
    ])
    expect(await all({ address: '10.1.' })).toEqual(['s000', 's003', 's006', 's009'])
    expect(await all({ userAgent: 'FIREFOX' })).toEqual(['s000', 's004', 's008'])
    expect(await all({ id: '01' })).toEqual(['s001', 's010', 's011'])
    expect(await all({ topicPrefix: 'tenant/a/', userAgent: 'firefox' })).toEqual(['s000', 's004'])
    expect(await all({ address: '10.1.' }, 'other:9')).toEqual(['s009'])
  })

  it('drops a connection with its last topic, and counts what topic objects report', async () => {
    const r = registry('removal')
    await r.add(rec('x1', ['a', 'b']))
    await r.add(rec('x1', ['a', 'b'])) // a second add changes nothing
    await r.removeTopic('x1', 'a')
    expect((await r.lookup('x1'))?.topics).toEqual(['a', 'b'])
    await r.removeTopic('x1', 'b')
    expect(await r.lookup('x1')).toBeNull()
    await r.count({ published: 2, delivered: 5, dropped: 1 })
    const t = await r.totals()
    expect(t).toMatchObject({
      connections: 0,
      connectionsTotal: 1,
      topics: 0,
      published: 2,
      delivered: 5,
      dropped: 1,
    })
  })

  it('sweeps a row whose topic object no longer holds the stream', async () => {
    const r = registry('sweep')
    await r.add(rec('lost', ['sweep-topic']))
    await r.add(rec('recent', ['sweep-topic']))
    expect(await runDurableObjectAlarm(r)).toBe(true)
    expect(await r.lookup('lost')).not.toBeNull() // a recent row is not checked
    await runInDurableObject(r, (_o, state) => {
      state.storage.sql.exec("UPDATE conns SET seen = 0 WHERE id = 'lost'")
    })
    expect(await runDurableObjectAlarm(r)).toBe(true)
    expect(await r.lookup('lost')).toBeNull()
    expect(await r.lookup('recent')).not.toBeNull()
  })
})

describe('RegistryClient over several shards', () => {
  it('merges the shards: every connection once, in id order, and topic counts summed', async () => {
    const settings = { ...readSettings(env), registryShards: 3 }
    for (let i = 0; i < 40; i++) {
      const id = `s${String(i).padStart(3, '0')}`
      await registryFor(env, 3, id).add(
        rec(id, i % 4 === 0 ? ['sharded-a', 'sharded-b'] : ['sharded-b']),
      )
    }
    const client = new RegistryClient(env, settings)
    const seen: string[] = []
    let after: string | undefined
    for (let guard = 0; guard < 20; guard++) {
      const page = await client.listConnections({ after, limit: 7, topic: 'sharded-b' })
      seen.push(...page.items.map((c) => c.id))
      after = page.items.at(-1)?.id
      if (!page.more) break
    }
    expect(seen).toHaveLength(40)
    expect([...seen].sort()).toEqual(seen)
    const topics = await client.listTopics({ after: 'sharded', limit: 500 })
    expect(topics.items.map((t) => [t.topic, t.subscribers])).toEqual([
      ['sharded-a', 10],
      ['sharded-b', 40],
    ])
  })
})
