import { describe, expect, it } from 'vitest'
import { percentile, summarize } from '../../src/sim/index.js'

describe('percentile (nearest rank)', () => {
  it('returns observed values at the nearest rank', () => {
    const v = [15, 20, 35, 40, 50]
    expect(percentile(v, 0)).toBe(15)
    expect(percentile(v, 5)).toBe(15)
    expect(percentile(v, 30)).toBe(20)
    expect(percentile(v, 40)).toBe(20)
    expect(percentile(v, 50)).toBe(35)
    expect(percentile(v, 100)).toBe(50)
  })

  it('sorts numerically without changing the input', () => {
    const v = [100, 9, 20, 3]
    expect(percentile(v, 50)).toBe(9)
    expect(v).toEqual([100, 9, 20, 3])
    const many = Array.from({ length: 1000 }, (_, i) => 1000 - i)
    expect(percentile(many, 99)).toBe(990)
  })

  it('gives NaN for no values and refuses p outside [0, 100]', () => {
    expect(percentile([], 50)).toBeNaN()
    expect(() => percentile([1], 101)).toThrow(/p must be between 0 and 100/)
    expect(() => percentile([1], -1)).toThrow(/p must be between 0 and 100/)
  })
})

describe('summarize', () => {
  it('reports count, min, mean, percentiles and max', () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1))
    expect(s).toEqual({ count: 100, min: 1, mean: 50.5, p50: 50, p90: 90, p99: 99, max: 100 })
    expect(summarize([]).count).toBe(0)
  })
})
