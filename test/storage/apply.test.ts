import { describe, expect, it } from 'vitest'
import { ValueTooLargeError } from '../../src/errors.js'
import { compareVersions, InvalidVersionError, type StoreEntry, type Version } from '../../src/storage/index.js'
import { harness, text, utf8 } from './helpers.js'

const v = (physical: number, logical: number, writerId: string): Version => ({ physical, logical, writerId })
const put = (key: string, value: string, version: Version, expiresAt?: number): StoreEntry =>
  ({ key, value: utf8(value), version, expiresAt })
const del = (key: string, version: Version): StoreEntry => ({ key, value: null, version })

describe('apply (last-writer-wins)', () => {
  it('stores a newer version and ignores an older one', () => {
    const { store } = harness()
    expect(store.apply(put('k', 'new', v(5000, 0, 'b')))).toBe(true)
    expect(store.apply(put('k', 'old', v(4000, 9, 'z')))).toBe(false)
    expect(text(store.get('k'))).toBe('new')
    expect(store.getEntry('k')?.version).toEqual(v(5000, 0, 'b'))
    expect(store.stats()).toMatchObject({ applied: 1, applyStale: 1 })
  })

  it.each<[string, Version, boolean]>([
    ['same physical, higher logical wins', v(5000, 3, 'a'), true],
    ['same physical, lower logical loses', v(5000, 1, 'z'), false],
    ['same timestamp, greater writer id wins', v(5000, 2, 'c'), true],
    ['same timestamp, smaller writer id loses', v(5000, 2, 'a'), false],
    ['the very same version is not applied twice', v(5000, 2, 'b'), false]
  ])('tie-breaks on equal physical time: %s', (_name, incoming, applied) => {
    const { store } = harness()
    store.apply(put('k', 'held', v(5000, 2, 'b')))
    expect(store.apply(put('k', 'incoming', incoming))).toBe(applied)
    expect(text(store.get('k'))).toBe(applied ? 'incoming' : 'held')
  })

  it('a newer tombstone deletes a value (reported as delete); an older value cannot bring it back', () => {
    const { store, removed } = harness()
    store.apply(put('k', 'v', v(5000, 0, 'b')))
    expect(store.apply(del('k', v(6000, 0, 'c')))).toBe(true)
    expect(store.get('k')).toBeUndefined()
    expect(removed).toEqual(['k:delete'])
    expect(store.apply(put('k', 'stale', v(5500, 0, 'z')))).toBe(false)
    expect(store.getEntry('k')?.value).toBeNull()
    expect(store.apply(put('k', 'fresh', v(7000, 0, 'b')))).toBe(true)
    expect(text(store.get('k'))).toBe('fresh')
  })

  it('an older tombstone does not delete a newer value; a tombstone for an unknown key is kept', () => {
    const { store } = harness()
    store.apply(put('k', 'v', v(5000, 0, 'b')))
    expect(store.apply(del('k', v(4000, 0, 'b')))).toBe(false)
    expect(text(store.get('k'))).toBe('v')
    expect(store.apply(del('unknown', v(4000, 0, 'b')))).toBe(true)
    expect(store.apply(put('unknown', 'older', v(3000, 0, 'b')))).toBe(false)
  })

  it('an overwrite by a newer replicated value is reported as set', () => {
    const { store, removed } = harness()
    store.set('k', utf8('local'))
    const local = store.getEntry('k')!.version
    store.apply(put('k', 'remote', v(local.physical + 1, 0, 'b')))
    expect(removed).toEqual(['k:set'])
  })

  it('merges versions into the HLC, so a later local write wins over everything applied', () => {
    const { store, clock } = harness()
    const ahead = clock.now() + 60_000
    store.apply(put('k', 'remote', v(ahead, 7, 'zzz')))
    store.set('k', utf8('local'))
    const entry = store.getEntry('k')!
    expect(text(entry.value!)).toBe('local')
    expect(compareVersions(entry.version, v(ahead, 7, 'zzz'))).toBeGreaterThan(0)
    expect(entry.version.writerId).toBe('peer-a')
  })

  it('keeps the incoming expiry; an entry that already expired is kept as a tombstone of its version', () => {
    const { store, clock, removed } = harness()
    const now = clock.now()
    store.apply(put('a', 'v', v(now, 0, 'b'), now + 100))
    expect(store.getEntry('a')?.expiresAt).toBe(now + 100)
    store.apply(put('b', 'v', v(now, 0, 'b')))
    expect(store.apply(put('b', 'v2', v(now, 1, 'b'), now - 1))).toBe(true)
    expect(store.has('b')).toBe(false)
    expect(store.getEntry('b')?.version).toEqual(v(now, 1, 'b'))
    expect(store.apply(put('b', 'resurrected', v(now, 0, 'z')))).toBe(false)
    expect(removed).toEqual(['b:set'])
  })

  it('treats an expired held entry as absent', () => {
    const { store, clock } = harness()
    store.set('k', utf8('mine'), { ttlMs: 10 })
    const mine = store.getEntry('k')!.version
    clock.advance(10)
    expect(store.apply(put('k', 'older but alive', v(mine.physical - 5, 0, 'b')))).toBe(true)
    expect(text(store.get('k'))).toBe('older but alive')
  })

  it('refuses malformed input without changing anything', () => {
    const { store } = harness({ maxValueBytes: 4 })
    store.apply(put('k', 'v', v(5000, 0, 'b')))
    expect(() => store.apply(put('k', 'v', v(-1, 0, 'b')))).toThrow(InvalidVersionError)
    expect(() => store.apply(put('k', 'v', v(6000, 0, '')))).toThrow(InvalidVersionError)
    expect(() => store.apply(put('k', 'v', v(6000, 1 << 16, 'b')))).toThrow(InvalidVersionError)
    expect(() => store.apply(put('k', 'too large', v(6000, 0, 'b')))).toThrow(ValueTooLargeError)
    expect(() => store.apply({ ...put('k', 'v', v(6000, 0, 'b')), expiresAt: Number.NaN })).toThrow(InvalidVersionError)
    expect(store.getEntry('k')?.version).toEqual(v(5000, 0, 'b'))
  })

  it('round-trips through entries(): applying one store\'s entries to another reproduces it', () => {
    const a = harness()
    a.store.set('x', utf8('1'))
    a.store.set('y', utf8('2'), { ttlMs: 1000 })
    a.store.delete('z')
    const b = harness({ writerId: 'peer-b' })
    for (const entry of a.store.entries()) expect(b.store.apply(entry)).toBe(true)
    for (const entry of a.store.entries()) expect(b.store.apply(entry)).toBe(false) // idempotent
    const dump = (s: typeof a.store): unknown[] => [...s.entries()]
      .map((e) => ({ ...e, value: e.value === null ? null : text(e.value) }))
      .sort((p, q) => (p.key < q.key ? -1 : 1))
    expect(dump(b.store)).toEqual(dump(a.store))
  })
})
