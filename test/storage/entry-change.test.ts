import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ManualClock } from '../../src/env/clock.js'
import {
  ENTRY_OVERHEAD_BYTES, LocalStore, storedKeyBytes,
  type EntryVersion, type EvictionPolicy, type LocalStoreInit, type StoreEntry, type Version
} from '../../src/storage/index.js'
import { bytes, utf8 } from './helpers.js'

/**
 * A store whose only window on itself is `onEntryChange`: `shadow` is built from the reports alone, the
 * way replication keeps its digests. `reports` lists them as `key:before>after`; `broken` collects every
 * report whose `before` is not what the previous report for that key said (`after`).
 */
function mirrored (init: Partial<LocalStoreInit> = {}): {
  store: LocalStore
  clock: ManualClock
  shadow: Map<string, EntryVersion>
  reports: string[]
  broken: string[]
  removed: string[]
} {
  const clock = new ManualClock(1_000_000)
  const shadow = new Map<string, EntryVersion>()
  const reports: string[] = []
  const broken: string[] = []
  const removed: string[] = []
  const store = new LocalStore({
    clock,
    writerId: 'peer-a',
    onRemove: (key, reason) => { removed.push(`${key}:${reason}`) },
    onEntryChange: (key, before, after) => {
      reports.push(`${key}:${show(before)}>${show(after)}`)
      const held = shadow.get(key) ?? null
      if (JSON.stringify(held) !== JSON.stringify(before)) broken.push(`${key}: before ${show(before)}, but the shadow held ${show(held)}`)
      if (after === null) shadow.delete(key)
      else shadow.set(key, after)
    },
    ...init
  })
  return { store, clock, shadow, reports, broken, removed }
}

/** `1000000.0@peer-a` for a value's version, with a trailing `!` for a tombstone; `-` for nothing. */
function show (v: EntryVersion | null): string {
  if (v === null) return '-'
  return `${v.physical}.${v.logical}@${v.writerId}${v.tombstone ? '!' : ''}`
}

function versionOf (e: StoreEntry): EntryVersion {
  return { physical: e.version.physical, logical: e.version.logical, writerId: e.version.writerId, tombstone: e.value === null }
}

const v = (physical: number, logical: number, writerId: string): Version => ({ physical, logical, writerId })

