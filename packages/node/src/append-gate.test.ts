import { setImmediate as turn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { afterAppends, appendAnswered, appendSent } from './append-gate.ts'

/** Resolves when `run` has been called, or rejects after `ms`. */
function ran(ms: number): { run: () => void; done: Promise<void>; called: () => boolean } {
  let called = false
  let go: () => void = () => {}
  const done = new Promise<void>((resolve, reject) => {
    go = resolve
    setTimeout(() => reject(new Error(`not run within ${ms} ms`)), ms).unref()
  })
  return {
    run: () => {
      called = true
      go()
    },
    done,
    called: () => called,
  }
}

describe('afterAppends', () => {
  it('runs at the end of the turn when no append is in flight (an embedded node)', async () => {
    const w = ran(1000)
    afterAppends(w.run)
    expect(w.called()).toBe(false)
    await turn()
    expect(w.called()).toBe(true)
  })

  it('waits for the appends in flight, then runs once the turn that answered them is over', async () => {
    appendSent()
    appendSent()
    const w = ran(1000)
    afterAppends(w.run)
    await turn()
    await turn()
    expect(w.called()).toBe(false)
    appendAnswered()
    await turn()
    expect(w.called()).toBe(false)
    appendAnswered()
    expect(w.called()).toBe(false) // not within the answering callback: its events come first
    await w.done
  })

  it('does not wait for appends sent after it was scheduled', async () => {
    appendSent()
    const w = ran(1000)
    afterAppends(w.run)
    await turn()
    appendSent() // a publish accepted while it waits
    appendAnswered()
    await w.done
    appendAnswered()
  })

  it('runs even when an append is never answered (Redis gone quiet): the wait is bounded', async () => {
    appendSent()
    const w = ran(1000)
    afterAppends(w.run)
    await w.done
    appendAnswered()
  })
})
