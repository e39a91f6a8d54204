import { describe, expect, it } from 'vitest'
import { GatewayError } from './errors.ts'
import { parseTopics, validateEventType, validateId } from './topics.ts'

function refusal(fn: () => unknown): GatewayError {
  try {
    fn()
  } catch (err) {
    if (err instanceof GatewayError) return err
    throw err
  }
  throw new Error('expected a GatewayError')
}

describe('parseTopics', () => {
  it('accepts every character the contract allows', () => {
    expect(parseTopics('job:123,user:456:notifications,tenant/a/orders,a-b_c.d@e', 64)).toEqual([
      'job:123',
      'user:456:notifications',
      'tenant/a/orders',
      'a-b_c.d@e',
    ])
  })

  it('trims spaces around items and removes duplicates, keeping first order', () => {
    expect(parseTopics(' b , a,b,  a ,c', 64)).toEqual(['b', 'a', 'c'])
  })

  it('ignores empty items between commas', () => {
    expect(parseTopics('a,,b,', 64)).toEqual(['a', 'b'])
  })

  it('refuses a missing or empty list with 400', () => {
    expect(refusal(() => parseTopics(undefined, 64)).status).toBe(400)
    expect(refusal(() => parseTopics(' , ', 64)).message).toMatch(/empty topic list/)
  })

  it('names the offending topic', () => {
    const err = refusal(() => parseTopics('ok,bad topic', 64))
    expect(err.code).toBe('bad_request')
    expect(err.message).toContain('"bad topic"')
  })

  it('refuses a topic longer than 128 characters and accepts 128', () => {
    expect(parseTopics('x'.repeat(128), 64)).toHaveLength(1)
    expect(refusal(() => parseTopics('x'.repeat(129), 64)).status).toBe(400)
  })

  it('refuses newlines and non-ASCII letters', () => {
    expect(refusal(() => parseTopics('a\nb', 64)).status).toBe(400)
    expect(refusal(() => parseTopics('café', 64)).status).toBe(400)
  })

  it('counts topics after removing duplicates against the limit', () => {
    expect(parseTopics('a,a,a,b', 2)).toEqual(['a', 'b'])
    expect(refusal(() => parseTopics('a,b,c', 2)).message).toBe(
      'too many topics: 3 given, at most 2 allowed',
    )
  })
})

describe('validateId and validateEventType', () => {
  it('accepts ids with the topic characters', () => {
    expect(validateId('evt-1:2024/01@x')).toBe('evt-1:2024/01@x')
  })
  it('refuses a missing id, a newline, or a space', () => {
    expect(refusal(() => validateId(undefined)).message).toBe('missing x-sse-id')
    expect(refusal(() => validateId('1\n2')).status).toBe(400)
    expect(refusal(() => validateId('a b')).message).toContain('"a b"')
  })
  it('ignores spaces and tabs around a value, and nothing else', () => {
    expect(parseTopics(' a ,\tb\t', 8)).toEqual(['a', 'b'])
    expect(validateId('\t7 ')).toBe('7')
    // A no-break space is not HTTP whitespace: Node reads the byte 0xA0 as U+00A0, other
    // runtimes as UTF-8; stripping it on one runtime alone would make them disagree.
    expect(refusal(() => parseTopics('a\u00a0', 8)).status).toBe(400)
    expect(refusal(() => validateId('\u00a07')).status).toBe(400)
    expect(refusal(() => validateEventType('x\u3000')).status).toBe(400)
  })
  it('treats an absent or empty event type as none', () => {
    expect(validateEventType(undefined)).toBeUndefined()
    expect(validateEventType('')).toBeUndefined()
    expect(validateEventType('update')).toBe('update')
    expect(refusal(() => validateEventType('a\rb')).status).toBe(400)
  })
})
