import { describe, expect, it } from 'vitest'
import { InvalidKeyError, InvalidOptionError, ValueTooLargeError } from '../../src/errors.js'
import { ENTRY_OVERHEAD_BYTES } from '../../src/storage/index.js'
import { bytes, harness, text, utf8 } from './helpers.js'

const O = ENTRY_OVERHEAD_BYTES

describe('LocalStore basics', () => {
  it('gets what was set, misses what was not, and counts both', () => {
    const { store } = harness()
    expect(store.set('a', utf8('alpha'))).toBe(true)
    expect(text(store.get('a'))).toBe('alpha')
    expect(store.get('b')).toBeUndefined()
    expect(store.has('a')).toBe(true)
    expect(store.has('b')).toBe(false)
    expect(text(store.peek('a'))).toBe('alpha')
    expect(store.size).toBe(1)
    const s = store.stats()
    expect([s.hits, s.misses, s.sets]).toEqual([1, 1, 1])
  })

  it('copies the value: changing the caller\'s array afterwards does not change the stored value', () => {
    const { store } = harness()
    const v = utf8('abc')
    store.set('k', v)
    v[0] = 0x7a
    expect(text(store.get('k'))).toBe('abc')
  })

  it('stores empty values and keys of every script', () => {
    const { store } = harness()
    const keys = ['plain', 'café', 'ключ', '鍵', '😀', 'a\u0000b', 'x'.repeat(1000)]
    keys.forEach((k, i) => store.set(k, bytes(i)))
    keys.forEach((k, i) => expect(store.get(k)).toEqual(bytes(i)))
    expect([...store.keys()].sort()).toEqual([...keys].sort())
    store.assertInvariants()
  })

  it('supports batches', () => {
    const { store } = harness()
    expect(store.setMany([['a', utf8('1')], ['b', utf8('2')], ['c', utf8('3'), { ttlMs: 10 }]])).toEqual([true, true, true])
    expect(store.getMany(['a', 'x', 'c']).map(text)).toEqual(['1', undefined, '3'])
    expect(store.deleteMany(['a', 'b', 'x'])).toBe(2)
    expect(store.size).toBe(1)
  })

  it('stores nothing from a batch with one bad item', () => {
    const { store } = harness({ maxValueBytes: 10 })
    expect(() => store.setMany([['a', utf8('ok')], ['b', bytes(11)]])).toThrow(ValueTooLargeError)
    expect(store.has('a')).toBe(false)
  })

  it('refuses empty, too long and non-string keys', () => {
    const { store } = harness({ maxKeyBytes: 8 })
    expect(() => store.set('', utf8('v'))).toThrow(InvalidKeyError)
    expect(() => store.set('123456789', utf8('v'))).toThrow(/9 bytes in UTF-8, over maxKeyBytes 8/)
    expect(() => store.set('€€€', utf8('v'))).toThrow(InvalidKeyError) // 9 UTF-8 bytes
    expect(() => store.get(42 as unknown as string)).toThrow(InvalidKeyError)
    expect(store.set('12345678', utf8('v'))).toBe(true)
    expect(store.stats().rejected).toBe(2)
  })

  it('finds nothing under a key too long to be stored (a miss, not an error)', () => {
    const { store } = harness({ maxKeyBytes: 8 })
    expect(store.set('12345678', utf8('v'))).toBe(true)
    expect(store.get('123456789')).toBeUndefined()
    expect(store.has('123456789')).toBe(false)
    expect(store.peek('123456789')).toBeUndefined()
    expect(store.getEntry('123456789')).toBeUndefined()
    expect(store.stats().misses).toBe(1)
    expect(store.get('12345678')).toEqual(utf8('v'))
  })

  it('refuses values that are not bytes and TTLs that make no sense', () => {
    const { store } = harness()
    expect(() => store.set('k', 'text' as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => store.set('k', utf8('v'), { ttlMs: 0 })).toThrow(InvalidOptionError)
    expect(() => store.set('k', utf8('v'), { ttlMs: Number.NaN })).toThrow(InvalidOptionError)
    expect(store.has('k')).toBe(false)
  })
})

describe('byte accounting', () => {
  it('charges key bytes + value bytes + ENTRY_OVERHEAD_BYTES, exactly, through sets, overwrites and deletes', () => {
    const { store } = harness()
    store.set('abc', bytes(10))
    expect(store.bytes).toBe(3 + 10 + O)
    store.set('abc', bytes(250))
    expect(store.bytes).toBe(3 + 250 + O)
    store.set('é', bytes(1)) // Latin-1: one byte
    store.set('€', bytes(1)) // UTF-16: two bytes
    store.set('😀', bytes(1)) // surrogate pair: four bytes
    expect(store.bytes).toBe((3 + 250 + O) + (1 + 1 + O) + (2 + 1 + O) + (4 + 1 + O))
    store.delete('abc') // leaves a tombstone: key + overhead
    expect(store.bytes).toBe((3 + O) + (1 + 1 + O) + (2 + 1 + O) + (4 + 1 + O))
    expect(store.stats()).toMatchObject({ entries: 3, tombstones: 1 })
    store.assertInvariants()
  })

  it('refuses a value over maxValueBytes and leaves the previous value intact', () => {
    const { store, removed } = harness({ maxValueBytes: 100 })
    store.set('k', bytes(50, 1))
    const before = store.bytes
    expect(() => store.set('k', bytes(101))).toThrow(ValueTooLargeError)
    expect(store.get('k')).toEqual(bytes(50, 1))
    expect(store.bytes).toBe(before)
    expect(removed).toEqual([])
    expect(store.stats().rejected).toBe(1)
  })

  it('refuses an entry larger than maxBytes rather than storing and evicting it', () => {
    const { store, removed } = harness({ maxBytes: 1000 })
    store.set('k', bytes(100, 1))
    store.set('other', bytes(100, 2))
    try {
      store.set('k', bytes(1000 - O))
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(ValueTooLargeError)
      expect((e as ValueTooLargeError).size).toBe(1 + 1000 - O + O)
      expect((e as ValueTooLargeError).limit).toBe(1000)
    }
    expect(store.get('k')).toEqual(bytes(100, 1))
    expect(store.get('other')).toEqual(bytes(100, 2))
    expect(removed).toEqual([])
  })

  it('stays within maxBytes and maxEntries', () => {
    const { store } = harness({ maxBytes: 5000, maxEntries: 20 })
    for (let i = 0; i < 200; i++) {
      store.set(`key-${i}`, bytes(i % 90))
      expect(store.bytes).toBeLessThanOrEqual(5000)
      expect(store.size + store.stats().tombstones).toBeLessThanOrEqual(20)
    }
    store.assertInvariants()
  })
})

describe('removal reports', () => {
  it('reports every removal once, with its reason, and counts it', () => {
    const { store, removed, clock } = harness({ maxEntries: 3, eviction: 'lru' })
    store.set('a', utf8('1'))
    store.set('a', utf8('2')) // overwritten
    store.delete('a') // deleted (leaves a tombstone, which takes an entry slot)
    store.set('t', utf8('x'), { ttlMs: 5 })
    clock.advance(5)
    expect(store.get('t')).toBeUndefined() // expired
    store.set('b', utf8('1'))
    store.set('c', utf8('1'))
    store.set('d', utf8('1')) // over 3 entries: 'b' is least recently used
    expect(removed).toEqual(['a:set', 'a:delete', 't:expire', 'b:evict'])
    expect(store.stats().evictions).toEqual({ evict: 1, expire: 1, delete: 1, set: 1, moved: 0 })
    expect(store.stats().expirations).toBe(1)
  })

  it('reports removals after the store is consistent, so the callback may use the store', () => {
    const seen: Array<[string, boolean, number]> = []
    const h = harness({
      maxEntries: 2,
      eviction: 'lru',
      onRemove: (key) => { seen.push([key, h.store.has(key), h.store.size]) }
    })
    h.store.set('a', utf8('1'))
    h.store.set('b', utf8('1'))
    h.store.set('c', utf8('1'))
    expect(seen).toEqual([['a', false, 2]])
  })

  it('reports a delete of a missing key as nothing, but still leaves a tombstone', () => {
    const { store, removed } = harness()
    expect(store.delete('never')).toBe(false)
    expect(removed).toEqual([])
    expect(store.getEntry('never')?.value).toBeNull()
  })

  it('clear() reports every live value as deleted and empties the store', () => {
    const { store, removed } = harness()
    store.set('a', utf8('1'))
    store.set('b', utf8('1'))
    store.delete('b')
    store.clear()
    expect(removed.sort()).toEqual(['a:delete', 'b:delete'])
    expect(store.size).toBe(0)
    expect(store.bytes).toBe(0)
    expect(store.getEntry('b')).toBeUndefined()
    store.set('a', utf8('again'))
    expect(text(store.get('a'))).toBe('again')
    store.assertInvariants()
  })
})

describe('scan', () => {
  const fill = (): ReturnType<typeof harness> => {
    const h = harness()
    for (const k of ['user:3', 'user:1', 'item:7', 'user:10', 'user:2', 'item:1', 'session:x']) h.store.set(k, utf8(k))
    h.store.delete('user:2')
    return h
  }

  it('finds keys by prefix, sorted, with offset and limit and the total', () => {
    const { store } = fill()
    const all = store.scan({ prefix: 'user:' })
    expect(all.items.map((i) => i.key)).toEqual(['user:1', 'user:10', 'user:3'])
    expect(all.total).toBe(3)
    expect(all.items.map((i) => text(i.value))).toEqual(['user:1', 'user:10', 'user:3'])
    const page = store.scan({ prefix: 'user:', offset: 1, limit: 1 })
    expect(page.items.map((i) => i.key)).toEqual(['user:10'])
    expect(page.total).toBe(3)
    expect(store.scan({ prefix: 'user:', offset: 5 }).items).toEqual([])
  })

  it('finds keys by regular expression (global flags do not leak state between keys)', () => {
    const { store } = fill()
    expect(store.scan({ pattern: /^item:\d$/ }).items.map((i) => i.key)).toEqual(['item:1', 'item:7'])
    expect(store.scan({ pattern: /1/g }).items.map((i) => i.key)).toEqual(['item:1', 'user:1', 'user:10'])
    expect(store.scan({ prefix: 'user:', pattern: /0$/ }).items.map((i) => i.key)).toEqual(['user:10'])
  })

  it('matches non-Latin-1 prefixes and skips expired entries', () => {
    const { store, clock } = harness()
    store.set('鍵:1', utf8('a'))
    store.set('鍵:2', utf8('b'), { ttlMs: 10 })
    store.set('key:1', utf8('c'))
    clock.advance(10)
    expect(store.scan({ prefix: '鍵' }).items.map((i) => i.key)).toEqual(['鍵:1'])
  })

  it('refuses bad scan options', () => {
    const { store } = fill()
    expect(() => store.scan({ offset: -1 })).toThrow(InvalidOptionError)
    expect(() => store.scan({ limit: 1.5 })).toThrow(InvalidOptionError)
  })
})

describe('returned values are immutable views', () => {
  it('a value read before an overwrite keeps its bytes (even when the new value has the same size)', () => {
    const { store } = harness()
    store.set('k', bytes(100, 1))
    const seen = store.get('k')!
    store.set('k', bytes(100, 2))
    expect(seen).toEqual(bytes(100, 1))
    expect(store.get('k')).toEqual(bytes(100, 2))
  })

  it('values read earlier keep their bytes through heavy overwriting and compaction', () => {
    const { store } = harness({ maxBytes: 64 * 1024, arenaChunkBytes: 1024, tombstoneGraceMs: 0 })
    const held: Array<[Uint8Array, number]> = []
    for (let round = 0; round < 200; round++) {
      for (let k = 0; k < 40; k++) {
        store.set(`key-${k}`, bytes(20 + ((k * 7 + round) % 60), (round + k) & 0xff))
      }
      const v = store.get(`key-${round % 40}`)
      if (v !== undefined) held.push([v, v[0]])
      if (round % 3 === 0) store.delete(`key-${(round * 11) % 40}`)
    }
    expect(store.stats().compactedBytes).toBeGreaterThan(0)
    for (const [view, fill] of held) expect(view.every((b) => b === fill)).toBe(true)
    store.assertInvariants()
  })

  it('peek, scan and entries hand out views too, so later writes never change them', () => {
    const { store } = harness()
    store.set('a', bytes(16, 1))
    const viaPeek = store.peek('a')!
    store.set('a', bytes(16, 2))
    const viaScan = store.scan({ prefix: 'a' }).items[0].value
    store.set('a', bytes(16, 3))
    const viaEntries = [...store.entries()].find((e) => e.key === 'a')!.value!
    store.set('a', bytes(16, 4))
    expect([viaPeek[0], viaScan[0], viaEntries[0], store.get('a')![0]]).toEqual([1, 2, 3, 4])
  })
})

describe('iteration', () => {
  it('iterates live pairs; entries() also yields tombstones with versions', () => {
    const { store } = harness()
    store.set('a', utf8('1'))
    store.set('b', utf8('2'))
    store.delete('b')
    expect([...store].map(([k, v]) => [k, text(v)])).toEqual([['a', '1']])
    const entries = [...store.entries()].sort((x, y) => (x.key < y.key ? -1 : 1))
    expect(entries.map((e) => [e.key, e.value === null ? null : text(e.value), e.version.writerId])).toEqual([
      ['a', '1', 'peer-a'], ['b', null, 'peer-a']
    ])
    expect(entries[1].version.physical).toBeGreaterThanOrEqual(entries[0].version.physical)
  })

  it('yields every entry that stays in the store exactly once, and ends, while writes go on', () => {
    const { store } = harness({ arenaChunkBytes: 1024, maxBytes: 256 * 1024, tombstoneGraceMs: 0 })
    for (let i = 0; i < 300; i++) {
      store.set(`stable-${i}`, bytes(30, i & 0xff))
      store.set(`filler-${i}`, bytes(30))
    }
    const seen = new Map<string, number>()
    let n = 0
    for (const [key] of store) {
      seen.set(key, (seen.get(key) ?? 0) + 1)
      // churn: fillers deleted (garbage behind and ahead of the iterator, so compaction moves stable
      // entries), temporary keys written and deleted
      store.delete(`filler-${n % 300}`)
      store.set(`temp-${n % 50}`, bytes(60))
      if (n % 2 === 0) store.delete(`temp-${(n + 25) % 50}`)
      n++
    }
    expect(store.stats().compactedBytes).toBeGreaterThan(0)
    for (let i = 0; i < 300; i++) expect(seen.get(`stable-${i}`)).toBe(1)
  })
})
