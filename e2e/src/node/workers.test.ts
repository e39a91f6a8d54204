import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, eventually, listAll, publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import { clusterTarget, startRedis } from '../targets/cluster.ts'
import { selectedTargets } from '../targets/index.ts'
import { NODE_MAIN, nodeWorkersTarget } from '../targets/node.ts'
import { type Spawned, freePort, spawnLogged, waitReady } from '../targets/util.ts'

const selected = selectedTargets().some((t) => t.name === nodeWorkersTarget.name)
const unavailable = selected ? await nodeWorkersTarget.unavailable() : 'not selected by E2E_TARGETS'
const noRedis = unavailable ?? (await clusterTarget.unavailable())

const KEY = 'workers-e2e-key'
let seq = 0
const topic = (name: string) => `${name}-${process.pid}-${Date.now().toString(36)}-${++seq}`

interface Conn {
  id: string
  node: string
  topics: string[]
}
interface NodeItem {
  id: string
}

/** A gateway with WORKERS=2 (no Redis unless given), logging at info so its workers' PIDs show. */
async function startWorkers(env: Record<string, string> = {}, host = '127.0.0.1') {
  const port = await freePort(host)
  const url = `http://${host}:${port}`
  const p = spawnLogged(process.execPath, [NODE_MAIN], {
    HOST: host,
    PORT: String(port),
    API_KEYS: KEY,
    LOG_LEVEL: 'info',
    HEARTBEAT_MS: '1000',
    WORKERS: '2',
    ...env,
  })
  await waitReady(`${url}/readyz`, 15_000, p.proc, p.output)
  // Ready once the first worker listens: wait for every one, or round robin has one to spread to.
  const workers = Number(env.WORKERS ?? '2')
  await eventually(
    async () => p.output().split('"worker listening"').length - 1 >= workers,
    15_000,
    `${workers} workers listening`,
  )
  return { url, p }
}

/** The primary's children now: its workers' PIDs (Linux). */
function workerPids(primary: number): number[] {
  const raw = readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8')
  return raw.trim().split(/\s+/).filter(Boolean).map(Number)
}

/** Node id → PID, from the workers' `worker listening` lines. */
function pidOfNode(p: Spawned, node: string): number | undefined {
  for (const line of p.output().split('\n')) {
    if (!line.includes('"worker listening"') || !line.includes(`"node":"${node}"`)) continue
    const pid = /"pid":(\d+)/.exec(line)?.[1]
    if (pid) return Number(pid)
  }
  return undefined
}

async function connectionsOf(url: string, t: string): Promise<Conn[]> {
  return (await listAll<Conn>(url, KEY, `/connections?topic=${encodeURIComponent(t)}`, 500)).items
}

/** Opens subscribers of `t` until two of them are on different workers (round robin spreads them). */
async function spreadSubscribers(url: string, t: string): Promise<Map<string, SseClient>> {
  const byNode = new Map<string, SseClient>()
  const extra: SseClient[] = []
  for (let i = 0; i < 8 && byNode.size < 2; i++) {
    const c = await SseClient.open(`${url}/sse?topic=${t}`)
    await c.waitForGatewayEvents(1)
    const node = (await connectionsOf(url, t)).find((x) => x.id === c.connectionId)?.node
    if (node && !byNode.has(node)) byNode.set(node, c)
    else extra.push(c)
  }
  for (const c of extra) c.close()
  return byNode
}

