import { expect } from 'vitest'
import type { PublisherRun } from './programs.ts'

/** The line every example subscriber prints for an event: one format in all four languages. */
export function eventLine(
  topic: string,
  id: string,
  event: string | undefined,
  data: string,
): string {
  return `event topic=${topic} id=${id} event=${event ?? '-'} data=${JSON.stringify(data)}`
}

/** The `event …` lines of one topic, in the order they were printed. */
export function linesOf(lines: string[], topic: string): string[] {
  return lines.filter((l) => l.startsWith(`event topic=${topic} `))
}

/** Checks a publisher run: exit status and its `published id=… delivered=… dropped=…` line. */
export function expectPublished(
  run: PublisherRun,
  code: number,
  id: string,
  delivered: string[],
  dropped: string[],
): void {
  const context = `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`
  expect(run.code, context).toBe(code)
  const m = /^published id=(\S+) delivered=(\S+) dropped=(\S+)$/.exec(run.stdout.trim())
  expect(m, context).not.toBeNull()
  const list = (s: string | undefined) => (s === '-' || !s ? [] : s.split(',').sort())
  expect({ id: m?.[1], delivered: list(m?.[2]), dropped: list(m?.[3]) }, context).toEqual({
    id,
    delivered: [...delivered].sort(),
    dropped: [...dropped].sort(),
  })
}

/** A body that exercises the framing: several lines, an empty one, UTF-8, look-alike fields. */
export const MULTILINE_BODY = [
  'first line',
  'ünïcödé — 日本語 — emoji 🚀',
  '',
  ': not a comment',
  'data: not a field',
  '  leading spaces, "quotes", \\backslash\\ and a\ttab',
  'last line',
].join('\n')

export const JSON_BODY = JSON.stringify({ n: 3, text: 'ß∂ƒ <&>', list: [1, 2] })
