// The client interop matrix: the SSE and WebSocket clients people already use (one directory each
// in e2e/interop/clients/, plus Chromium's own EventSource and WebSocket driven in a page), each
// subscribed to a real gateway on every target, in every scenario of scenarios.ts. Writes
// test-results/interop-matrix.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { ALL_TARGETS, selectedTargets, type Target } from '../targets/index.ts'
import { ROOT } from '../targets/util.ts'
import {
  BROWSER_CLIENTS,
  type BrowserClientName,
  BrowserHost,
  BrowserRun,
  browserMissing,
  playwrightVersion,
} from './browser-clients.ts'
import type { ClientRun } from './client-run.ts'
import {
  buildClient,
  type ClientSpec,
  discoverClients,
  missingTools,
  ProgramRun,
} from './program-clients.ts'
import { type ClientInfo, type InteropCell, writeInteropReport } from './report.ts'
import { EVENT_TYPES, probeResume, SCENARIOS, type Scenario } from './scenarios.ts'

const RESULTS_DIR = resolve(ROOT, 'test-results')
const RUN_DATE = new Date().toISOString()
const BIG_EVENT = 64 * 1024
/** Above the sum of a cell's own bounded waits (the longest, resume: about 70 s). */
const CELL_TIMEOUT_MS = 120_000

type Client = ClientInfo &
  ({ kind: 'program'; spec: ClientSpec } | { kind: 'browser'; name: BrowserClientName })

const browserReason = browserMissing()
const clients: Client[] = [
  ...discoverClients().map((spec): Client => ({
    kind: 'program',
    spec,
    name: spec.name,
    language: spec.language,
    transport: spec.transport,
    library: spec.library,
    version: spec.version,
    ...(spec.max_event_bytes ? { max_event_bytes: spec.max_event_bytes } : {}),
    ...(missingTools(spec) ? { notRun: missingTools(spec) } : {}),
  })),
  ...BROWSER_CLIENTS.map((b): Client => ({
    kind: 'browser',
    name: b.name,
    language: 'browser',
    transport: b.transport,
    library: browserReason
      ? b.library
      : `${b.library}, driven by playwright-core ${playwrightVersion()}`,
    version: 'Chromium (version when run)',
    ...(browserReason ? { notRun: browserReason } : {}),
  })),
]

const factories = selectedTargets()
const targetReasons = new Map<string, string | undefined>()
for (const f of factories) targetReasons.set(f.name, await f.unavailable())

function writeNotRun(name: string, reason: string): void {
  mkdirSync(resolve(RESULTS_DIR, 'raw'), { recursive: true })
  writeFileSync(
    resolve(RESULTS_DIR, `raw/not-run-${name}.json`),
    JSON.stringify({ target: name, reason }),
  )
}
for (const c of clients)
  if (c.notRun) writeNotRun(`interop-${c.name}`, `interop client ${c.name}: ${c.notRun}`)
for (const [name, reason] of targetReasons) if (reason) writeNotRun(name, reason)

const anyTarget = [...targetReasons.values()].some((r) => r === undefined)
const buildErrors = new Map<string, string>()
let host: BrowserHost | undefined
let hostError: string | undefined

beforeAll(async () => {
  if (!anyTarget) return
  // Each client builds once (a no-op when its build is up to date), before any cell runs.
  for (const c of clients) {
    if (c.kind !== 'program' || c.notRun || !c.spec.build) continue
    const err = await buildClient(c.spec)
    if (err) buildErrors.set(c.name, err)
  }
  if (!browserReason) {
    try {
      host = await BrowserHost.start()
      for (const c of clients) if (c.kind === 'browser') c.version = host.version
    } catch (err) {
      hostError = `Chromium did not start: ${(err as Error).message}`
    }
  }
}, 1_200_000)

const results: InteropCell[] = []
afterAll(async () => {
  await host?.stop()
  writeInteropReport(
    RESULTS_DIR,
    {
      clients: clients.map(({ name, language, transport, library, version, ...c }): ClientInfo => ({
        name,
        language,
        transport,
        library,
        version,
        ...(c.max_event_bytes ? { max_event_bytes: c.max_event_bytes } : {}),
        ...(c.notes ? { notes: c.notes } : {}),
        ...(c.notRun ? { notRun: c.notRun } : {}),
      })),
      targets: factories.map((f) => {
        const notRun = targetReasons.get(f.name)
        return notRun ? { name: f.name, notRun } : { name: f.name }
      }),
      scenarios: SCENARIOS.map(({ name, title }) => ({ name, title })),
      results,
    },
    ALL_TARGETS.map((f) => f.name),
  )
})