describe('onEntryChange: what each call reports', () => {
  it('reports writes as (held before → written): a new key, an overwrite, a delete, a delete of nothing', () => {
    const { store, reports, broken } = mirrored()
    store.set('k', utf8('1'))
    store.set('k', utf8('2'))
    store.delete('k')
    store.delete('never')
    store.set('k', utf8('3'))
    expect(reports).toEqual([
      'k:->1000000.0@peer-a',
      'k:1000000.0@peer-a>1000000.1@peer-a',
      'k:1000000.1@peer-a>1000000.2@peer-a!',
      'never:->1000000.3@peer-a!',
      'k:1000000.2@peer-a!>1000000.4@peer-a'
    ])
    expect(broken).toEqual([])
  })

  it('reports an applied version, nothing for a stale one, and an expired incoming value as its tombstone', () => {
    const { store, clock, reports } = mirrored()
    expect(store.apply({ key: 'k', value: utf8('x'), version: v(2_000_000, 0, 'peer-b') })).toBe(true)
    expect(store.apply({ key: 'k', value: utf8('old'), version: v(1_500_000, 5, 'peer-c') })).toBe(false)
    expect(store.apply({ key: 'k', value: utf8('same'), version: v(2_000_000, 0, 'peer-b') })).toBe(false)
    expect(reports).toEqual(['k:->2000000.0@peer-b'])
    reports.length = 0
    expect(store.apply({ key: 'k', value: utf8('late'), version: v(2_000_001, 0, 'peer-c'), expiresAt: clock.now() - 1 })).toBe(true)
    expect(store.apply({ key: 'j', value: utf8('late'), version: v(2_000_001, 0, 'peer-c'), expiresAt: clock.now() })).toBe(true)
    expect(reports).toEqual(['k:2000000.0@peer-b>2000001.0@peer-c!', 'j:->2000001.0@peer-c!'])
    expect(store.getEntry('j')).toMatchObject({ value: null, version: v(2_000_001, 0, 'peer-c') })
  })

  it('without tombstones (tombstoneGraceMs 0), a delete reports (held → nothing), and nothing when nothing was held', () => {
    const { store, reports } = mirrored({ tombstoneGraceMs: 0 })
    store.set('k', utf8('1'))
    store.delete('k')
    store.delete('k')
    store.apply({ key: 'r', value: utf8('1'), version: v(2_000_000, 0, 'peer-b') })
    store.apply({ key: 'r', value: null, version: v(2_000_001, 0, 'peer-b') })
    store.apply({ key: 'none', value: null, version: v(2_000_002, 0, 'peer-b') })
    expect(reports).toEqual([
      'k:->1000000.0@peer-a', 'k:1000000.0@peer-a>-',
      'r:->2000000.0@peer-b', 'r:2000000.0@peer-b>-'
    ])
  })

  it('reports a new entry W-TinyLFU refuses to admit as written, then removed', () => {
    // As in eviction.test.ts: a window smaller than one entry sends every new entry to the admission duel.
    const { store, reports, shadow } = mirrored({ maxBytes: 20_000 })
    const value = bytes(300 - ENTRY_OVERHEAD_BYTES - 6)
    for (let i = 0; i < 80; i++) store.set(`key-${String(i).padStart(2, '0')}`, value)
    const kept = [...store.keys()]
    for (let r = 0; r < 5; r++) for (const k of kept) store.get(k)
    reports.length = 0
    expect(store.set('newbie', value)).toBe(false)
    expect(reports).toEqual(['newbie:->1000000.80@peer-a', 'newbie:1000000.80@peer-a>-'])
    expect(shadow.has('newbie')).toBe(false)
  })

  it('reports every removal as (held → nothing): eviction, expiry, tombstone collection, clear', () => {
    const { store, clock, reports, shadow } = mirrored({ eviction: 'lru', maxEntries: 3, tombstoneGraceMs: 10 })
    store.set('a', utf8('1'))
    store.set('b', utf8('1'), { ttlMs: 5 })
    store.set('c', utf8('1'))
    store.set('d', utf8('1')) // evicts a
    expect(reports.slice(-1)).toEqual(['a:1000000.0@peer-a>-'])
    clock.advance(5)
    expect(store.get('b')).toBeUndefined() // expired, removed on touch
    expect(reports.slice(-1)).toEqual(['b:1000000.1@peer-a>-'])
    store.delete('c') // tombstone
    clock.advance(10)
    store.sweep()
    expect(reports.slice(-1)).toEqual(['c:1000005.0@peer-a!>-'])
    store.delete('x')
    expect(shadow.size).toBe(2)
    reports.length = 0
    store.clear()
    expect(reports.sort()).toEqual(['d:1000000.3@peer-a>-', 'x:1000015.0@peer-a!>-'])
    expect(shadow.size).toBe(0)
  })

  it('reports a tombstone dropped to make room as (tombstone → nothing)', () => {
    const { store, reports, shadow } = mirrored({ eviction: 'lru', maxEntries: 2 })
    store.delete('x')
    store.delete('y')
    store.set('a', utf8('1')) // only tombstones to make room with: the oldest goes
    expect(store.stats().tombstonesDropped).toBe(1)
    expect(reports).toEqual(['x:->1000000.0@peer-a!', 'y:->1000000.1@peer-a!', 'a:->1000000.2@peer-a', 'x:1000000.0@peer-a!>-'])
    expect([...shadow.keys()].sort()).toEqual(['a', 'y'])
  })

  it('reports an idle-expired entry when it is removed, not before', () => {
    const { store, clock, reports, shadow } = mirrored({ maxIdleMs: 10 })
    store.set('k', utf8('1'))
    clock.advance(10)
    expect([...store.entries()]).toEqual([]) // expired: hidden, but still held until removed
    expect(shadow.has('k')).toBe(true)
    expect(store.sweep()).toBe(1)
    expect(reports).toEqual(['k:->1000000.0@peer-a', 'k:1000000.0@peer-a>-'])
    expect(shadow.has('k')).toBe(false)
  })

  it('delivers reports after the store is consistent, so the hook may read it; a failing hook misses nothing', () => {
    const seen: string[] = []
    const store: LocalStore = new LocalStore({
      clock: new ManualClock(1_000_000),
      writerId: 'peer-a',
      maxEntries: 1,
      eviction: 'lru',
      onEntryChange: (key, _before, after) => {
        seen.push(`${key}:${after === null ? 'gone' : 'written'}:${store.getEntry(key) === undefined ? 'absent' : 'held'}`)
        if (key === 'b') throw new Error('hook failed')
      }
    })
    store.set('a', utf8('1'))
    // Writing b evicts a: b's report throws, a's is still delivered, then set rethrows.
    expect(() => store.set('b', utf8('1'))).toThrow('hook failed')
    expect(seen).toEqual(['a:written:held', 'b:written:held', 'a:gone:absent'])
    expect(store.has('b')).toBe(true)
    store.assertInvariants()
  })
})

