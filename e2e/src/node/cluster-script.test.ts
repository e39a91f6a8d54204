import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { NODE_HOSTS } from '../targets/cluster.ts'
import { freePort, spawnLogged } from '../targets/util.ts'

const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0

/** Resolves once `output()` matches `re` (the script prints as it goes), or fails after `ms`. */
async function waitForOutput(
  output: () => string,
  re: RegExp,
  ms: number,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms
  for (;;) {
    const m = re.exec(output())
    if (m) return m
    if (Date.now() > deadline) throw new Error(`no ${re} within ${ms} ms in:\n${output()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function ready(url: string): Promise<number> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) })
  return res.status
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe.skipIf(!hasRedis)('`make cluster` (scripts/cluster.sh)', () => {
  it('reports a node that exits and keeps the others running until Ctrl-C', async () => {
    const port = await freePort(NODE_HOSTS[0])
    const redisPort = await freePort()
    const p = spawnLogged('bash', ['scripts/cluster.sh'], {
      PORT: String(port),
      REDIS_PORT: String(redisPort),
      API_KEYS: 'cluster-script-key',
      LOG_LEVEL: 'warn',
    })
    const exited = new Promise<number | null>((r) => p.proc.once('exit', (c) => r(c)))
    try {
      await waitForOutput(p.output, /Cluster ready/, 30_000)
      const pids = Object.fromEntries(
        [...p.output().matchAll(/(node-[abc]) +http:\S+ +pid (\d+)/g)].map((m) => [
          m[1],
          Number(m[2]),
        ]),
      )
      expect(Object.keys(pids)).toEqual(['node-a', 'node-b', 'node-c'])
      process.kill(pids['node-b'] as number, 'SIGKILL')
      await waitForOutput(
        p.output,
        /node-b \(pid \d+\) exited with status 137; the other nodes keep running/,
        10_000,
      )
      expect(p.proc.exitCode).toBeNull()
      expect(await ready(`http://${NODE_HOSTS[0]}:${port}`)).toBe(200)
      expect(await ready(`http://${NODE_HOSTS[2]}:${port}`)).toBe(200)
      p.proc.kill('SIGINT')
      expect(await exited).toBe(130)
      expect(alive(pids['node-a'] as number)).toBe(false)
      expect(alive(pids['node-c'] as number)).toBe(false)
    } finally {
      await p.stop()
    }
  })
})
