// The examples matrix: every language's subscriber against every language's publisher, on every
// target, through real gateways and the real example programs. Writes
// test-results/examples-matrix.{json,md}; `node e2e/src/examples/compare.mjs` shows the changes.
import { mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, eventually, publish } from '../clients/http.ts'
import { selectedTargets, type Target } from '../targets/index.ts'
import { ROOT } from '../targets/util.ts'
import { eventLine, expectPublished, JSON_BODY, linesOf, MULTILINE_BODY } from './expect-lines.ts'
import { LANGUAGES, type Language, prepareLanguages } from './languages.ts'
import { ExampleSubscriber, runMintToken, runPublisher } from './programs.ts'
import type { MatrixResult } from './report.mjs'
import { writeMatrixReport } from './report.mjs'

const RESULTS_DIR = resolve(ROOT, 'test-results')
const results: MatrixResult[] = []
const readiness = prepareLanguages()
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
for (const [name, r] of readiness)
  if (r.notRun) writeNotRun(`examples-${name}`, `${name} examples: ${r.notRun}`)
for (const [name, reason] of targetReasons) if (reason) writeNotRun(name, reason)

let declared = 0
afterAll(() => {
  // Only a run of every cell on every known target replaces the main report.
  const partial = results.length !== declared || process.env.E2E_TARGETS !== undefined
  writeMatrixReport(
    RESULTS_DIR,
    {
      languages: LANGUAGES.map((l) => l.name),
      targets: factories.map((f) => {
        const notRun = targetReasons.get(f.name)
        return notRun ? { name: f.name, notRun } : { name: f.name }
      }),
      results,
    },
    { partial },
  )
})

type Cell = Omit<MatrixResult, 'status' | 'ms' | 'detail'>

/** Why a cell cannot run (target or language), or undefined. */
function notRunReason(target: string, langs: Language[]): string | undefined {
  const t = targetReasons.get(target)
  if (t) return `${target}: ${t}`
  for (const l of langs) {
    const r = readiness.get(l.name)?.notRun
    if (r) return `${l.name}: ${r}`
  }
  return undefined
}

/** Passed to a cell's body: ends the test as not run, for a reason found only once it runs. */
type NotRun = (reason: string) => never

/** Declares one test that records its outcome in the matrix report. */
function cellTest(
  name: string,
  cell: Cell,
  langs: Language[],
  body: (notRun: NotRun) => Promise<void>,
): void {
  declared++
  const reason = notRunReason(cell.target, langs)
  if (reason) {
    results.push({ ...cell, status: 'not-run', ms: 0, detail: reason })
    it.skip(`${name} (not run: ${reason})`, () => {})
    return
  }
  it(name, async (ctx) => {
    const started = performance.now()
    let skipped: string | undefined
    const notRun: NotRun = (reason) => {
      skipped = reason
      return ctx.skip(reason)
    }
    try {
      for (const l of langs) {
        const err = readiness.get(l.name)?.buildError
        if (err) throw new Error(`${l.name} examples do not build: ${err}`)
      }
      await body(notRun)
      results.push({ ...cell, status: 'passed', ms: Math.round(performance.now() - started) })
    } catch (err) {
      if (skipped !== undefined) {
        results.push({ ...cell, status: 'not-run', ms: 0, detail: skipped })
        throw err
      }
      const detail = err instanceof Error ? err.message : String(err)
      results.push({
        ...cell,
        status: 'failed',
        ms: Math.round(performance.now() - started),
        detail,
      })
      throw err
    }
  })
}

const tag = Date.now().toString(36)