// ------------------------------------------------------------------ the shadow, under random operations

type Op =
  | { kind: 'set', key: number, length: number, ttlMs?: number }
  | { kind: 'setMany', keys: [number, number], length: number }
  | { kind: 'delete', key: number }
  | { kind: 'apply', key: number, tombstone: boolean, length: number, ahead: number, logical: number, writer: number, expiresIn?: number }
  | { kind: 'replay', key: number }
  | { kind: 'read', key: number, how: 'get' | 'peek' | 'has' | 'getEntry' }
  | { kind: 'advance', ms: number }
  | { kind: 'sweep', work: number }
  | { kind: 'forget', key: number }
  | { kind: 'clear' }

const KEYS = ['a', 'b', 'c', 'key-1', 'key-2', 'key-3', 'é', '€uro', '😀', 'long-'.repeat(20)]
const WRITERS = ['peer-a', 'peer-b', 'peer-c']
const MAX_BYTES = 2000

const key = fc.nat(KEYS.length - 1)
const length = fc.oneof(fc.constantFrom(0, 5, 100, 300), fc.nat(400))
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), key, length, ttlMs: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setMany' as const), keys: fc.tuple(key, key), length }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('apply' as const),
      key,
      tombstone: fc.boolean(),
      length,
      ahead: fc.integer({ min: -30, max: 30 }), // physical time relative to the clock: stale ones among them
      logical: fc.nat(2),
      writer: fc.nat(WRITERS.length - 1),
      expiresIn: fc.option(fc.integer({ min: -5, max: 40 }), { nil: undefined }) // <= 0: expired on arrival
    })
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), key }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), key, how: fc.constantFrom('get' as const, 'peek' as const, 'has' as const, 'getEntry' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(25) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const), work: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), key }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) }
)

interface Config { eviction: EvictionPolicy, tombstoneGraceMs: number, maxEntries: number | undefined }

const configArb: fc.Arbitrary<Config> = fc.record({
  eviction: fc.constantFrom<EvictionPolicy>('w-tinylfu', 'lru'),
  tombstoneGraceMs: fc.constantFrom(0, 15),
  maxEntries: fc.constantFrom(3, 6, undefined)
})

