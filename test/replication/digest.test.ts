import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SeededRandom, type Random } from '../../src/env/random.js'
import { DEFAULT_LEAVES_PER_ARC, entryDigest, RangeDigests, type Digest64 } from '../../src/replication/digest.js'
import { ArcSet, type Arc } from '../../src/replication/ranges.js'
import { RING_SIZE } from '../../src/ring/hash.js'

const LAST_POINT = RING_SIZE - 1
const PHYSICAL = 1_700_000_000_000

interface Entry { key: string, physical: number, logical: number, writer: string, tombstone: boolean, point: number }

const digestOf = (e: Entry): Digest64 => entryDigest(e.key, e.physical, e.logical, e.writer, e.tombstone)

/** Three arcs with gaps between them, the first from point 0, the last up to the top of the circle. */
const ARCS: Arc[] = [
  { start: -1, end: 1_000_000 },
  { start: 2 ** 40, end: 2 ** 41 },
  { start: 2 ** 51, end: LAST_POINT }
]

/** A point inside arc `i` of ARCS. */
function pointIn (random: Random, i: number): number {
  const a = ARCS[i]
  const width = a.end - a.start
  return a.start + 1 + Math.floor(random.next() * width)
}

function randomEntries (random: Random, n: number): Entry[] {
  return Array.from({ length: n }, (_, j) => ({
    key: `key-${j}-${random.uint32()}`,
    physical: PHYSICAL + random.int(1000),
    logical: random.int(4),
    writer: `peer-${random.int(3)}`,
    tombstone: random.chance(0.2),
    point: pointIn(random, random.int(ARCS.length))
  }))
}

/** Everything a peer would compare with another replica: every root and every leaf. */
function snapshot (d: RangeDigests): { roots: Digest64[], leaves: number[][], entries: number } {
  const roots: Digest64[] = []
  const leaves: number[][] = []
  for (let i = 0; i < d.arcs.size; i++) {
    roots.push(d.root(i))
    leaves.push([...d.leaves(i)])
  }
  return { roots, leaves, entries: d.entryCount }
}

function built (entries: readonly Entry[], leavesPerArc = 8): RangeDigests {
  const d = new RangeDigests(new ArcSet(ARCS), leavesPerArc)
  for (const e of entries) expect(d.toggle(e.point, digestOf(e), 1)).toBe(true)
  return d
}

describe('entryDigest', () => {
  const base = { key: 'user:42', physical: PHYSICAL, logical: 3, writer: 'peer-a', tombstone: false }
  const d = (e: typeof base): Digest64 => entryDigest(e.key, e.physical, e.logical, e.writer, e.tombstone)

  it('is the same for the same entry, every time (two peers compute it alike)', () => {
    expect(d(base)).toEqual(d({ ...base }))
    // Pinned: peers of different builds compare these digests, so a change here breaks anti-entropy
    // between versions. Change it only together with the wire version.
    expect(d(base)).toEqual({ hi: 266554374, lo: 2352509051 })
  })

  it('gives 32-bit unsigned lanes', () => {
    const x = d(base)
    for (const lane of [x.hi, x.lo]) {
      expect(Number.isInteger(lane)).toBe(true)
      expect(lane).toBeGreaterThanOrEqual(0)
      expect(lane).toBeLessThan(2 ** 32)
    }
  })

  it.each([
    ['key', { key: 'user:43' }],
    ['key, one character longer', { key: 'user:420' }],
    ['physical, by 1 ms', { physical: PHYSICAL + 1 }],
    ['physical, by 2^32 ms (the high word)', { physical: PHYSICAL + 2 ** 32 }],
    ['logical', { logical: 4 }],
    ['writer', { writer: 'peer-b' }],
    ['tombstone flag', { tombstone: true }],
    ['key and writer split differently', { key: 'user:42peer-', writer: 'a' }]
  ])('changes when the %s differs', (_field, change) => {
    const other = d({ ...base, ...change })
    expect(other).not.toEqual(d(base))
    // both lanes change: a replica compares full 64-bit digests, and neither half is a constant
    expect(other.hi).not.toBe(d(base).hi)
    expect(other.lo).not.toBe(d(base).lo)
  })

  it('is practically collision-free over many versions of many keys', () => {
    const seen = new Set<string>()
    for (let k = 0; k < 200; k++) {
      for (let logical = 0; logical < 5; logical++) {
        for (const tombstone of [false, true]) {
          const x = entryDigest(`k${k}`, PHYSICAL + k, logical, 'peer-a', tombstone)
          seen.add(`${x.hi}:${x.lo}`)
        }
      }
    }
    expect(seen.size).toBe(200 * 5 * 2)
  })
})

