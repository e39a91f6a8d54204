import { describe, expect, it } from 'vitest'
import { Histogram } from './histogram.ts'

describe('Histogram', () => {
  it('gives percentiles within 1% and the exact maximum', () => {
    const h = new Histogram()
    for (let v = 1; v <= 100_000; v++) h.record(v)
    expect(h.quantile(0.5)).toBeGreaterThanOrEqual(50_000)
    expect(h.quantile(0.5)).toBeLessThanOrEqual(50_000 * 1.01)
    expect(h.quantile(0.99)).toBeLessThanOrEqual(99_000 * 1.01)
    expect(h.quantile(1)).toBe(100_000)
  })

  it('merges what other processes recorded', () => {
    const a = new Histogram()
    const b = new Histogram()
    for (let i = 0; i < 90; i++) a.record(10)
    for (let i = 0; i < 10; i++) b.record(5000)
    a.merge(JSON.parse(JSON.stringify(b.toJSON())))
    expect(a.count).toBe(100)
    expect(a.quantile(0.5)).toBeLessThanOrEqual(11)
    expect(a.quantile(0.95)).toBeGreaterThanOrEqual(5000)
    expect(a.max).toBe(5000)
  })
})
