import { type ChildProcess, spawn } from 'node:child_process'
import type { Language } from './languages.ts'

/** The environment every example program gets: ours, plus what the test sets. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', ...extra }
}

/**
 * A running example subscriber: its stdout lines as they come, its stderr for messages, and
 * waits that resolve on output (never on sleeps) and fail after a bound with what was seen.
 */
export class ExampleSubscriber {
  readonly lines: string[] = []
  #stderr = ''
  #partial = ''
  #listeners = new Set<() => void>()
  readonly #exited: Promise<void>

  private constructor(
    readonly lang: Language['name'],
    private readonly proc: ChildProcess,
  ) {
    proc.stdout?.setEncoding('utf8')
    proc.stdout?.on('data', (chunk: string) => {
      const parts = (this.#partial + chunk).split('\n')
      this.#partial = parts.pop() ?? ''
      this.lines.push(...parts)
      this.#notify()
    })
    proc.stderr?.setEncoding('utf8')
    proc.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-16384)
      this.#notify()
    })
    this.#exited = new Promise((r) => proc.once('exit', () => r()))
    proc.once('exit', () => this.#notify())
  }

  /**
   * Starts `lang`'s subscriber on `topics` (comma-separated) against `gatewayUrl`. `eventTypes`
   * go in `EVENT`: the named events a subscriber built on an EventSource API listens for;
   * `token` in `TOKEN`: a subscriber token for private topics.
   */
  static start(
    lang: Language,
    gatewayUrl: string,
    topics: string,
    eventTypes: string[] = [],
    token?: string,
  ): ExampleSubscriber {
    const { cmd, args, cwd } = lang.subscriber
    const extra = { GATEWAY_URL: gatewayUrl, TOPIC: topics, EVENT: eventTypes.join(',') }
    const proc = spawn(cmd, args, {
      cwd,
      env: env(token === undefined ? extra : { ...extra, TOKEN: token }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    return new ExampleSubscriber(lang.name, proc)
  }

  get stderr(): string {
    return this.#stderr
  }

  /** The `event …` lines so far. */
  get events(): string[] {
    return this.lines.filter((l) => l.startsWith('event '))
  }

  #notify(): void {
    for (const f of this.#listeners) f()
  }

  /** Resolves when `done()` holds; rejects after `timeoutMs`, or when the program exits first. */
  waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (done()) finish()
        else if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
          finish(
            new Error(
              `${this.lang} subscriber exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${what}${this.#describe()}`,
            ),
          )
        }
      }
      const timer = setTimeout(
        () =>
          finish(
            new Error(`timed out after ${timeoutMs} ms waiting for ${what}${this.#describe()}`),
          ),
        timeoutMs,
      )
      const finish = (err?: Error) => {
        clearTimeout(timer)
        this.#listeners.delete(check)
        if (err) reject(err)
        else resolve()
      }
      this.#listeners.add(check)
      check()
    })
  }

  /** Waits for the `n`-th `ready` line: the n-th stream is open. */
  waitReady(n: number, timeoutMs = 20_000): Promise<void> {
    return this.waitFor(
      () => this.lines.filter((l) => l === 'ready').length >= n,
      timeoutMs,
      `ready #${n}`,
    )
  }

  #describe(): string {
    return `\n--- ${this.lang} subscriber stdout:\n${this.lines.join('\n')}\n--- stderr:\n${this.#stderr}`
  }

  /** Waits for the program to end on its own; resolves with its exit status. */
  async waitExit(timeoutMs: number): Promise<number | null> {
    await this.waitFor(
      () => this.proc.exitCode !== null || this.proc.signalCode !== null,
      timeoutMs,
      'exit',
    )
    return this.proc.exitCode
  }

  /** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    this.proc.kill('SIGTERM')
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000)
    await this.#exited
    clearTimeout(t)
  }
}

/** What a publisher or mint-token run printed and how it ended. */
export interface PublisherRun {
  code: number | null
  stdout: string
  stderr: string
}

export interface PublishArgs {
  gatewayUrl: string
  apiKey: string
  topic: string
  id: string
  /** As the second argument; when absent, `stdin` is written to standard input instead. */
  data?: string
  stdin?: string
  event?: string
}

/** Runs `lang`'s publisher once, as a user would from a shell; bounded to 30 s. */
export function runPublisher(lang: Language, a: PublishArgs): Promise<PublisherRun> {
  const extra: Record<string, string> = {
    GATEWAY_URL: a.gatewayUrl,
    API_KEY: a.apiKey,
    TOPIC: a.topic,
  }
  if (a.event) extra.EVENT = a.event
  const argv = [a.id, ...(a.data === undefined ? [] : [a.data])]
  const stdin = a.data === undefined ? (a.stdin ?? '') : ''
  return runOnce(lang, 'publisher', argv, extra, stdin)
}

/** Runs `lang`'s mint-token with `vars` (TOKEN_SECRET, TOPICS, TTL_SECONDS, SUBJECT); bounded to 30 s. */
export function runMintToken(lang: Language, vars: Record<string, string>): Promise<PublisherRun> {
  return runOnce(lang, 'mintToken', [], vars, '')
}

function runOnce(
  lang: Language,
  program: 'publisher' | 'mintToken',
  argv: string[],
  extra: Record<string, string>,
  stdin: string,
): Promise<PublisherRun> {
  const { cmd, args, cwd } = lang[program]
  const proc = spawn(cmd, [...args, ...argv], {
    cwd,
    env: env(extra),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  proc.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c
  })
  proc.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c
  })
  // A program that refuses its arguments exits before reading stdin: that EPIPE is expected.
  proc.stdin.on('error', () => {})
  proc.stdin.end(stdin)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`${lang.name} ${program} still running after 30 s\n${stdout}\n${stderr}`))
    }, 30_000)
    proc.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    proc.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
