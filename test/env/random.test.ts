import { describe, expect, it } from 'vitest'
import { SeededRandom } from '../../src/env/random.js'

describe('SeededRandom', () => {
  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = new SeededRandom(42)
    const b = new SeededRandom(42)
    const c = new SeededRandom(43)
    const sa = Array.from({ length: 8 }, () => a.uint32())
    expect(Array.from({ length: 8 }, () => b.uint32())).toEqual(sa)
    expect(Array.from({ length: 8 }, () => c.uint32())).not.toEqual(sa)
  })

  it('forks by label independently of how much the parent has drawn', () => {
    const a = new SeededRandom(7)
    const b = new SeededRandom(7)
    for (let i = 0; i < 100; i++) b.next()
    expect(a.fork('net').uint32()).toBe(b.fork('net').uint32())
    expect(a.fork('net').uint32()).not.toBe(a.fork('swim').uint32())
  })

  it('draws integers uniformly enough in range', () => {
    const r = new SeededRandom(1)
    const counts = new Array(10).fill(0)
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500)
  })

  it('refuses a bad seed and a bad range', () => {
    expect(() => new SeededRandom(-1)).toThrow(RangeError)
    expect(() => new SeededRandom(1.5)).toThrow(RangeError)
    expect(() => new SeededRandom(1).int(0)).toThrow(RangeError)
  })

  it('shuffles into a permutation', () => {
    const r = new SeededRandom(3)
    const xs = r.shuffle([1, 2, 3, 4, 5, 6, 7, 8])
    expect([...xs].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })
})
