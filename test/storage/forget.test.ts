import { describe, expect, it } from 'vitest'
import { InvalidKeyError } from '../../src/errors.js'
import type { Version } from '../../src/storage/index.js'
import { harness, text, utf8 } from './helpers.js'

const v = (physical: number, logical: number, writerId: string): Version => ({ physical, logical, writerId })

describe('forget (a key whose range moved to other peers)', () => {
  it('drops a value without leaving a tombstone, reports it as moved and counts it', () => {
    const { store, removed } = harness()
    store.set('k', utf8('v'))
    store.set('other', utf8('v'))
    expect(store.forget('k')).toBe(true)
    expect(store.get('k')).toBeUndefined()
    expect(store.getEntry('k')).toBeUndefined() // no tombstone
    expect([...store.entries()].map((e) => e.key)).toEqual(['other'])
    expect(removed).toEqual(['k:moved'])
    expect(store.stats()).toMatchObject({ entries: 1, tombstones: 0, deletes: 0, evictions: { moved: 1, delete: 0 } })
    store.assertInvariants()
  })

  it('frees the bytes, so the store accounts only for what is left', () => {
    const { store } = harness()
    store.set('k', utf8('v'))
    const one = store.bytes
    store.set('j', utf8('v'))
    store.forget('j')
    expect(store.bytes).toBe(one)
    store.forget('k')
    expect(store.bytes).toBe(0)
  })

  it('lets replication bring the key back with any version, where a delete would have refused older ones', () => {
    const { store } = harness()
    store.apply({ key: 'k', value: utf8('new'), version: v(5000, 0, 'b') })
    store.forget('k')
    expect(store.apply({ key: 'k', value: utf8('older'), version: v(4000, 0, 'c') })).toBe(true)
    expect(text(store.get('k'))).toBe('older')
    store.delete('k')
    expect(store.apply({ key: 'k', value: utf8('oldest'), version: v(3000, 0, 'c') })).toBe(false)
  })

  it('drops a tombstone (not reported to onRemove: it holds no value)', () => {
    const { store, removed } = harness()
    store.set('k', utf8('v'))
    store.delete('k')
    expect(store.stats().tombstones).toBe(1)
    expect(store.forget('k')).toBe(true)
    expect(store.getEntry('k')).toBeUndefined()
    expect(store.stats().tombstones).toBe(0)
    expect(removed).toEqual(['k:delete'])
    store.assertInvariants()
  })

  it('reports a value that had already expired as expired, and still returns true (it was held until now)', () => {
    const { store, clock, removed } = harness()
    store.set('k', utf8('v'), { ttlMs: 10 })
    clock.advance(10)
    expect(store.forget('k')).toBe(true)
    expect(removed).toEqual(['k:expire'])
    expect(store.size).toBe(0)
  })

  it('returns false when nothing is held: a missing key, a key forgotten twice, a key too long to be stored', () => {
    const { store, removed } = harness({ maxKeyBytes: 8 })
    expect(store.forget('missing')).toBe(false)
    store.set('k', utf8('v'))
    expect(store.forget('k')).toBe(true)
    expect(store.forget('k')).toBe(false)
    expect(store.forget('much-too-long-a-key')).toBe(false)
    expect(removed).toEqual(['k:moved'])
  })

  it('refuses keys that are not keys', () => {
    const { store } = harness()
    expect(() => store.forget('')).toThrow(InvalidKeyError)
    expect(() => store.forget(42 as never)).toThrow(InvalidKeyError)
  })

  it('reports the removal to onEntryChange as (held → nothing)', () => {
    const changes: string[] = []
    const { store } = harness({
      onEntryChange: (key, before, after) => { changes.push(`${key}:${before?.tombstone === true ? 'tombstone' : before === null ? '-' : 'value'}>${after === null ? '-' : 'held'}`) }
    })
    store.set('a', utf8('v'))
    store.delete('b')
    store.forget('a')
    store.forget('b')
    store.forget('c')
    expect(changes).toEqual(['a:->held', 'b:->held', 'a:value>-', 'b:tombstone>-'])
  })
})
