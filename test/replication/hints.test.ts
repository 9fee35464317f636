import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HintQueue, type Hint } from '../../src/replication/hints.js'
import type { StoreEntry } from '../../src/storage/store.js'

/** An entry whose hint costs `2 * key.length + valueBytes + 64` bytes. */
function entry (key: string, physical: number, valueBytes = 10, writerId = 'peer-w'): StoreEntry {
  return { key, value: valueBytes < 0 ? null : new Uint8Array(valueBytes), version: { physical, logical: 0, writerId } }
}

/** Every hint held, oldest first per target. */
function allHints (q: HintQueue): Hint[] {
  return q.targets().flatMap((t) => q.peek(t, Infinity))
}

function keysOf (hints: readonly Hint[]): string[] {
  return hints.map((h) => `${h.target}/${h.ns}/${h.entry.key}@${h.entry.version.physical}`)
}

describe('HintQueue: keeping hints', () => {
  it('keeps a hint per target and reports what waits', () => {
    const q = new HintQueue()
    expect(q.add('peer-b', 'ns', entry('k1', 1), 0)).toBe(true)
    expect(q.add('peer-b', 'ns', entry('k2', 1), 0)).toBe(true)
    expect(q.add('peer-c', 'ns', entry('k1', 1), 0)).toBe(true)
    expect(q.count).toBe(3)
    expect(q.countFor('peer-b')).toBe(2)
    expect(q.countFor('peer-c')).toBe(1)
    expect(q.countFor('peer-z')).toBe(0)
    expect(q.targets().sort()).toEqual(['peer-b', 'peer-c'])
    expect(q.bytes).toBe(3 * (2 * 2 + 10 + 64))
    expect(q.counters.stored).toBe(3)
  })

  it('counts a tombstone\'s hint without a value', () => {
    const q = new HintQueue()
    q.add('peer-b', 'ns', entry('key', 1, -1), 0)
    expect(q.bytes).toBe(2 * 3 + 64)
  })

  it('the defaults are 10,000 hints, 16 MiB, two minutes', () => {
    const q = new HintQueue()
    expect([q.maxHints, q.maxBytes, q.ttlMs]).toEqual([10_000, 16 * 1024 * 1024, 120_000])
  })

  it('holds one hint per (target, namespace, key): a newer version replaces the older', () => {
    const q = new HintQueue()
    q.add('peer-b', 'ns', entry('k', 1, 10), 0)
    expect(q.add('peer-b', 'ns', entry('k', 2, 30), 5)).toBe(true)
    expect(keysOf(allHints(q))).toEqual(['peer-b/ns/k@2'])
    expect(q.bytes).toBe(2 + 30 + 64)
    expect(q.counters).toMatchObject({ stored: 2, replaced: 1 })
  })

  it('an older or equal version does not replace the newer hint', () => {
    const q = new HintQueue()
    q.add('peer-b', 'ns', entry('k', 5), 0)
    expect(q.add('peer-b', 'ns', entry('k', 4), 1)).toBe(true)
    expect(q.add('peer-b', 'ns', entry('k', 5), 1)).toBe(true)
    expect(keysOf(allHints(q))).toEqual(['peer-b/ns/k@5'])
    expect(q.counters).toMatchObject({ stored: 1, replaced: 0 })
  })

  it('the writer id breaks a tie between versions of the same time', () => {
    const q = new HintQueue()
    q.add('peer-b', 'ns', entry('k', 5, 10, 'peer-a'), 0)
    q.add('peer-b', 'ns', entry('k', 5, 10, 'peer-z'), 0)
    expect(allHints(q).map((h) => h.entry.version.writerId)).toEqual(['peer-z'])
  })

  it('the same key under another target or namespace is another hint', () => {
    const q = new HintQueue()
    q.add('peer-b', 'ns', entry('k', 1), 0)
    q.add('peer-c', 'ns', entry('k', 1), 0)
    q.add('peer-b', 'other', entry('k', 1), 0)
    expect(q.count).toBe(3)
    expect(q.counters.replaced).toBe(0)
  })
})