/** Why a cell is not run at declaration time (target or client unavailable), or undefined. */
function notRunReason(target: string, c: Client): string | undefined {
  const t = targetReasons.get(target)
  if (t) return `${target}: ${t}`
  if (c.notRun) return `${c.name}: ${c.notRun}`
  return undefined
}

/** The documented limit of a client below the scenario's event size, with the workaround. */
function limitOf(c: Client, s: Scenario): string | undefined {
  if (!s.big || c.kind !== 'program' || !c.max_event_bytes || c.max_event_bytes >= BIG_EVENT + 6)
    return undefined
  const how = c.spec.limit_workaround ?? 'see docs/examples.md, "Known client quirks"'
  return `${c.library} ${c.version} accepts events up to ${c.max_event_bytes} bytes by default (this one is 64 KiB of data on one line); workaround: ${how}`
}

async function startClient(c: Client, url: string): Promise<ClientRun> {
  if (c.kind === 'program') return new ProgramRun(c.spec, url, EVENT_TYPES)
  if (!host) throw new Error(hostError ?? 'Chromium is not running')
  return BrowserRun.start(host, c.name, url, EVENT_TYPES)
}

const tag = Date.now().toString(36)

for (const factory of factories) {
  describe(`interop on ${factory.name}`, () => {
    let target: Target | undefined
    let noResume: string | undefined
    const t = () => {
      if (!target) throw new Error(`target ${factory.name} did not start`)
      return target
    }
    // On a cluster: publish through the first node, subscribe through the second.
    const pubUrl = () => t().urls[0] ?? t().url
    const subUrl = () => t().urls[1] ?? t().url
    if (!targetReasons.get(factory.name)) {
      beforeAll(async () => {
        target = await factory.start()
        noResume = await probeResume(subUrl())
      })
      afterAll(async () => {
        await target?.stop()
      })
    }

    for (const c of clients) {
      describe(`${c.name} (${c.library})`, () => {
        for (const s of SCENARIOS) {
          const cell = { client: c.name, target: factory.name, scenario: s.name }
          const record = (status: InteropCell['status'], ms: number, detail?: string) =>
            results.push({
              ...cell,
              status,
              ms,
              date: RUN_DATE,
              ...(detail ? { detail } : {}),
            })
          const reason = notRunReason(factory.name, c)
          if (reason) {
            record('not-run', 0, reason)
            it.skip(`${s.name} (not run: ${reason})`, () => {})
            continue
          }
          const limit = limitOf(c, s)
          if (limit) {
            record('limit', 0, limit)
            it.skip(`${s.name} (limit: ${limit})`, () => {})
            continue
          }
          it(
            s.name,
            async (ctx) => {
              if (s.needsResume && noResume) {
                record('not-run', 0, `${factory.name}: ${noResume}`)
                ctx.skip(noResume)
              }
              const started = performance.now()
              let client: ClientRun | undefined
              try {
                const built = buildErrors.get(c.name)
                if (built) throw new Error(`${c.name} does not build: ${built}`)
                const topics = Array.from(
                  { length: s.topics },
                  (_, i) => `interop/${tag}/${c.name}/${s.name}/${String.fromCharCode(97 + i)}`,
                )
                const q = `topic=${encodeURIComponent(topics.join(','))}`
                const url =
                  c.transport === 'sse'
                    ? `${subUrl()}/sse?${q}`
                    : `${subUrl().replace(/^http/, 'ws')}/ws?${q}`
                client = await startClient(c, url)
                const notes = new Set<string>()
                await s.run(
                  {
                    client,
                    transport: c.transport,
                    topics,
                    target: t(),
                    pubUrl: pubUrl(),
                    subUrl: subUrl(),
                    notes,
                  },
                  (n) => `${c.name}-${s.name}-${n}`,
                )
                const detail = [...notes].join('; ')
                record('passed', Math.round(performance.now() - started), detail || undefined)
              } catch (err) {
                record('failed', Math.round(performance.now() - started), (err as Error).message)
                throw err
              } finally {
                await client?.stop()
              }
            },
            CELL_TIMEOUT_MS,
          )
        }
      })
    }
  })
}
