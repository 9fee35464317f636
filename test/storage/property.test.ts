import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ENTRY_OVERHEAD_BYTES, storedKeyBytes, type EvictionPolicy } from '../../src/storage/index.js'
import { harness } from './helpers.js'

type Op =
  | { kind: 'set', key: number, length: number, fill: number, ttlMs?: number }
  | { kind: 'delete', key: number }
  | { kind: 'get', key: number }
  | { kind: 'peek', key: number }
  | { kind: 'advance', ms: number }
  | { kind: 'sweep', work: number }

const KEYS = ['a', 'b', 'c', 'key-1', 'key-2', 'key-3', 'é', '€uro', '😀', 'long-'.repeat(20)]

// Lengths often repeat within an 8-byte class, so values get overwritten in place as well as appended.
const lengthArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0, 3, 6, 100, 101, 104) }, { weight: 1, arbitrary: fc.nat(300) })

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.nat(KEYS.length - 1), length: lengthArb, fill: fc.nat(255), ttlMs: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(KEYS.length - 1) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('get' as const), key: fc.nat(KEYS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('peek' as const), key: fc.nat(KEYS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const), work: fc.integer({ min: 1, max: 20 }) }) }
)

interface ModelValue { fill: number, length: number, expiresAt: number }

/** Recomputes the accounted bytes from what the store holds, entry by entry. */
function bytesFromScratch (entries: Iterable<{ key: string, value: Uint8Array | null }>): number {
  let total = 0
  for (const e of entries) total += storedKeyBytes(e.key) + (e.value?.byteLength ?? 0) + ENTRY_OVERHEAD_BYTES
  return total
}

describe('LocalStore against a reference model', () => {
  it('agrees with an unbounded Map (no eviction) and its byte accounting matches a recount', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 10, maxLength: 120, size: 'max' }), fc.constantFrom<EvictionPolicy>('w-tinylfu', 'lru'), (ops, eviction) => {
      const { store, clock, removed } = harness({ eviction, arenaChunkBytes: 1024, maxBytes: 512 * 1024, tombstoneGraceMs: 30 })
      const model = new Map<string, ModelValue>()
      const alive = (key: string): ModelValue | undefined => {
        const m = model.get(key)
        return m !== undefined && clock.now() < m.expiresAt ? m : undefined
      }
      let sets = 0
      for (const op of ops) {
        if (op.kind === 'advance') { clock.advance(op.ms); continue }
        if (op.kind === 'sweep') { store.sweep(op.work); continue }
        const key = KEYS[op.key]
        if (op.kind === 'set') {
          const before = removed.length
          const wasAlive = alive(key) !== undefined
          expect(store.set(key, new Uint8Array(op.length).fill(op.fill), { ttlMs: op.ttlMs })).toBe(true)
          if (wasAlive) expect(removed.slice(before)).toContain(`${key}:set`)
          model.set(key, { fill: op.fill, length: op.length, expiresAt: op.ttlMs === undefined ? Infinity : clock.now() + op.ttlMs })
          sets++
        } else if (op.kind === 'delete') {
          expect(store.delete(key)).toBe(alive(key) !== undefined)
          model.delete(key)
        } else {
          const got = op.kind === 'get' ? store.get(key) : store.peek(key)
          const want = alive(key)
          if (want === undefined) {
            expect(got).toBeUndefined()
          } else {
            expect(got).toEqual(new Uint8Array(want.length).fill(want.fill))
          }
        }
        store.assertInvariants() // recounts bytes, entries and queues from the arena
      }
      expect(store.stats().evictions.evict).toBe(0)
      // Expired entries count until removed; once swept, the bytes equal a recount of what entries() shows.
      while (store.sweep(1000) > 0);
      expect(store.bytes).toBe(bytesFromScratch(store.entries()))
      // Every value written leaves exactly once: clear() reports the ones still held.
      store.clear()
      expect(removed.length).toBe(sets)
    }), { seed: 20240601, numRuns: 150 })
  })

  it('under memory pressure never returns a stale value, stays in bounds, and reports every value once', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 200, size: 'max' }), fc.constantFrom<EvictionPolicy>('w-tinylfu', 'lru'), (ops, eviction) => {
      const { store, clock, removed } = harness({ eviction, arenaChunkBytes: 1024, maxBytes: 2000, maxEntries: 8, tombstoneGraceMs: 20 })
      const latest = new Map<string, ModelValue>()
      const held: Array<[Uint8Array, Uint8Array]> = []
      let stored = 0
      for (const op of ops) {
        if (op.kind === 'advance') { clock.advance(op.ms); continue }
        if (op.kind === 'sweep') { store.sweep(op.work); continue }
        const key = KEYS[op.key]
        if (op.kind === 'set') {
          if (storedKeyBytes(key) + op.length + ENTRY_OVERHEAD_BYTES > 2000) continue
          store.set(key, new Uint8Array(op.length).fill(op.fill), { ttlMs: op.ttlMs })
          stored++
          latest.set(key, { fill: op.fill, length: op.length, expiresAt: op.ttlMs === undefined ? Infinity : clock.now() + op.ttlMs })
        } else if (op.kind === 'delete') {
          store.delete(key)
          latest.delete(key)
        } else {
          const got = op.kind === 'get' ? store.get(key) : store.peek(key)
          if (got !== undefined) {
            const want = latest.get(key)
            expect(want).toBeDefined()
            expect(clock.now()).toBeLessThan(want!.expiresAt)
            expect(got).toEqual(new Uint8Array(want!.length).fill(want!.fill))
            held.push([got, got.slice()])
          }
        }
        store.assertInvariants()
        const s = store.stats()
        expect(s.bytes).toBeLessThanOrEqual(2000)
        expect(s.entries + s.tombstones).toBeLessThanOrEqual(8)
      }
      // Views handed out never change, whatever was written or compacted since.
      for (const [view, copy] of held) expect(view).toEqual(copy)
      store.clear()
      expect(removed.length).toBe(stored)
    }), { seed: 7, numRuns: 300 })
  })
})
