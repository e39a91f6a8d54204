import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { SseClient } from '../clients/sse.ts'
import { NODE_MAIN } from '../targets/node.ts'
import { freePort, spawnLogged, waitReady } from '../targets/util.ts'

describe('the gateway process (what `make start` runs)', () => {
  it('makes one random key when API_KEYS is unset, prints it once, and accepts it', async () => {
    const port = await freePort()
    const env = { HOST: '127.0.0.1', PORT: String(port), API_KEYS: '', LOG_LEVEL: 'info' }
    const p = spawnLogged(process.execPath, [NODE_MAIN], env)
    try {
      await waitReady(`http://127.0.0.1:${port}/readyz`, 15_000, p.proc, p.output)
      const key = /API key for this run: (sk_[0-9a-f]+)/.exec(p.output())?.[1]
      expect(key, p.output()).toBeTruthy()
      expect(p.output().split(key as string)).toHaveLength(2) // printed once, never logged again
      expect(p.output()).toMatch(/"level":40.*API_KEYS is unset/)
      const res = await fetch(`http://127.0.0.1:${port}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'x-sse-topic': 'a', 'x-sse-id': '1' },
      })
      expect(res.status).toBe(202)
    } finally {
      await p.stop()
    }
  })

  it('refuses to start on an invalid setting, naming it', async () => {
    const p = spawnLogged(process.execPath, [NODE_MAIN], { PORT: 'abc' })
    const code = await new Promise<number | null>((r) => p.proc.once('exit', (c) => r(c)))
    expect(code).toBe(2)
    expect(p.output()).toContain('PORT="abc" is invalid')
  })

  it('listens on 127.0.0.1 when HOST is unset, and says so', async () => {
    const port = await freePort()
    const p = spawnLogged(process.execPath, [NODE_MAIN], {
      HOST: '',
      PORT: String(port),
      API_KEYS: 'k',
    })
    try {
      await waitReady(`http://127.0.0.1:${port}/readyz`, 15_000, p.proc, p.output)
      expect(p.output()).toContain(`Listening on 127.0.0.1:${port} (this machine only`)
      // Another loopback address of this machine is another interface: nothing listens there.
      const other = await new Promise<string>((resolve) => {
        const s = net.connect(port, '127.0.0.2')
        s.once('connect', () => {
          s.destroy()
          resolve('connected')
        })
        s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
      })
      expect(other).toBe('ECONNREFUSED')
    } finally {
      await p.stop()
    }
  })

  it('says in one line that the port is in use, and exits with status 2', async () => {
    const blocker = net.createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()))
    const port = (blocker.address() as net.AddressInfo).port
    try {
      const p = spawnLogged(process.execPath, [NODE_MAIN], {
        HOST: '127.0.0.1',
        PORT: String(port),
        API_KEYS: 'k',
      })
      const code = await new Promise<number | null>((r) => p.proc.once('exit', (c) => r(c)))
      expect(code).toBe(2)
      const lines = p.output().trim().split('\n')
      expect(lines).toEqual([
        `sse-gateway: cannot listen on 127.0.0.1:${port}: the port is in use by another process (stop it, or set PORT)`,
      ])
    } finally {
      blocker.close()
    }
  })

  it('drains on SIGTERM: open streams end, the process exits 0', async () => {
    const port = await freePort()
    const p = spawnLogged(process.execPath, [NODE_MAIN], {
      HOST: '127.0.0.1',
      PORT: String(port),
      API_KEYS: 'k',
    })
    await waitReady(`http://127.0.0.1:${port}/readyz`, 15_000, p.proc, p.output)
    const sub = await SseClient.open(`http://127.0.0.1:${port}/sse?topic=drain`)
    const exited = new Promise<number | null>((r) => p.proc.once('exit', (c) => r(c)))
    p.proc.kill('SIGTERM')
    await sub.waitForEnd()
    expect(await exited).toBe(0)
    expect(p.output()).toMatch(/draining/)
  })
})