for (const factory of factories) {
  describe(`examples on ${factory.name}`, () => {
    let target: Target | undefined
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
      })
      afterAll(async () => {
        await target?.stop()
      })
    }

    for (const pub of LANGUAGES) {
      for (const sub of LANGUAGES) {
        const cell = {
          target: factory.name,
          kind: 'delivery',
          publisher: pub.name,
          subscriber: sub.name,
        } as const
        cellTest(
          `${pub.name} publisher → ${sub.name} subscriber: exact delivery`,
          cell,
          [pub, sub],
          async () => {
            const [a, b] = [
              `ex/${tag}/${pub.name}-${sub.name}/a`,
              `ex/${tag}/${pub.name}-${sub.name}/b`,
            ]
            // EVENT: the types an EventSource-style subscriber listens for by name.
            const s = ExampleSubscriber.start(sub, subUrl(), `${a},${b}`, ['greeting', 'json'])
            try {
              await s.waitReady(1)
              const base = { gatewayUrl: pubUrl(), apiKey: t().apiKey }
              const greeting = `hello from ${pub.name} <&> ✓`
              const id = (n: number) => `${pub.name}-${n}`
              // 1: an event type, data as an argument; 2: a multi-line body on stdin, to both topics;
              // 3: a JSON body to both topics, which also marks the end of what we wait for.
              const r1 = await runPublisher(pub, {
                ...base,
                topic: a,
                id: id(1),
                event: 'greeting',
                data: greeting,
              })
              expectPublished(r1, 0, id(1), [a], [])
              const r2 = await runPublisher(pub, {
                ...base,
                topic: `${a},${b}`,
                id: id(2),
                stdin: `${MULTILINE_BODY}\n`,
              })
              expectPublished(r2, 0, id(2), [a, b], [])
              const r3 = await runPublisher(pub, {
                ...base,
                topic: `${a},${b}`,
                id: id(3),
                event: 'json',
                data: JSON_BODY,
              })
              expectPublished(r3, 0, id(3), [a, b], [])

              await s.waitFor(
                () => s.events.filter((l) => l.includes(` id=${id(3)} `)).length === 2,
                15_000,
                'both frames of the last event',
              )
              expect(linesOf(s.events, a)).toEqual([
                eventLine(a, id(1), 'greeting', greeting),
                eventLine(a, id(2), undefined, MULTILINE_BODY),
                eventLine(a, id(3), 'json', JSON_BODY),
              ])
              expect(linesOf(s.events, b)).toEqual([
                eventLine(b, id(2), undefined, MULTILINE_BODY),
                eventLine(b, id(3), 'json', JSON_BODY),
              ])
              expect(s.events).toHaveLength(5)
              expect(s.lines.filter((l) => l === 'ready')).toHaveLength(1)
            } finally {
              await s.stop()
            }
          },
        )
      }
    }

    for (const pub of LANGUAGES) {
      const cell = {
        target: factory.name,
        kind: 'errors',
        publisher: pub.name,
        subscriber: null,
      } as const
      cellTest(
        `${pub.name} publisher reports a drop, a wrong key and a bad topic`,
        cell,
        [pub],
        async () => {
          const nobody = `ex/${tag}/${pub.name}/nobody`
          const base = { gatewayUrl: pubUrl(), apiKey: t().apiKey, data: 'lost' }
          const dropped = await runPublisher(pub, {
            ...base,
            topic: nobody,
            id: `${pub.name}-drop`,
          })
          expectPublished(dropped, 3, `${pub.name}-drop`, [], [nobody])
          expect(dropped.stderr).toContain(`dropped: no subscriber on ${nobody}`)

          const wrongKey = await runPublisher(pub, {
            ...base,
            apiKey: 'not-the-key',
            topic: nobody,
            id: 'x1',
          })
          expect(wrongKey.code, wrongKey.stderr).toBe(1)
          expect(wrongKey.stderr).toMatch(/^error: HTTP 401 unauthorized: .*\(check API_KEY\)$/m)

          const badTopic = await runPublisher(pub, { ...base, topic: 'not a topic!', id: 'x2' })
          expect(badTopic.code, badTopic.stderr).toBe(1)
          expect(badTopic.stderr).toMatch(
            /^error: HTTP 400 bad_request: invalid topic "not a topic!"/m,
          )
        },
      )
    }

    for (const sub of LANGUAGES) {
      const cell = {
        target: factory.name,
        kind: 'reconnect',
        publisher: null,
        subscriber: sub.name,
      } as const
      cellTest(
        `${sub.name} subscriber reconnects with Last-Event-ID, and stops on a 400`,
        cell,
        [sub],
        async () => {
          const refused = ExampleSubscriber.start(sub, subUrl(), 'not a topic!')
          try {
            expect(await refused.waitExit(15_000)).toBe(1)
            expect(refused.stderr).toMatch(/^error: HTTP 400: .*invalid topic/m)
          } finally {
            await refused.stop()
          }

          const topic = `ex/${tag}/reconnect-${sub.name}`
          const key = t().apiKey
          const s = ExampleSubscriber.start(sub, subUrl(), topic)
          try {
            await s.waitReady(1)
            expect(
              (await publish(pubUrl(), key, topic, `${sub.name}-r1`, 'before')).body.delivered,
            ).toEqual([topic])
            await s.waitFor(() => s.events.length === 1, 15_000, 'the first event')

            let ids: string[] = []
            await eventually(
              async () => {
                const res = await admin<{ items: Array<{ id: string }> }>(
                  pubUrl(),
                  key,
                  `/connections?topic=${encodeURIComponent(topic)}`,
                )
                ids = res.body.items.map((i) => i.id)
                return ids.length === 1
              },
              10_000,
              'the subscriber listed by the admin API',
            )
            const del = await admin(
              pubUrl(),
              key,
              `/connections/${encodeURIComponent(ids[0] ?? '')}`,
              { method: 'DELETE' },
            )
            expect(del.status).toBe(200)

            await s.waitReady(2)
            expect(s.stderr).toContain(`Last-Event-ID: ${sub.name}-r1`)
            expect(
              (await publish(pubUrl(), key, topic, `${sub.name}-r2`, 'after')).body.delivered,
            ).toEqual([topic])
            await s.waitFor(() => s.events.length === 2, 15_000, 'the event after the reconnection')
            // No replay: the gateway does not resend what the subscriber saw before.
            expect(s.events).toEqual([
              eventLine(topic, `${sub.name}-r1`, undefined, 'before'),
              eventLine(topic, `${sub.name}-r2`, undefined, 'after'),
            ])
          } finally {
            await s.stop()
          }
        },
      )
    }
    for (const lang of LANGUAGES) {
      const cell = {
        target: factory.name,
        kind: 'private',
        publisher: null,
        subscriber: lang.name,
      } as const
      cellTest(
        `${lang.name} mint-token → ${lang.name} subscriber: a private topic with the token, refused without`,
        cell,
        [lang],
        async (notRun) => {
          const secret = t().tokenSecret ?? notRun(`${factory.name}: no private topics configured`)
          const topic = `private:ex/${tag}/${lang.name}`

          // The token, as a backend mints it: only the JWT on stdout, HS256 with the grants.
          const before = Math.floor(Date.now() / 1000)
          const minted = await runMintToken(lang, {
            TOKEN_SECRET: secret,
            TOPICS: `${topic}, private:ex/${tag}/other/*`,
            TTL_SECONDS: '600',
            SUBJECT: `user-${lang.name}`,
          })
          const after = Math.ceil(Date.now() / 1000)
          expect(minted.code, minted.stderr).toBe(0)
          expect(minted.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
          const token = minted.stdout.trim()
          const key = new TextEncoder().encode(secret)
          const { payload, protectedHeader } = await jwtVerify(token, key)
          expect(protectedHeader.alg).toBe('HS256')
          expect(payload.topics).toEqual([topic, `private:ex/${tag}/other/*`])
          expect(payload.sub).toBe(`user-${lang.name}`)
          expect(payload.exp).toBeGreaterThanOrEqual(before + 600)
          expect(payload.exp).toBeLessThanOrEqual(after + 600)
          // Without TTL_SECONDS and SUBJECT: an hour, no subject.
          const plain = await runMintToken(lang, { TOKEN_SECRET: secret, TOPICS: topic })
          expect(plain.code, plain.stderr).toBe(0)
          const hour = (await jwtVerify(plain.stdout.trim(), key)).payload
          expect(hour.sub).toBeUndefined()
          expect(hour.exp).toBeGreaterThanOrEqual(before + 3600)
          expect(hour.exp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3600)

          // Without TOKEN the gateway refuses the topic, and the subscriber says so and stops.
          const refused = ExampleSubscriber.start(lang, subUrl(), topic)
          try {
            expect(await refused.waitExit(15_000)).toBe(1)
            expect(refused.stderr).toMatch(/^error: HTTP 401: .*"unauthorized".*is private/m)
            expect(refused.stderr).toContain(topic)
            expect(refused.lines).toEqual([])
          } finally {
            await refused.stop()
          }

          // With TOKEN (sent as Authorization: Bearer) it subscribes and receives what is published.
          const s = ExampleSubscriber.start(lang, subUrl(), topic, [], token)
          try {
            await s.waitReady(1)
            const id = `${lang.name}-private`
            const sent = await publish(pubUrl(), t().apiKey, topic, id, 'for your eyes only')
            expect(sent.body.delivered).toEqual([topic])
            await s.waitFor(() => s.events.length === 1, 15_000, 'the private event')
            expect(s.events).toEqual([eventLine(topic, id, undefined, 'for your eyes only')])
            expect(s.stderr).not.toContain(token)
          } finally {
            await s.stop()
          }
        },
      )
    }
  })
}
