import { describe, expect, it } from 'vitest'
import { probeOffset } from '../../src/membership/math.js'
import { ProbeOrder, probeOrderKey } from '../../src/membership/probe-order.js'
import { SeededRandom } from '../../src/env/random.js'

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `peer-${i}`)

describe('ProbeOrder', () => {
  it('is the same on every peer whatever the insertion order', () => {
    const a = new ProbeOrder()
    const b = new ProbeOrder()
    for (const id of names(50)) a.insert(id)
    for (const id of names(50).reverse()) b.insert(id)
    expect(Array.from({ length: 50 }, (_, i) => a.at(i))).toEqual(Array.from({ length: 50 }, (_, i) => b.at(i)))
    a.insert('peer-3')
    expect(a.size).toBe(50)
    a.remove('peer-3')
    expect(a.indexOf('peer-3')).toBe(-1)
    expect(a.size).toBe(49)
  })

  it('makes every round a cyclic shift: each member probed exactly once per round, everyone probed by everyone over n - 1 rounds', () => {
    const order = new ProbeOrder()
    const n = 13
    for (const id of names(n)) order.insert(id)
    const probedBy = new Map<string, Set<string>>()
    for (let round = 0; round < n - 1; round++) {
      const probedThisRound = new Set<string>()
      for (let i = 0; i < n; i++) {
        const target = order.at((i + probeOffset(round, n)) % n)
        expect(target).not.toBe(order.at(i))
        probedThisRound.add(target)
        if (!probedBy.has(target)) probedBy.set(target, new Set())
        probedBy.get(target)!.add(order.at(i))
      }
      expect(probedThisRound.size).toBe(n)
    }
    for (const probers of probedBy.values()) expect(probers.size).toBe(n - 1)
  })

  it('batched inserts read back exactly as a sorted list would, through duplicates, removes and re-inserts', () => {
    const random = new SeededRandom(7)
    const order = new ProbeOrder()
    const reference = new Set<string>()
    const sorted = (): string[] => [...reference].sort((x, y) => probeOrderKey(x) - probeOrderKey(y) || (x < y ? -1 : x > y ? 1 : 0))
    for (let step = 0; step < 3000; step++) {
      const id = `m-${random.int(400)}`
      const r = random.next()
      if (r < 0.6) { order.insert(id); reference.add(id) } else if (r < 0.7) { order.remove(id); reference.delete(id) }
      if (random.next() < 0.05) {
        const want = sorted()
        expect(order.size).toBe(want.length)
        expect(Array.from({ length: order.size }, (_, i) => order.at(i))).toEqual(want)
        expect(order.indexOf(id)).toBe(reference.has(id) ? want.indexOf(id) : -1)
      }
    }
  })
})