describe('RangeDigests', () => {
  it('refuses a leaf count outside 1..1024', () => {
    const arcs = new ArcSet(ARCS)
    for (const bad of [0, 1025, 1.5, Number.NaN]) expect(() => new RangeDigests(arcs, bad)).toThrow(/leavesPerArc must be an integer in 1..1024/)
    expect(new RangeDigests(arcs).leavesPerArc).toBe(DEFAULT_LEAVES_PER_ARC)
    expect(new RangeDigests(arcs, 1).leavesPerArc).toBe(1)
    expect(new RangeDigests(arcs, 1024).leavesPerArc).toBe(1024)
  })

  it('two empty digests of the same arcs agree', () => {
    expect(snapshot(built([]))).toEqual(snapshot(built([])))
  })

  it('a point outside every arc is not tracked: toggle returns false and nothing changes', () => {
    const d = built(randomEntries(new SeededRandom(1), 20))
    const before = snapshot(d)
    const x = entryDigest('k', PHYSICAL, 0, 'peer-a', false)
    for (const outside of [1_000_001, 2 ** 40, 2 ** 41 + 1, 2 ** 51]) {
      expect(d.toggle(outside, x, 1)).toBe(false)
    }
    expect(snapshot(d)).toEqual(before)
  })

  it('the arc ends are inside, the starts are not', () => {
    const d = built([])
    const x = entryDigest('k', PHYSICAL, 0, 'peer-a', false)
    expect(d.toggle(0, x, 1)).toBe(true)
    expect(d.toggle(1_000_000, x, 1)).toBe(true)
    expect(d.toggle(LAST_POINT, x, 1)).toBe(true)
    expect(d.toggle(2 ** 40, x, 1)).toBe(false)
  })

  it('toggles are order-free: any order, with any in/out pairs on the way, gives the same roots and leaves', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 30 }), (seed, n, transient) => {
      const random = new SeededRandom(seed)
      const kept = randomEntries(random, n)
      const extra = randomEntries(random, transient)
      const reference = built(kept)

      // Each kept entry goes in once; each extra goes in and later out; one kept entry is also
      // written over (old version out, new in) and back. All interleaved at random.
      const ops: Array<{ e: Entry, sign: 1 | -1 }> = []
      for (const e of kept) ops.push({ e, sign: 1 })
      for (const e of extra) ops.push({ e, sign: 1 }, { e, sign: -1 })
      const keys = ops.map(() => random.uint32())
      const order = ops.map((_, i) => i).sort((a, b) => keys[a] - keys[b])
      // an out must come after its in: swap the pair's positions when shuffled the other way
      const position = new Map<number, number>()
      order.forEach((op, pos) => position.set(op, pos))
      for (let i = kept.length; i < ops.length; i += 2) {
        if (position.get(i)! > position.get(i + 1)!) { const t = ops[i]; ops[i] = ops[i + 1]; ops[i + 1] = t }
      }
      const d = new RangeDigests(new ArcSet(ARCS), 8)
      for (const i of order) expect(d.toggle(ops[i].e.point, digestOf(ops[i].e), ops[i].sign)).toBe(true)
      if (kept.length > 0) {
        const e = kept[0]
        const newer = { ...e, logical: e.logical + 1 }
        d.toggle(e.point, digestOf(e), -1); d.toggle(e.point, digestOf(newer), 1)
        d.toggle(e.point, digestOf(newer), -1); d.toggle(e.point, digestOf(e), 1)
      }
      expect(snapshot(d)).toEqual(snapshot(reference))
      expect(d.entryCount).toBe(kept.length)
    }), { seed: 0xd16e57, numRuns: 200 })
  })

  it('a write changes the root of its arc only, and undoing it restores the root', () => {
    const random = new SeededRandom(2)
    const d = built(randomEntries(random, 40))
    const before = snapshot(d)
    const e = { ...randomEntries(random, 1)[0], point: pointIn(random, 1) }
    d.toggle(e.point, digestOf(e), 1)
    const after = snapshot(d)
    expect(after.roots[1]).not.toEqual(before.roots[1])
    expect(after.roots[0]).toEqual(before.roots[0])
    expect(after.roots[2]).toEqual(before.roots[2])
    d.toggle(e.point, digestOf(e), -1)
    expect(snapshot(d)).toEqual(before)
  })

  it('overwriting a version changes the root (old digest out, new in)', () => {
    const e: Entry = { key: 'k', physical: PHYSICAL, logical: 0, writer: 'peer-a', tombstone: false, point: 5 }
    const d = built([e])
    const root = d.root(0)
    d.toggle(e.point, digestOf(e), -1)
    d.toggle(e.point, digestOf({ ...e, tombstone: true }), 1)
    expect(d.root(0)).not.toEqual(root)
    expect(d.entryCount).toBe(1)
  })

  it('the root depends on which leaf a digest sits in, not only on the digests', () => {
    const x = entryDigest('k', PHYSICAL, 0, 'peer-a', false)
    const inLeaf0 = built([])
    const inLeaf1 = built([])
    inLeaf0.toggle(8, x, 1) // 8 mod 8 = leaf 0
    inLeaf1.toggle(9, x, 1) // leaf 1
    expect(inLeaf0.leafOf(8)).toBe(0)
    expect(inLeaf1.leafOf(9)).toBe(1)
    expect(inLeaf0.root(0)).not.toEqual(inLeaf1.root(0))
  })

  it('every leaf change shows in the root', () => {
    const d = built(randomEntries(new SeededRandom(3), 30))
    const roots = new Set<string>()
    const x = entryDigest('k', PHYSICAL, 0, 'peer-a', false)
    const r = (): string => { const { hi, lo } = d.root(0); return `${hi}:${lo}` }
    roots.add(r())
    for (let leaf = 0; leaf < 8; leaf++) {
      d.toggle(16 + leaf, x, 1)
      roots.add(r())
      d.toggle(16 + leaf, x, -1)
    }
    expect(roots.size).toBe(9)
  })

  it('leaves() is a copy: changing it does not change the digests', () => {
    const d = built(randomEntries(new SeededRandom(4), 10))
    const root = d.root(0)
    const leaves = d.leaves(0)
    expect(leaves).toHaveLength(16)
    leaves.fill(7)
    expect(d.root(0)).toEqual(root)
    expect([...d.leaves(0)]).not.toEqual([...leaves])
  })

  it('differingLeaves finds exactly the leaves whose entries differ between two replicas', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), (seed, onlyOneSide, rewritten) => {
      const random = new SeededRandom(seed)
      const common = randomEntries(random, 50)
      const mine = built(common)
      const theirs = built(common)
      const expected: Array<Set<number>> = ARCS.map(() => new Set())
      const mark = (point: number): void => { expected[mine.arcs.indexOf(point)].add(mine.leafOf(point)) }
      // keys only one replica has
      for (const e of randomEntries(random, onlyOneSide)) {
        (random.chance(0.5) ? mine : theirs).toggle(e.point, digestOf(e), 1)
        mark(e.point)
      }
      // common keys of which one replica has a newer version
      for (const old of common.slice(0, rewritten)) {
        theirs.toggle(old.point, digestOf(old), -1)
        theirs.toggle(old.point, digestOf({ ...old, physical: old.physical + 5000 }), 1)
        mark(old.point)
      }
      for (let i = 0; i < ARCS.length; i++) {
        const leaves = [...expected[i]].sort((a, b) => a - b)
        expect(mine.differingLeaves(i, theirs.leaves(i))).toEqual(leaves)
        expect(theirs.differingLeaves(i, mine.leaves(i))).toEqual(leaves)
        expect(mine.root(i)).toSatisfy((r: Digest64) => (r.hi === theirs.root(i).hi && r.lo === theirs.root(i).lo) === (leaves.length === 0))
      }
    }), { seed: 0xd1ff, numRuns: 200 })
  })

  it('differingLeaves reports every leaf when the other side has another leaf count', () => {
    const d = built([], 8)
    expect(d.differingLeaves(0, new Uint32Array(4))).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(d.differingLeaves(0, new Uint32Array(16))).toEqual([])
  })

  it('tracks nothing over an empty set of arcs', () => {
    const d = new RangeDigests(ArcSet.EMPTY)
    expect(d.toggle(0, entryDigest('k', PHYSICAL, 0, 'p', false), 1)).toBe(false)
    expect(d.entryCount).toBe(0)
    expect(d.memoryBytes).toBe(0)
  })
})
