import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { createHashRing, createRingCache } from '../../src/ring/index.js'

const PEERS = ['peer-a', 'peer-b', 'peer-c', 'peer-d']

describe('RingCache', () => {
  it('hands peers with the same view the very same ring, whatever the order of their member lists', () => {
    const cache = createRingCache({ vnodes: 32 })
    const first = cache.ring(PEERS)
    const second = cache.ring([...PEERS].reverse())
    expect(second).toBe(first)
    expect(cache.ring([...PEERS, 'peer-a'])).toBe(first)
    expect(cache.stats).toEqual({ hits: 2, misses: 1 })
  })

  it('builds exactly the ring a fresh createHashRing would', () => {
    const cache = createRingCache({ vnodes: 32 })
    cache.ring(PEERS)
    const changed = cache.ring(['peer-b', 'peer-c', 'peer-x']) // built from the previous ring
    const fresh = createHashRing({ vnodes: 32, peers: ['peer-x', 'peer-c', 'peer-b'] })
    expect(changed.checksum()).toBe(fresh.checksum())
    expect(changed.ranges()).toEqual(fresh.ranges())
    expect(changed.vnodes).toBe(32)
    expect(changed.loadFactor).toBe(fresh.loadFactor)
  })

  it('builds its rings with its loadFactor', () => {
    const cache = createRingCache({ vnodes: 32, loadFactor: 1.05 })
    const ring = cache.ring(PEERS)
    expect(ring.loadFactor).toBe(1.05)
    expect(ring.checksum()).toBe(createHashRing({ vnodes: 32, loadFactor: 1.05, peers: PEERS }).checksum())
    expect(cache.ring(['peer-b', 'peer-c']).checksum()).toBe(createHashRing({ vnodes: 32, loadFactor: 1.05, peers: ['peer-c', 'peer-b'] }).checksum())
    expect(createRingCache({ loadFactor: Infinity }).ring(PEERS).loadFactor).toBe(Infinity)
  })

  it('keeps at most maxRings rings, dropping the least recently used', () => {
    const cache = createRingCache({ vnodes: 8, maxRings: 2 })
    const ab = cache.ring(['a', 'b'])
    cache.ring(['a', 'c'])
    expect(cache.ring(['a', 'b'])).toBe(ab) // touch: [a,c] is now the oldest
    cache.ring(['b', 'c'])
    expect(cache.size).toBe(2)
    expect(cache.ring(['a', 'b'])).toBe(ab)
    const { misses } = cache.stats
    cache.ring(['a', 'c']) // was dropped: rebuilt
    expect(cache.stats.misses).toBe(misses + 1)
  })

  it('refuses bad options', () => {
    expect(() => createRingCache({ maxRings: 0 })).toThrow(InvalidOptionError)
    expect(() => createRingCache({ maxRings: 1.5 })).toThrow(/maxRings must be an integer >= 1/)
    expect(() => createRingCache({ vnodes: 0 })).toThrow(/vnodes must be an integer from 1 to 4096/)
    expect(() => createRingCache({ loadFactor: 1 })).toThrow(/loadFactor must be a number greater than 1/)
    expect(createRingCache().vnodes).toBe(256)
    expect(createRingCache().loadFactor).toBe(1.15)
  })
})
