import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareStamps, DEFAULT_MAX_NAMESPACES, NamespaceCatalog, type CatalogEntry } from '../../src/replication/catalog.js'
import { NamespaceConflictError } from '../../src/replication/errors.js'
import { resolveNamespace, type NamespaceDefinition, type NamespaceInit } from '../../src/replication/namespace.js'

const def = (init: NamespaceInit): NamespaceDefinition => resolveNamespace(init)
const entry = (definition: NamespaceDefinition, physical: number, logical: number, origin: string): CatalogEntry =>
  ({ definition, declaredAt: { physical, logical }, origin })

const sessions3 = def({ name: 'sessions', replication: 'sync', replicas: 3 })
const sessions5 = def({ name: 'sessions', replication: 'sync', replicas: 5 })
const carts = def({ name: 'carts' })

describe('compareStamps', () => {
  it.each([
    ['earlier physical first', entry(carts, 1, 9, 'z'), entry(carts, 2, 0, 'a'), -1],
    ['same physical: earlier logical first', entry(carts, 5, 1, 'z'), entry(carts, 5, 2, 'a'), -1],
    ['same time: smaller origin first', entry(carts, 5, 1, 'a'), entry(carts, 5, 1, 'b'), -1],
    ['equal stamps', entry(carts, 5, 1, 'a'), entry(sessions3, 5, 1, 'a'), 0],
    ['later physical last', entry(carts, 3, 0, 'a'), entry(carts, 2, 7, 'z'), 1]
  ])('%s', (_case, a, b, sign) => {
    expect(Math.sign(compareStamps(a, b))).toBe(sign)
    expect(Math.sign(compareStamps(b, a))).toBe(-sign || 0)
  })
})