describe.skipIf(unavailable !== undefined)(
  `node-workers: WORKERS=2, one port${unavailable ? ` (not run: ${unavailable})` : ''}`,
  () => {
    let gw: Awaited<ReturnType<typeof startWorkers>>
    beforeAll(async () => {
      gw = await startWorkers()
    })
    afterAll(async () => {
      await gw?.p.stop()
    })

    it('says its mode, and lists one node per worker', async () => {
      expect(gw.p.output()).toMatch(/"mode":"workers","workers":2,"msg":"sse-gateway listening"/)
      expect(gw.p.output()).toContain('Mode: workers (WORKERS=2), one host, no Redis')
      // Ready once the first worker listens; the second follows within a moment.
      let nodes: NodeItem[] = []
      await eventually(
        async () => {
          nodes = (await admin<{ items: NodeItem[] }>(gw.url, KEY, '/nodes')).body.items
          return nodes.length === 2
        },
        15_000,
        'both workers listed',
      )
      for (const n of nodes) expect(n.id).toMatch(/-w\d+$/)
    })

    it('delivers across workers, every subscriber in the publisher order', async () => {
      const t = topic('spread')
      const subs = await spreadSubscribers(gw.url, t)
      // Two subscribers on two workers: whichever worker takes a publish, one is across.
      expect(subs.size).toBe(2)
      const n = 30
      for (let i = 1; i <= n; i++) {
        const res = await publish(gw.url, KEY, t, `e${i}`, `${i}`)
        expect(res.body.delivered).toEqual([t])
      }
      for (const c of subs.values()) {
        const got = await c.waitForEvents(n)
        expect(got.map((e) => e.id)).toEqual(Array.from({ length: n }, (_, i) => `e${i + 1}`))
      }
      const presence = await admin<{ subscribers: number; nodes: unknown[] }>(
        gw.url,
        KEY,
        `/topics/${t}`,
      )
      expect(presence.body).toMatchObject({ subscribers: 2 })
      expect(presence.body.nodes).toHaveLength(2)
      // /metrics answers for the host whichever worker takes the scrape: the 60 deliveries were
      // 30 on each worker, and the topic is live on both but counted once.
      for (let i = 0; i < 3; i++) {
        const text = await (await fetch(`${gw.url}/metrics`)).text()
        const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
        expect(value('sse_gateway_delivered_total')).toBeGreaterThanOrEqual(2 * n)
        expect(value('sse_gateway_topics')).toBe(1)
        expect(value('sse_gateway_replay_bytes')).toBeGreaterThan(0)
      }
      for (const c of subs.values()) c.close()
    })

    it('resumes on another worker from the host-wide window', async () => {
      const t = topic('resume')
      const keeper = await SseClient.open(`${gw.url}/sse?topic=${t}`)
      await keeper.waitForGatewayEvents(1)
      await publish(gw.url, KEY, t, 'r1', 'one')
      const first = await SseClient.open(`${gw.url}/sse?topic=${t}`)
      await first.waitForGatewayEvents(1)
      await publish(gw.url, KEY, t, 'r2', 'two')
      await first.waitForEvents(1)
      const cursor = first.lastEventId as string
      const firstNode = (await connectionsOf(gw.url, t)).find((c) => c.id === first.connectionId)
      first.close()
      for (const id of ['r3', 'r4']) await publish(gw.url, KEY, t, id, id)
      // Reconnects until one lands on the other worker (round robin: the next one or so).
      let back: SseClient | undefined
      for (let i = 0; i < 8 && !back; i++) {
        const c = await SseClient.open(`${gw.url}/sse?topic=${t}`, { 'last-event-id': cursor })
        await c.waitForGatewayEvents(1)
        const node = (await connectionsOf(gw.url, t)).find((x) => x.id === c.connectionId)?.node
        if (node && node !== firstNode?.node) back = c
        else c.close()
      }
      expect(back, 'a reconnect on the other worker').toBeDefined()
      const replayed = await (back as SseClient).waitForEvents(2)
      expect(replayed.map((e) => e.id)).toEqual(['r3', 'r4'])
      // No gap: the window of the whole host had them.
      expect(back?.gatewayEvents.map((e) => e.event)).toEqual(['gateway.connected'])
      back?.close()
      keeper.close()
    })

    it('survives kill -9 of a worker: the other keeps delivering, listings heal, a replacement starts', async () => {
      const t = topic('kill')
      const subs = await spreadSubscribers(gw.url, t)
      expect(subs.size).toBe(2)
      const [[victimNode, victimSub], [otherNode, survivor]] = [...subs] as [
        [string, SseClient],
        [string, SseClient],
      ]
      const primary = gw.p.proc.pid as number
      const victim = pidOfNode(gw.p, victimNode)
      expect(victim, gw.p.output()).toBeDefined()
      expect(workerPids(primary)).toContain(victim)
      process.kill(victim as number, 'SIGKILL')
      await victimSub.waitForEnd()
      await eventually(
        async () => {
          // A kept-alive socket to the killed worker fails, and a connection handed to it as it
          // died goes unanswered: ask again, on a new one, as a client would.
          const r = await admin<{ items: NodeItem[] }>(gw.url, KEY, '/nodes', {
            signal: AbortSignal.timeout(2_000),
          }).catch(() => null)
          if (!r) return false
          const nodes = r.body.items
          const ids = nodes.map((n) => n.id)
          return nodes.length === 2 && !ids.includes(victimNode) && ids.includes(otherNode)
        },
        // Forking and starting the replacement on a loaded 2-core CI machine took over 15 s once.
        45_000,
        'the killed worker gone from /nodes and a replacement listed',
      )
      expect(workerPids(primary)).not.toContain(victim)
      expect(workerPids(primary)).toHaveLength(2)
      const conns = await connectionsOf(gw.url, t)
      expect(conns.map((c) => c.node)).toEqual([otherNode])
      const res = await publish(gw.url, KEY, t, 'after-kill', 'still here')
      expect(res.body.delivered).toEqual([t])
      expect((await survivor.waitForEvents(1)).map((e) => e.data)).toEqual(['still here'])
      survivor.close()
    })
  },
)