describe('HintQueue: bounds', () => {
  it('over maxHints, the oldest hint is dropped and counted droppedFull', () => {
    const q = new HintQueue({ maxHints: 3 })
    for (let i = 0; i < 5; i++) q.add(`peer-${i % 2}`, 'ns', entry(`k${i}`, 1), i)
    expect(q.count).toBe(3)
    expect(allHints(q).map((h) => h.entry.key).sort()).toEqual(['k2', 'k3', 'k4'])
    expect(q.counters.droppedFull).toBe(2)
  })

  it('over maxBytes, the oldest hints are dropped until the new one fits', () => {
    const each = 2 * 2 + 10 + 64 // 78 bytes
    const q = new HintQueue({ maxBytes: 3 * each })
    for (let i = 0; i < 3; i++) q.add('peer-b', 'ns', entry(`k${i}`, 1), i)
    expect(q.bytes).toBe(3 * each)
    // 2 * 2 + 88 + 64 = 156 bytes: two of the old ones must go, and 78 + 156 fills the queue exactly
    expect(q.add('peer-b', 'ns', entry('k3', 1, 88), 3)).toBe(true)
    expect(allHints(q).map((h) => h.entry.key)).toEqual(['k2', 'k3'])
    expect(q.bytes).toBe(3 * each)
    expect(q.counters.droppedFull).toBe(2)
  })

  it('a hint bigger than maxBytes is refused, counted, and drops nothing else', () => {
    const q = new HintQueue({ maxBytes: 200 })
    q.add('peer-b', 'ns', entry('k', 1), 0)
    expect(q.add('peer-b', 'ns', entry('big', 2, 200), 0)).toBe(false)
    expect(keysOf(allHints(q))).toEqual(['peer-b/ns/k@1'])
    expect(q.counters).toMatchObject({ stored: 1, droppedFull: 1 })
  })

  it('replacing a hint does not drop another one to make room for it', () => {
    const q = new HintQueue({ maxHints: 2 })
    q.add('peer-b', 'ns', entry('a', 1), 0)
    q.add('peer-b', 'ns', entry('b', 1), 0)
    q.add('peer-b', 'ns', entry('a', 2), 1)
    expect(keysOf(allHints(q))).toEqual(['peer-b/ns/b@1', 'peer-b/ns/a@2'])
    expect(q.counters.droppedFull).toBe(0)
  })
})

describe('HintQueue: expiry', () => {
  it('a hint expires ttlMs after it was added, counted expired', () => {
    const q = new HintQueue({ ttlMs: 1000 })
    q.add('peer-b', 'ns', entry('a', 1), 0)
    q.add('peer-b', 'ns', entry('b', 1), 500)
    expect(allHints(q).map((h) => h.expiresAtMs)).toEqual([1000, 1500])
    expect(q.expire(999)).toBe(0)
    expect(q.expire(1000)).toBe(1)
    expect(allHints(q).map((h) => h.entry.key)).toEqual(['b'])
    expect(q.expire(2000)).toBe(1)
    expect(q.count).toBe(0)
    expect(q.bytes).toBe(0)
    expect(q.targets()).toEqual([])
    expect(q.counters.expired).toBe(2)
  })

  it('adding drops what has expired first (as expired, not droppedFull)', () => {
    const q = new HintQueue({ ttlMs: 1000, maxHints: 1 })
    q.add('peer-b', 'ns', entry('a', 1), 0)
    q.add('peer-b', 'ns', entry('b', 1), 1000)
    expect(q.counters).toMatchObject({ expired: 1, droppedFull: 0 })
  })

  it('a replacement starts a new ttl', () => {
    const q = new HintQueue({ ttlMs: 1000 })
    q.add('peer-b', 'ns', entry('a', 1), 0)
    q.add('peer-b', 'ns', entry('b', 1), 100)
    q.add('peer-b', 'ns', entry('a', 2), 800)
    expect(q.expire(1100)).toBe(1)
    expect(keysOf(allHints(q))).toEqual(['peer-b/ns/a@2'])
    expect(q.expire(1800)).toBe(1)
  })
})