describe('NamespaceCatalog.declare', () => {
  it('adds a new namespace with its stamp', () => {
    const c = new NamespaceCatalog()
    const { entry: e, added } = c.declare(sessions3, { physical: 100, logical: 2 }, 'peer-a')
    expect(added).toBe(true)
    expect(e).toEqual(entry(sessions3, 100, 2, 'peer-a'))
    expect(c.get('sessions')).toBe(e)
    expect(c.has('sessions')).toBe(true)
    expect(c.size).toBe(1)
  })

  it('declaring the same definition again is a no-op that returns the known entry', () => {
    const c = new NamespaceCatalog()
    const first = c.declare(sessions3, { physical: 100, logical: 0 }, 'peer-a').entry
    const sum = c.checksum()
    const again = c.declare(def({ name: 'sessions', replication: 'sync', replicas: 3 }), { physical: 200, logical: 0 }, 'peer-b')
    expect(again).toEqual({ entry: first, added: false })
    expect(c.get('sessions')!.declaredAt).toEqual({ physical: 100, logical: 0 })
    expect(c.checksum()).toBe(sum)
  })

  it('declaring a different definition of a known name throws NamespaceConflictError naming the differing fields', () => {
    const c = new NamespaceCatalog()
    c.declare(sessions3, { physical: 100, logical: 0 }, 'peer-a')
    let caught: unknown
    try {
      c.declare({ ...sessions5, ttlMs: 60_000 }, { physical: 200, logical: 0 }, 'peer-b')
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(NamespaceConflictError)
    const err = caught as NamespaceConflictError
    expect(err.code).toBe('ERR_NAMESPACE_CONFLICT')
    expect(err.namespace).toBe('sessions')
    expect(err.message).toMatch(/replicas 5 vs 3/)
    expect(err.message).toMatch(/ttlMs 60000 vs 0/)
    expect(err.message).toMatch(/declared by peer-a/)
    expect(err.message).not.toMatch(/readMode/)
    // the known definition stays
    expect(c.get('sessions')!.definition).toBe(sessions3)
  })

  it('keeps its own copy of the stamp', () => {
    const c = new NamespaceCatalog()
    const stamp = { physical: 100, logical: 0 }
    c.declare(carts, stamp, 'peer-a')
    stamp.physical = 5
    expect(c.get('carts')!.declaredAt).toEqual({ physical: 100, logical: 0 })
  })

  it('a full catalog refuses a new name but still accepts a known one', () => {
    const c = new NamespaceCatalog(2)
    c.declare(def({ name: 'a' }), { physical: 1, logical: 0 }, 'p')
    c.declare(def({ name: 'b' }), { physical: 1, logical: 0 }, 'p')
    expect(() => c.declare(def({ name: 'c' }), { physical: 1, logical: 0 }, 'p')).toThrow(NamespaceConflictError)
    expect(() => c.declare(def({ name: 'c' }), { physical: 1, logical: 0 }, 'p')).toThrow(/already has 2 namespaces \(maxNamespaces\)/)
    expect(c.declare(def({ name: 'a' }), { physical: 2, logical: 0 }, 'q').added).toBe(false)
    expect(c.size).toBe(2)
  })

  it('defaults to 256 namespaces', () => {
    expect(new NamespaceCatalog().maxNamespaces).toBe(DEFAULT_MAX_NAMESPACES)
    expect(DEFAULT_MAX_NAMESPACES).toBe(256)
  })
})

describe('NamespaceCatalog.merge', () => {
  it('adds unknown entries and reports them', () => {
    const c = new NamespaceCatalog()
    const e1 = entry(sessions3, 10, 0, 'peer-a')
    const e2 = entry(carts, 11, 0, 'peer-b')
    expect(c.merge([e1, e2])).toEqual([{ kind: 'added', entry: e1 }, { kind: 'added', entry: e2 }])
    expect(c.entries().map((e) => e.definition.name)).toEqual(['carts', 'sessions'])
  })

  it('the same definition with an earlier stamp takes the earlier stamp, silently', () => {
    const c = new NamespaceCatalog()
    c.declare(sessions3, { physical: 200, logical: 0 }, 'peer-b')
    const earlier = entry(sessions3, 100, 0, 'peer-a')
    expect(c.merge([earlier])).toEqual([])
    expect(c.get('sessions')).toEqual(earlier)

    // and the checksum is now that of a catalog that only ever saw the earlier stamp
    const other = new NamespaceCatalog()
    other.merge([earlier])
    expect(c.checksum()).toBe(other.checksum())
  })

  it('the same definition with a later stamp changes nothing', () => {
    const c = new NamespaceCatalog()
    c.declare(sessions3, { physical: 100, logical: 0 }, 'peer-a')
    const sum = c.checksum()
    expect(c.merge([entry(sessions3, 200, 0, 'peer-b')])).toEqual([])
    expect(c.get('sessions')!.origin).toBe('peer-a')
    expect(c.checksum()).toBe(sum)
  })

  it('a conflicting definition with an earlier stamp replaces the known one', () => {
    const c = new NamespaceCatalog()
    c.declare(sessions3, { physical: 200, logical: 0 }, 'peer-b')
    const previous = c.get('sessions')!
    const winner = entry(sessions5, 200, 0, 'peer-a') // same time, smaller origin
    expect(c.merge([winner])).toEqual([{ kind: 'replaced', entry: winner, previous }])
    expect(c.get('sessions')!.definition.replicas).toBe(5)
  })

  it('a conflicting definition with a later stamp is refused and the known one kept', () => {
    const c = new NamespaceCatalog()
    c.declare(sessions3, { physical: 100, logical: 5 }, 'peer-b')
    const known = c.get('sessions')!
    const loser = entry(sessions5, 100, 6, 'peer-a')
    expect(c.merge([loser])).toEqual([{ kind: 'conflict-kept', entry: known, refused: loser }])
    expect(c.get('sessions')).toBe(known)
  })

  it('the checksum changes with the content and is equal for equal content', () => {
    const a = new NamespaceCatalog()
    const b = new NamespaceCatalog()
    expect(a.checksum()).toBe(b.checksum())
    a.merge([entry(sessions3, 1, 0, 'p')])
    expect(a.checksum()).not.toBe(b.checksum())
    b.merge([entry(sessions3, 1, 0, 'q')])
    expect(a.checksum()).not.toBe(b.checksum()) // another origin
    b.merge([entry(sessions3, 1, 0, 'p')])
    expect(a.checksum()).toBe(b.checksum())
    b.merge([entry(carts, 2, 0, 'p')])
    expect(a.checksum()).not.toBe(b.checksum())
  })

  it('a full catalog refuses unknown remote entries (refused-full) but still resolves known ones', () => {
    const c = new NamespaceCatalog(1)
    c.declare(sessions3, { physical: 100, logical: 0 }, 'peer-b')
    const extra = entry(carts, 1, 0, 'peer-a')
    const winner = entry(sessions5, 50, 0, 'peer-a')
    const changes = c.merge([extra, winner])
    expect(changes.map((ch) => ch.kind)).toEqual(['refused-full', 'replaced'])
    expect(changes[0]).toEqual({ kind: 'refused-full', refused: extra })
    expect(c.size).toBe(1)
    expect(c.has('carts')).toBe(false)
    expect(c.get('sessions')).toEqual(winner)
  })

  it('a merge of many entries stops adding at maxNamespaces', () => {
    const c = new NamespaceCatalog(3)
    const remote = Array.from({ length: 5 }, (_, i) => entry(def({ name: `ns-${i}` }), i, 0, 'p'))
    const changes = c.merge(remote)
    expect(changes.map((ch) => ch.kind)).toEqual(['added', 'added', 'added', 'refused-full', 'refused-full'])
    expect(c.size).toBe(3)
  })
})

describe('catalog convergence (property)', () => {
  const NAMES = ['a', 'b', 'c']
  const ORIGINS = ['peer-1', 'peer-2', 'peer-3']
  const arbEntry = fc.record({
    name: fc.constantFrom(...NAMES),
    replicas: fc.integer({ min: 1, max: 3 }),
    replication: fc.constantFrom('async' as const, 'sync' as const),
    physical: fc.integer({ min: 0, max: 4 }),
    logical: fc.integer({ min: 0, max: 2 }),
    origin: fc.constantFrom(...ORIGINS)
  }).map((r) => entry(def({ name: r.name, replicas: r.replicas, replication: r.replication }), r.physical, r.logical, r.origin))
  // A stamp names one declaration: no two entries of a name share (declaredAt, origin).
  const arbEntries = fc.uniqueArray(arbEntry, {
    minLength: 1,
    maxLength: 12,
    selector: (e) => `${e.definition.name}|${e.declaredAt.physical}|${e.declaredAt.logical}|${e.origin}`
  })
  /** A permutation of `items` split into batches, from fast-check's choices. */
  const arbOrder = (n: number): fc.Arbitrary<{ order: number[], cuts: number[] }> => fc.record({
    order: fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n }),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, n - 1) }), { maxLength: 3 })
  })

  function winners (entries: readonly CatalogEntry[]): Map<string, CatalogEntry> {
    const out = new Map<string, CatalogEntry>()
    for (const e of entries) {
      const known = out.get(e.definition.name)
      if (known === undefined || compareStamps(e, known) < 0) out.set(e.definition.name, e)
    }
    return out
  }

  function mergedInOrder (entries: readonly CatalogEntry[], plan: { order: number[], cuts: number[] }): NamespaceCatalog {
    const c = new NamespaceCatalog()
    const ordered = plan.order.map((i) => entries[i])
    const cuts = [0, ...plan.cuts.filter((x) => x < ordered.length).sort((x, y) => x - y), ordered.length]
    for (let i = 1; i < cuts.length; i++) c.merge(ordered.slice(cuts[i - 1], cuts[i]))
    return c
  }

  it('any set of entries merged in any order and batching ends with the same checksum and the earliest stamp of each name', () => {
    fc.assert(fc.property(
      arbEntries.chain((entries) => fc.tuple(fc.constant(entries), fc.array(arbOrder(entries.length), { minLength: 2, maxLength: 4 }))),
      ([entries, plans]) => {
        const expected = winners(entries)
        const catalogs = plans.map((plan) => mergedInOrder(entries, plan))
        for (const c of catalogs) {
          expect(c.checksum()).toBe(catalogs[0].checksum())
          expect(c.size).toBe(expected.size)
          for (const [name, w] of expected) expect(c.get(name)).toEqual(w)
        }
      }
    ), { seed: 0xca7a1, numRuns: 300 })
  })

  it('two catalogs that merge each other\'s entries both ways agree', () => {
    fc.assert(fc.property(arbEntries, fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), (entries, side) => {
      const left = new NamespaceCatalog()
      const right = new NamespaceCatalog()
      entries.forEach((e, i) => (side[i] ? left : right).merge([e]))
      right.merge(left.entries())
      left.merge(right.entries())
      expect(left.checksum()).toBe(right.checksum())
      expect(left.entries()).toEqual([...winners(entries).values()].sort((a, b) => (a.definition.name < b.definition.name ? -1 : 1)))
    }), { seed: 0xb07, numRuns: 300 })
  })
})
