import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { LocalConnection, newCounters } from './connection.ts'
import type { TopicNamespace } from './namespace.ts'

/** A real `redis-server` on loopback for tests: no persistence, stopped by its PID. */
export interface TestRedis {
  port: number
  url: string
  pid: number
  /** SIGKILLs the server (every key is lost: it keeps nothing on disk). */
  kill(): Promise<void>
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>
  stop(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject()))
    })
  })
}

/** Throws a clear message when redis-server is not installed. */
export function requireRedisServer(): void {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
  } catch {
    throw new Error(
      'redis-server is not installed: run `make setup` (apt-get install redis-server)',
    )
  }
}

async function launch(port: number): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    ['--port', `${port}`, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString()
      if (out.includes('Ready to accept connections')) resolve()
    }
    proc.stdout?.on('data', onData)
    proc.stderr?.on('data', onData)
    proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)))
  })
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
  try {
    await ready
  } finally {
    clearTimeout(timer)
  }
  proc.stdout?.resume()
  proc.stderr?.resume()
  return proc
}

async function end(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = once(proc, 'exit')
  proc.kill(signal)
  await exited
}

/** Starts `redis-server --port <free> --bind 127.0.0.1 --save '' --appendonly no`. */
export async function startTestRedis(): Promise<TestRedis> {
  requireRedisServer()
  const port = await freePort()
  let proc = await launch(port)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return proc.pid ?? 0
    },
    kill: () => end(proc, 'SIGKILL'),
    async restart() {
      await end(proc, 'SIGKILL')
      proc = await launch(port)
    },
    stop: () => end(proc, 'SIGTERM'),
  }
}

let connN = 0
/** A subscriber connection with no socket, attached by hand to a namespace in unit tests. */
export function testConnection(ns: TopicNamespace, topics: string[]): LocalConnection {
  connN++
  return new LocalConnection({
    id: `c${Date.now().toString(36).padStart(9, '0')}${String(connN).padStart(5, '0')}test`,
    transport: 'sse',
    topics,
    node: ns.nodeId,
    remoteAddress: '127.0.0.1',
    userAgent: 'unit',
    envelope: false,
    slowConsumerBytes: 1 << 20,
    counters: newCounters(),
    onClose: (c) => ns.detach(c),
  })
}