describe('HintQueue: delivery (peek and settle)', () => {
  it('peek returns up to max hints of one target, oldest first, and leaves them queued', () => {
    const q = new HintQueue()
    for (let i = 0; i < 5; i++) q.add('peer-b', 'ns', entry(`k${i}`, 1), i)
    q.add('peer-c', 'ns', entry('other', 1), 0)
    expect(q.peek('peer-b', 3).map((h) => h.entry.key)).toEqual(['k0', 'k1', 'k2'])
    expect(q.peek('peer-b', 3).map((h) => h.entry.key)).toEqual(['k0', 'k1', 'k2'])
    expect(q.peek('peer-z', 3)).toEqual([])
    expect(q.peek('peer-b', 0)).toEqual([])
    expect(q.count).toBe(6)
  })

  it('a replaced hint moves to the back of its target\'s line', () => {
    const q = new HintQueue()
    q.add('peer-b', 'ns', entry('a', 1), 0)
    q.add('peer-b', 'ns', entry('b', 1), 0)
    q.add('peer-b', 'ns', entry('a', 2), 0)
    expect(keysOf(q.peek('peer-b', 10))).toEqual(['peer-b/ns/b@1', 'peer-b/ns/a@2'])
  })

  it.each(['delivered', 'refused'] as const)('settle(%s) removes the hint once and counts it', (how) => {
    const q = new HintQueue()
    q.add('peer-b', 'ns', entry('a', 1), 0)
    q.add('peer-b', 'ns', entry('b', 1), 0)
    const [first] = q.peek('peer-b', 1)
    q.settle(first, how)
    q.settle(first, how)
    expect(q.peek('peer-b', 10).map((h) => h.entry.key)).toEqual(['b'])
    expect(q.counters[how]).toBe(1)
    expect(q.bytes).toBe(2 + 10 + 64)
  })

  it('settling the last hint of a target forgets the target', () => {
    const q = new HintQueue()
    q.add('peer-b', 'ns', entry('a', 1), 0)
    q.settle(q.peek('peer-b', 1)[0], 'delivered')
    expect(q.targets()).toEqual([])
    expect(q.countFor('peer-b')).toBe(0)
  })

  it('settling a hint that was replaced while in flight keeps the newer hint', () => {
    const q = new HintQueue()
    q.add('peer-b', 'ns', entry('a', 1), 0)
    const [inFlight] = q.peek('peer-b', 1)
    q.add('peer-b', 'ns', entry('a', 2), 1)
    q.settle(inFlight, 'delivered')
    expect(keysOf(allHints(q))).toEqual(['peer-b/ns/a@2'])
    expect(q.counters.delivered).toBe(0)
  })

  it('settling a hint that expired while in flight does nothing', () => {
    const q = new HintQueue({ ttlMs: 100 })
    q.add('peer-b', 'ns', entry('a', 1), 0)
    const [inFlight] = q.peek('peer-b', 1)
    q.expire(100)
    q.settle(inFlight, 'delivered')
    expect(q.counters).toMatchObject({ expired: 1, delivered: 0 })
  })

  it('clear drops every hint', () => {
    const q = new HintQueue()
    q.add('peer-b', 'ns', entry('a', 1), 0)
    q.add('peer-c', 'ns', entry('b', 1), 0)
    const [held] = q.peek('peer-b', 1)
    q.clear()
    expect([q.count, q.bytes, q.targets(), q.peek('peer-b', 10)]).toEqual([0, 0, [], []])
    q.settle(held, 'delivered')
    expect(q.counters.delivered).toBe(0)
    expect(q.add('peer-b', 'ns', entry('a', 1), 0)).toBe(true)
    expect(q.count).toBe(1)
  })
})

describe('HintQueue: invariants under random use (property)', () => {
  type Op =
    | { kind: 'add', target: number, ns: number, key: number, physical: number, valueBytes: number }
    | { kind: 'advance', ms: number }
    | { kind: 'settle', target: number, how: 'delivered' | 'refused' }
    | { kind: 'expire' }
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), target: fc.nat(2), ns: fc.nat(1), key: fc.nat(5), physical: fc.nat(5), valueBytes: fc.nat(150) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(400) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('settle' as const), target: fc.nat(2), how: fc.constantFrom('delivered' as const, 'refused' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const) }) }
  )

  it('stays within its bounds, keeps only the newest version per key, and accounts for every hint exactly once', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const q = new HintQueue({ maxHints: 6, maxBytes: 600, ttlMs: 1000 })
      let now = 0
      let refusedTooBig = 0
      for (const o of ops) {
        if (o.kind === 'add') {
          if (!q.add(`peer-${o.target}`, `ns-${o.ns}`, entry(`k${o.key}`, o.physical, o.valueBytes), now)) refusedTooBig++
        } else if (o.kind === 'advance') {
          now += o.ms
        } else if (o.kind === 'settle') {
          const [h] = q.peek(`peer-${o.target}`, 1)
          if (h !== undefined) q.settle(h, o.how)
        } else {
          q.expire(now)
        }
        const held = allHints(q)
        expect(q.count).toBeLessThanOrEqual(q.maxHints)
        expect(q.bytes).toBeLessThanOrEqual(q.maxBytes)
        expect(held).toHaveLength(q.count)
        expect(q.bytes).toBe(held.reduce((n, h) => n + h.bytes, 0))
        expect(new Set(held.map((h) => `${h.target}/${h.ns}/${h.entry.key}`)).size).toBe(held.length)
        const c = q.counters
        expect(c.stored).toBe(q.count + c.replaced + c.delivered + c.refused + c.expired + (c.droppedFull - refusedTooBig))
      }
    }), { seed: 0x4147, numRuns: 300 })
  })
})