/** Runs `ops`; after every call the shadow must equal what the store holds. Returns what happened, for coverage. */
function runAgainstShadow (ops: Op[], config: Config): Set<string> {
  const { store, clock, shadow, broken, removed } = mirrored({ ...config, maxBytes: MAX_BYTES, arenaChunkBytes: 1024 })
  // Expiry deadline of the value last written under each key (the hook does not say; the calls do).
  const deadline = new Map<string, number>()
  const happened = new Set<string>()
  const fits = (k: string, n: number): boolean => storedKeyBytes(k) + n + ENTRY_OVERHEAD_BYTES <= MAX_BYTES

  const check = (): void => {
    expect(broken).toEqual([])
    const held = new Map<string, EntryVersion>()
    for (const e of store.entries()) held.set(e.key, versionOf(e))
    for (const [k, version] of held) expect(shadow.get(k), `shadow of ${k}`).toEqual(version)
    for (const [k, version] of shadow) {
      if (held.has(k)) continue
      // entries() hides only expired values: the shadow may still hold one the store has not removed yet.
      happened.add('expired-still-held')
      expect(version.tombstone, `${k} is in the shadow, not in the store`).toBe(false)
      expect(deadline.get(k), `${k} is in the shadow, not in the store, and not expired`).toBeLessThanOrEqual(clock.now())
    }
    const s = store.stats()
    expect(shadow.size).toBe(s.entries + s.tombstones) // held, expired ones included
    store.assertInvariants()
  }

  for (const op of ops) {
    const before = removed.length
    if (op.kind === 'advance') {
      clock.advance(op.ms)
      continue
    }
    if (op.kind === 'set') {
      const k = KEYS[op.key]
      if (!fits(k, op.length)) continue
      deadline.set(k, op.ttlMs === undefined ? Infinity : clock.now() + op.ttlMs)
      if (!store.set(k, bytes(op.length), { ttlMs: op.ttlMs })) happened.add('refused')
    } else if (op.kind === 'setMany') {
      const ks = op.keys.map((i) => KEYS[i])
      if (!ks.every((k) => fits(k, op.length))) continue
      for (const k of ks) deadline.set(k, Infinity)
      store.setMany(ks.map((k) => [k, bytes(op.length)] as const))
    } else if (op.kind === 'delete') {
      store.delete(KEYS[op.key])
    } else if (op.kind === 'apply' || op.kind === 'replay') {
      const k = KEYS[op.key]
      let entry: StoreEntry
      if (op.kind === 'replay') {
        const held = shadow.get(k)
        if (held === undefined) continue
        entry = { key: k, value: utf8('replayed'), version: v(held.physical, held.logical, held.writerId) }
      } else {
        if (!op.tombstone && !fits(k, op.length)) continue
        entry = {
          key: k,
          value: op.tombstone ? null : bytes(op.length),
          version: v(Math.max(0, clock.now() + op.ahead), op.logical, WRITERS[op.writer]),
          expiresAt: op.expiresIn === undefined ? undefined : clock.now() + op.expiresIn
        }
      }
      const heldBefore = shadow.get(k)
      const applied = store.apply(entry)
      happened.add(applied ? 'applied' : 'stale')
      if (!applied) expect(shadow.get(k)).toBe(heldBefore) // a stale apply reports nothing
      if (applied) deadline.set(k, entry.expiresAt ?? Infinity)
      if (applied && entry.value !== null && shadow.get(k)?.tombstone === true) happened.add('expired-on-arrival')
    } else if (op.kind === 'read') {
      const k = KEYS[op.key]
      if (op.how === 'get') store.get(k)
      else if (op.how === 'peek') store.peek(k)
      else if (op.how === 'has') store.has(k)
      else store.getEntry(k)
    } else if (op.kind === 'sweep') {
      store.sweep(op.work)
    } else if (op.kind === 'forget') {
      if (store.forget(KEYS[op.key])) happened.add('forgot')
    } else {
      store.clear()
    }
    for (const r of removed.slice(before)) happened.add(r.slice(r.lastIndexOf(':') + 1))
    const s = store.stats()
    if (s.tombstonesCollected > 0) happened.add('collected')
    if (s.tombstonesDropped > 0) happened.add('dropped')
    check()
  }
  return happened
}

describe('onEntryChange: a shadow kept from the reports alone equals the store', () => {
  it('after every call, across random sets, deletes, applies, reads, expiry, sweeps, evictions, forgets and clears', () => {
    const seen = new Set<string>()
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 150, size: 'max' }), configArb, (ops, config) => {
      for (const what of runAgainstShadow(ops, config)) seen.add(`${config.eviction}:${what}`)
    }), { seed: 20261206, numRuns: 400 })
    // The runs went through every kind of change, under both policies.
    for (const eviction of ['w-tinylfu', 'lru']) {
      for (const what of ['set', 'delete', 'evict', 'expire', 'moved', 'applied', 'stale', 'expired-on-arrival', 'expired-still-held', 'forgot', 'collected', 'dropped']) {
        expect(seen, `${eviction}:${what}`).toContain(`${eviction}:${what}`)
      }
    }
    expect(seen).toContain('w-tinylfu:refused')
  })
})
