import { describe, expect, it } from 'vitest'
import { SeededRandom } from '../../src/env/random.js'
import { ENTRY_OVERHEAD_BYTES } from '../../src/storage/index.js'
import { bytes, harness, utf8 } from './helpers.js'

describe('LRU eviction', () => {
  it('evicts the least recently used entry; get refreshes recency, peek and has do not', () => {
    const { store, removedWith } = harness({ eviction: 'lru', maxEntries: 3 })
    store.set('a', utf8('1'))
    store.set('b', utf8('1'))
    store.set('c', utf8('1'))
    store.get('a') // order now b, c, a
    store.peek('b')
    store.has('b')
    store.set('d', utf8('1'))
    expect(removedWith('evict')).toEqual(['b'])
    store.set('a', utf8('2')) // an overwrite is a use: order c, d, a
    store.set('e', utf8('1'))
    store.set('f', utf8('1'))
    expect(removedWith('evict')).toEqual(['b', 'c', 'd'])
    expect([...store.keys()].sort()).toEqual(['a', 'e', 'f'])
  })

  it('keeps exact recency across many buffered reads: evictions follow the order of the last gets', () => {
    // 300 gets span more than two read-buffer batches and end with a partly filled one.
    const { store, removedWith } = harness({ eviction: 'lru', maxEntries: 300 })
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
    for (const key of keys) store.set(key, utf8('v'))
    const order = new SeededRandom(9).shuffle([...keys])
    for (const key of order) expect(store.get(key)).toBeDefined()
    store.get('absent')
    for (let i = 0; i < 300; i++) store.set(`new-${i}`, utf8('v'))
    expect(removedWith('evict')).toEqual(order)
    store.assertInvariants()
  })

  it('evicts as many entries as a large write needs, oldest first', () => {
    const { store, removedWith } = harness({ eviction: 'lru', maxBytes: 3 * (1 + 100 + ENTRY_OVERHEAD_BYTES) })
    store.set('a', bytes(100))
    store.set('b', bytes(100))
    store.set('c', bytes(100))
    store.set('d', bytes(250))
    expect(removedWith('evict')).toEqual(['a', 'b'])
    expect(store.bytes).toBeLessThanOrEqual(store.maxBytes)
    store.assertInvariants()
  })

  it('drops tombstones, not the entry just written, when only tombstones are left to make room', () => {
    const { store, removedWith } = harness({ eviction: 'lru', maxEntries: 2 })
    store.delete('x')
    store.delete('y')
    expect(store.set('a', utf8('1'))).toBe(true)
    expect(store.get('a')).toBeDefined()
    expect(removedWith('evict')).toEqual([])
    expect(store.stats().tombstonesDropped).toBe(1)
  })
})

describe('W-TinyLFU eviction', () => {
  /** Reads a hot set many times, then runs a one-off scan of `scan` keys, each read (missing) then set. */
  const hotSetThroughScan = (eviction: 'lru' | 'w-tinylfu'): number => {
    const { store } = harness({ eviction, maxEntries: 100 })
    const random = new SeededRandom(3)
    const hot = Array.from({ length: 60 }, (_, i) => `hot-${i}`)
    for (let i = 0; i < 3000; i++) {
      const key = hot[random.int(hot.length)]
      if (store.get(key) === undefined) store.set(key, utf8('v'))
    }
    for (let i = 0; i < 1000; i++) {
      const key = `scan-${i}`
      if (store.get(key) === undefined) store.set(key, utf8('v'))
    }
    store.assertInvariants()
    return hot.filter((k) => store.has(k)).length
  }

  it('keeps a frequently read set through a large one-off scan, where LRU loses it', () => {
    expect(hotSetThroughScan('lru')).toBe(0)
    expect(hotSetThroughScan('w-tinylfu')).toBeGreaterThanOrEqual(57)
  })

  it('reports a rejected new entry as evicted, and set() returns false', () => {
    // maxBytes 20,000: the window is 1% = 200 bytes, less than one 300-byte entry, so every new entry
    // goes straight to the admission duel against the least valuable main entry.
    const { store, removedWith } = harness({ maxBytes: 20_000 })
    const value = bytes(300 - ENTRY_OVERHEAD_BYTES - 6)
    for (let i = 0; i < 80; i++) store.set(`key-${String(i).padStart(2, '0')}`, value) // 66 fit
    const kept = [...store.keys()]
    for (let r = 0; r < 5; r++) for (const k of kept) store.get(k)
    expect(store.set('newbie', value)).toBe(false)
    expect(removedWith('evict')).toContain('newbie')
    expect(store.has('newbie')).toBe(false)
    expect(kept.every((k) => store.has(k))).toBe(true)
    expect(store.stats().admissionRejections).toBeGreaterThan(0)
  })

  it('admits a newcomer that is read more often than the entry it replaces', () => {
    const { store, removedWith } = harness({ maxEntries: 100 })
    for (let i = 0; i < 100; i++) store.set(`old-${i}`, utf8('v'))
    for (let i = 0; i < 6; i++) store.get('popular') // misses count in the sketch too
    store.set('popular', utf8('v'))
    for (let i = 0; i < 10; i++) store.set(`filler-${i}`, utf8('v')) // pushes 'popular' out of the window
    expect(store.has('popular')).toBe(true)
    expect(removedWith('evict').length).toBeGreaterThan(0)
  })

  it('keeps entries read since they were written over unread ones, even at the least recently used end', () => {
    const { store, removedWith } = harness({ maxEntries: 100 })
    for (let i = 0; i < 100; i++) store.set(`old-${i}`, utf8('v'))
    for (let i = 0; i < 50; i++) store.get(`old-${i}`) // the oldest half is read once
    for (let i = 0; i < 10; i++) {
      store.get(`new-${i}`)
      store.get(`new-${i}`) // two misses: more frequent than any old entry, so admitted
      store.set(`new-${i}`, utf8('v'))
    }
    store.assertInvariants()
    for (let i = 0; i < 50; i++) expect(store.has(`old-${i}`)).toBe(true)
    const evicted = removedWith('evict')
    expect(evicted).toHaveLength(10)
    expect(evicted.every((k) => k.startsWith('old-') && Number(k.slice(4)) >= 50)).toBe(true)
  })

  it('never goes over maxEntries or maxBytes, whatever the mix of sizes', () => {
    const random = new SeededRandom(5)
    const { store } = harness({ maxEntries: 200, maxBytes: 30_000 })
    for (let i = 0; i < 5000; i++) {
      const key = `k${random.int(400)}`
      if (random.chance(0.5)) store.get(key)
      else store.set(key, bytes(random.int(300)))
      if (i % 250 === 0) store.assertInvariants()
    }
    const s = store.stats()
    expect(s.bytes).toBeLessThanOrEqual(30_000)
    expect(s.entries + s.tombstones).toBeLessThanOrEqual(200)
    expect(s.evictions.evict).toBeGreaterThan(0)
  })
})
