import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { framedInfo } from './framed-log.ts'

/** A pino logger writing to a list, and the framed logger over the same destination. */
function loggers(level = 'info') {
  const lines: string[] = []
  const dest = { write: (s: string) => void lines.push(s) }
  const log = pino({ level, base: { node: 'n-1' } }, dest)
  return { lines, log, framed: framedInfo(log, dest) }
}

const untimed = (line: string) => line.replace(/"time":\d+/, '"time":0')

describe('framedInfo', () => {
  it.each([
    [{ topics: ['a', 'b'], id: 'x-1' }, 'dropped: no subscriber'],
    [{ code: 'bad_request', status: 400, ok: false, path: '/publish?x="y"' }, 'request refused'],
    [{ message: 'café ☕ "quoted" \\ \n' }, undefined],
    [{ topics: ['a"b', 'c\\d', 'e\u0001', 'f\u007f', '😀', 'lone \ud800'], n: -0 }, 'escapes'],
    [{ skipped: undefined, n: 1.5 }, 'undefined fields are left out'],
    [{}, 'no fields'],
  ])('writes the line pino writes for flat fields: %j %s', (obj, msg) => {
    const { lines, log, framed } = loggers()
    log.info(obj, msg)
    framed.info(obj, msg)
    expect(lines).toHaveLength(2)
    expect(untimed(lines[1] as string)).toBe(untimed(lines[0] as string))
    expect(lines[1]).toMatch(/^\{"level":30,"time":\d+,"node":"n-1",/)
  })

  it('hands pino what it serializes itself: errors, nested objects, its own keys', () => {
    const { lines, log, framed } = loggers()
    const cases: object[] = [
      { err: new Error('boom') },
      { nested: { a: 1 } },
      { list: [1, 2] },
      { n: Number.NaN },
      new Error('as the object'),
    ]
    for (const obj of cases) {
      log.info(obj, 'm')
      framed.info(obj, 'm')
    }
    for (let i = 0; i < lines.length; i += 2) {
      expect(untimed(lines[i + 1] as string)).toBe(untimed(lines[i] as string))
    }
  })

  it('writes nothing below its level, and passes the other levels to pino', () => {
    const { lines, framed } = loggers('warn')
    framed.info({ topics: ['a'] }, 'dropped: no subscriber')
    framed.debug({ a: 1 }, 'debug')
    expect(lines).toEqual([])
    framed.warn({ a: 1 }, 'careful')
    expect(lines[0]).toMatch(/^\{"level":40,.*"a":1,"msg":"careful"\}\n$/)
  })
})
