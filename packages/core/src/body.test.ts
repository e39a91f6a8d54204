import { describe, expect, it } from 'vitest'
import { readBodyText } from './body.ts'
import { GatewayError } from './errors.ts'

/** A request whose body sends `first` and then nothing more, ever. */
function stalledRequest(first: string): Request {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(first))
    },
  })
  return new Request('http://x/publish', { method: 'POST', body, duplex: 'half' } as RequestInit)
}

describe('readBodyText', () => {
  it('refuses a body that stops arriving with 408 once BODY_TIMEOUT_MS has passed', async () => {
    const err = await readBodyText(stalledRequest('0123456789'), 1000, 50).catch((e) => e)
    expect(err).toBeInstanceOf(GatewayError)
    expect(err.status).toBe(408)
    expect(err.message).toContain('BODY_TIMEOUT_MS (50 ms)')
  })

  it('answers 408 too where cancelling a read rejects it (workerd) instead of ending it', async () => {
    let fail: (err: Error) => void = () => {}
    const reader = {
      read: () =>
        new Promise<never>((_, reject) => {
          fail = reject
        }),
      cancel: async () => fail(new TypeError('This ReadableStream was canceled')),
    }
    const req = { headers: new Headers(), body: { getReader: () => reader } } as unknown as Request
    const err = await readBodyText(req, 1000, 50).catch((e) => e)
    expect(err).toBeInstanceOf(GatewayError)
    expect(err.status).toBe(408)
  })

  it('reads a body that arrives in time', async () => {
    const req = new Request('http://x/', { method: 'POST', body: 'café' })
    expect(await readBodyText(req, 1000, 5000)).toBe('café')
  })
})
