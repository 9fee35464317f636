import { describe, expect, it } from 'vitest'
import { ENTRY_OVERHEAD_BYTES } from '../../src/storage/index.js'
import { harness, text, utf8 } from './helpers.js'

describe('TTL', () => {
  it('serves a value until its TTL runs out, then misses and reports it expired (lazily, on access)', () => {
    const { store, clock, removed } = harness()
    store.set('k', utf8('v'), { ttlMs: 100 })
    clock.advance(99)
    expect(text(store.get('k'))).toBe('v')
    clock.advance(1)
    expect(store.has('k')).toBe(false)
    expect(store.get('k')).toBeUndefined()
    expect(removed).toEqual(['k:expire'])
    expect(store.stats()).toMatchObject({ expirations: 1, entries: 0, bytes: 0 })
  })

  it('applies the namespace default TTL, which a set can override (Infinity: never)', () => {
    const { store, clock } = harness({ defaultTtlMs: 50 })
    store.set('default', utf8('v'))
    store.set('longer', utf8('v'), { ttlMs: 500 })
    store.set('forever', utf8('v'), { ttlMs: Infinity })
    clock.advance(60)
    expect([store.has('default'), store.has('longer'), store.has('forever')]).toEqual([false, true, true])
    clock.advance(1000)
    expect([store.has('longer'), store.has('forever')]).toEqual([false, true])
  })

  it('exposes the absolute expiry in getEntry', () => {
    const { store, clock } = harness()
    store.set('k', utf8('v'), { ttlMs: 250 })
    expect(store.getEntry('k')?.expiresAt).toBe(clock.now() + 250)
    store.set('k', utf8('v'))
    expect(store.getEntry('k')?.expiresAt).toBeUndefined()
  })

  it('sweep() removes expired entries nobody touches, within its work bound', () => {
    const { store, clock, removedWith } = harness()
    for (let i = 0; i < 50; i++) store.set(`short-${i}`, utf8('v'), { ttlMs: 10 })
    for (let i = 0; i < 50; i++) store.set(`long-${i}`, utf8('v'), { ttlMs: 10_000 })
    clock.advance(10)
    const first = store.sweep(20)
    expect(first).toBeGreaterThan(0)
    expect(first).toBeLessThanOrEqual(20)
    let total = first
    for (let i = 0; i < 10; i++) total += store.sweep(20)
    expect(total).toBe(50)
    expect(removedWith('expire').sort()).toEqual(Array.from({ length: 50 }, (_, i) => `short-${i}`).sort())
    expect(store.size).toBe(50)
    store.assertInvariants()
  })

  it('writes also sweep a little, so expired entries go away without reads or sweep() calls', () => {
    const { store, clock } = harness()
    for (let i = 0; i < 100; i++) store.set(`old-${i}`, utf8('v'), { ttlMs: 10 })
    clock.advance(10)
    for (let i = 0; i < 100; i++) store.set(`new-${i}`, utf8('v'))
    expect(store.stats().expirations).toBeGreaterThanOrEqual(100)
    expect(store.size).toBe(100)
  })

  it('an expired entry is evicted as expired, not as evicted', () => {
    const { store, clock, removed } = harness({ eviction: 'lru', maxEntries: 2 })
    store.set('a', utf8('v'), { ttlMs: 5 })
    store.set('b', utf8('v'))
    clock.advance(5)
    store.set('c', utf8('v'))
    expect(removed).toEqual(['a:expire'])
  })
})

describe('max idle', () => {
  it('expires an entry not read for maxIdleMs; get refreshes it, peek does not', () => {
    const { store, clock } = harness({ maxIdleMs: 100 })
    store.set('read', utf8('v'))
    store.set('peeked', utf8('v'))
    clock.advance(60)
    store.get('read')
    store.peek('peeked')
    clock.advance(60) // 120 since the write, 60 since the read
    expect(store.has('read')).toBe(true)
    expect(store.has('peeked')).toBe(false)
    clock.advance(40) // 100 since the read
    expect(store.get('read')).toBeUndefined()
    expect(store.stats().expirations).toBe(2)
  })

  it('combines with a TTL: whichever comes first', () => {
    const { store, clock } = harness({ maxIdleMs: 100 })
    store.set('k', utf8('v'), { ttlMs: 150 })
    for (let i = 0; i < 3; i++) { clock.advance(50); store.get('k') }
    expect(store.has('k')).toBe(false)
  })
})

describe('tombstones', () => {
  it('a delete leaves a versioned tombstone for the grace period; the sweep then collects it', () => {
    const { store, clock, removed } = harness({ tombstoneGraceMs: 1000 })
    store.set('k', utf8('v'))
    expect(store.delete('k')).toBe(true)
    const tombstone = store.getEntry('k')
    expect(tombstone?.value).toBeNull()
    expect(tombstone?.version.writerId).toBe('peer-a')
    expect(store.stats()).toMatchObject({ tombstones: 1, entries: 0, bytes: 1 + ENTRY_OVERHEAD_BYTES })
    clock.advance(999)
    store.sweep()
    expect(store.getEntry('k')?.value).toBeNull()
    clock.advance(1)
    expect(store.sweep()).toBe(1)
    expect(store.getEntry('k')).toBeUndefined()
    expect(store.stats()).toMatchObject({ tombstones: 0, tombstonesCollected: 1, bytes: 0 })
    expect(removed).toEqual(['k:delete']) // collecting a tombstone removes no value: not reported
  })

  it('a set over a tombstone brings the key back with a newer version', () => {
    const { store } = harness()
    store.set('k', utf8('1'))
    store.delete('k')
    const deleted = store.getEntry('k')!.version
    store.set('k', utf8('2'))
    const entry = store.getEntry('k')!
    expect(text(entry.value!)).toBe('2')
    expect(entry.version.physical * 65536 + entry.version.logical).toBeGreaterThan(deleted.physical * 65536 + deleted.logical)
    expect(store.stats().tombstones).toBe(0)
  })

  it('with tombstoneGraceMs 0, deletes leave nothing behind', () => {
    const { store } = harness({ tombstoneGraceMs: 0 })
    store.set('k', utf8('v'))
    expect(store.delete('k')).toBe(true)
    expect(store.getEntry('k')).toBeUndefined()
    expect(store.bytes).toBe(0)
  })
})
