import { describe, expect, it } from 'vitest'
import { createKeyCheck } from './auth.ts'
import { GatewayError } from './errors.ts'

const check = createKeyCheck(['first-key', 'second-key'])
const headers = (h: Record<string, string>) => new Headers(h)

function codeOf(h: Record<string, string>): string {
  try {
    check(headers(h))
    return 'ok'
  } catch (err) {
    return err instanceof GatewayError ? `${err.status} ${err.message}` : 'other'
  }
}

describe('createKeyCheck', () => {
  it('accepts every configured key, as Bearer or x-api-key', () => {
    expect(codeOf({ authorization: 'Bearer first-key' })).toBe('ok')
    expect(codeOf({ authorization: 'bearer second-key' })).toBe('ok')
    expect(codeOf({ 'x-api-key': 'second-key' })).toBe('ok')
    expect(codeOf({ authorization: 'Bearer \t first-key' })).toBe('ok')
  })

  it('refuses a Bearer value with more than the key in it', () => {
    expect(codeOf({ authorization: 'Bearer first-key second-key' })).toBe(
      '401 missing API key: send Authorization: Bearer <key> or x-api-key',
    )
    expect(codeOf({ authorization: 'Bearer first-key\tx' })).toMatch(/^401 missing API key/)
  })

  it('refuses a missing key, a wrong key, a prefix and an extension of a key', () => {
    expect(codeOf({})).toMatch(/^401 missing API key/)
    expect(codeOf({ authorization: 'Bearer nope' })).toBe('401 invalid API key')
    expect(codeOf({ authorization: 'Bearer first' })).toBe('401 invalid API key')
    expect(codeOf({ authorization: 'Bearer first-key2' })).toBe('401 invalid API key')
    expect(codeOf({ authorization: 'Basic Zmlyc3Qta2V5' })).toMatch(/^401/)
  })

  it('never repeats the presented key in its error', () => {
    expect(codeOf({ authorization: 'Bearer s3cr3t-guess' })).not.toContain('s3cr3t')
  })

  it('refuses to be built without keys', () => {
    expect(() => createKeyCheck([])).toThrow()
  })
})