describe.skipIf(unavailable !== undefined)(
  `node-workers: drain${unavailable ? ` (not run: ${unavailable})` : ''}`,
  () => {
    it('on SIGTERM drains every worker, ends their streams, and exits 0 once they have', async () => {
      const gw = await startWorkers()
      try {
        const t = topic('drain')
        const subs = await spreadSubscribers(gw.url, t)
        expect(subs.size).toBe(2)
        const primary = gw.p.proc.pid as number
        const workers = workerPids(primary)
        expect(workers).toHaveLength(2)
        const exited = new Promise<number | null>((r) => gw.p.proc.once('exit', (code) => r(code)))
        gw.p.proc.kill('SIGTERM')
        for (const c of subs.values()) await c.waitForEnd()
        expect(await exited).toBe(0)
        // No worker outlives the primary, and none was restarted during the drain.
        for (const pid of workers) {
          expect(() => process.kill(pid, 0)).toThrow()
        }
        expect(gw.p.output()).not.toContain('forking a replacement')
      } finally {
        await gw.p.stop()
      }
    })
  },
)

describe.skipIf(noRedis !== undefined)(
  `node-workers: WORKERS=2 on each of two hosts sharing Redis${noRedis ? ` (not run: ${noRedis})` : ''}`,
  () => {
    let redis: Spawned
    const gws: Array<Awaited<ReturnType<typeof startWorkers>>> = []
    beforeAll(async () => {
      const port = await freePort()
      redis = await startRedis(port)
      for (const [i, host] of ['127.0.0.2', '127.0.0.3'].entries()) {
        gws.push(
          await startWorkers(
            { REDIS_URL: `redis://127.0.0.1:${port}`, NODE_ID: `host-${i}` },
            host,
          ),
        )
      }
    })
    afterAll(async () => {
      await Promise.all(gws.map((g) => g.p.stop()))
      await redis?.stop()
    })

    it('makes each worker a cluster node: publish on one host, receive on the other', async () => {
      const [a, b] = gws as [(typeof gws)[0], (typeof gws)[0]]
      expect(a.p.output()).toMatch(/"mode":"cluster","workers":2/)
      await eventually(
        async () =>
          (await admin<{ items: NodeItem[] }>(a.url, KEY, '/nodes')).body.items.length === 4,
        15_000,
        'four nodes (two per host) in the cluster',
      )
      const t = topic('composed')
      const sub = await SseClient.open(`${a.url}/sse?topic=${t}`)
      await sub.waitForGatewayEvents(1)
      const res = await publish(b.url, KEY, t, 'x1', 'across hosts')
      expect(res.body.delivered).toEqual([t])
      expect((await sub.waitForEvents(1)).map((e) => e.data)).toEqual(['across hosts'])
      sub.close()
    })
  },
)
