import { describe, expect, it } from 'vitest'
import { FrequencySketch, halveCounters, oddCounters, sampleSize } from '../../src/storage/frequency-sketch.js'
import { hashKey } from '../../src/storage/key.js'

describe('counter math', () => {
  it.each([
    [0x00000000, 0x00000000, 0],
    [0x11111111, 0x00000000, 8],
    [0xffffffff | 0, 0x77777777, 8],
    [0x00000002, 0x00000001, 0],
    [0x000000f3, 0x00000071, 2]
  ])('halve(%i) = %i with %i odd counters', (word, halved, odd) => {
    expect(halveCounters(word)).toBe(halved)
    expect(oddCounters(word)).toBe(odd)
  })

  it('ages after ten times the capacity (TinyLFU sample size W = 10 C)', () => {
    expect(sampleSize(1024)).toBe(10_240)
  })
})

describe('FrequencySketch', () => {
  const h = (k: string): number => hashKey(k, 0)

  it('estimates counts without underestimating, saturating at 15', () => {
    const sketch = new FrequencySketch(1024)
    for (let i = 0; i < 5; i++) sketch.increment(h('five'))
    for (let i = 0; i < 40; i++) sketch.increment(h('many'))
    expect(sketch.frequency(h('five'))).toBeGreaterThanOrEqual(5)
    expect(sketch.frequency(h('five'))).toBeLessThanOrEqual(6)
    expect(sketch.frequency(h('many'))).toBe(15)
    expect(sketch.frequency(h('never'))).toBeLessThanOrEqual(1)
  })

  it('keeps most estimates exact when the keys fit the capacity', () => {
    const sketch = new FrequencySketch(4096)
    for (let k = 0; k < 1000; k++) for (let i = 0; i < (k % 8); i++) sketch.increment(h(`k${k}`))
    let exact = 0
    for (let k = 0; k < 1000; k++) if (sketch.frequency(h(`k${k}`)) === k % 8) exact++
    expect(exact).toBeGreaterThan(950)
  })

  it('halves every count after the sample size, forgetting old popularity', () => {
    const sketch = new FrequencySketch(64)
    for (let i = 0; i < 12; i++) sketch.increment(h('old'))
    expect(sketch.frequency(h('old'))).toBe(12)
    // Fill the rest of the sample window with other keys until the first reset.
    let i = 0
    let size = sketch.size
    let before = sketch.frequency(h('old'))
    for (;;) {
      before = sketch.frequency(h('old'))
      sketch.increment(h(`other${i++}`))
      if (sketch.size < size) break
      size = sketch.size
    }
    expect(i).toBeLessThanOrEqual(sampleSize(64))
    const after = sketch.frequency(h('old'))
    expect(after).toBeGreaterThanOrEqual(6) // its own 12, halved
    expect(after).toBeLessThanOrEqual(Math.floor((before + 1) / 2))
  })

  it('grows to a power of two and starts over when a larger capacity is needed', () => {
    const sketch = new FrequencySketch(100)
    expect(sketch.capacity).toBe(128)
    sketch.increment(h('a'))
    sketch.ensureCapacity(100)
    expect(sketch.frequency(h('a'))).toBe(1)
    sketch.ensureCapacity(1000)
    expect(sketch.capacity).toBe(1024)
    expect(sketch.frequency(h('a'))).toBe(0)
  })
})
