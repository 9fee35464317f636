import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SeededRandom, type Random } from '../../src/env/random.js'
import { createHashRing, type HashRing } from '../../src/ring/hash-ring.js'
import { RING_SIZE } from '../../src/ring/hash.js'
import { arcContains } from '../../src/ring/placement.js'
import { ArcSet, rangeChanges, replicaArcs, unwrap, type Arc, type ArcChange } from '../../src/replication/ranges.js'

const LAST_POINT = RING_SIZE - 1
const PEERS = ['peer-a', 'peer-b', 'peer-c', 'peer-d', 'peer-e', 'peer-f', 'peer-g']

/** A uniform integer in [0, 2^52), like a key's point. */
function randomPoint (random: Random): number {
  return (random.uint32() >>> 12) * 4294967296 + random.uint32()
}

/**
 * Points to probe a ring change at: random ones, plus every arc end of both rings and its neighbours
 * (where an off-by-one in (start, end] would show), plus both ends of the circle.
 */
function probePoints (random: Random, rings: readonly HashRing[], n = 1500): number[] {
  const out = [0, 1, LAST_POINT - 1, LAST_POINT]
  for (let i = 0; i < n; i++) out.push(randomPoint(random))
  for (const ring of rings) {
    for (const r of ring.ranges()) {
      for (const p of [r.end - 1, r.end, r.end + 1]) if (p >= 0 && p <= LAST_POINT) out.push(p)
    }
  }
  return out
}

function listAt (ring: HashRing, point: number, replicas: number): string[] {
  const out: string[] = []
  if (ring.size > 0) ring.preferenceListAt(point, replicas, out)
  return out
}

function inArcs<A extends Arc> (arcs: readonly A[], point: number): A | undefined {
  return arcs.find((a) => point > a.start && point <= a.end)
}

/** Arcs are non-wrapping, inside [-1, LAST_POINT], sorted by end and disjoint (ArcSet accepts them). */
function expectWellFormed (arcs: readonly Arc[]): void {
  for (const a of arcs) {
    expect(a.start).toBeGreaterThanOrEqual(-1)
    expect(a.end).toBeLessThanOrEqual(LAST_POINT)
    expect(a.start).toBeLessThan(a.end)
  }
  for (let i = 1; i < arcs.length; i++) expect(arcs[i].start).toBeGreaterThanOrEqual(arcs[i - 1].end)
  expect(() => new ArcSet(arcs)).not.toThrow()
}

/** No two touching arcs carry the same lists: they would have been merged. */
function expectMerged (arcs: readonly ArcChange[]): void {
  for (let i = 1; i < arcs.length; i++) {
    const a = arcs[i - 1]
    const b = arcs[i]
    if (a.end === b.start) expect({ before: b.before, after: b.after }).not.toEqual({ before: a.before, after: a.after })
  }
}

/**
 * The invariant of `rangeChanges`, checked point by point: p is in a gained arc exactly when self enters
 * its preference list, in a lost arc exactly when it leaves, and the arc holding it records both lists.
 */
function expectChangesMatchRings (before: HashRing, after: HashRing, self: string, replicas: number, seed: number): { gained: number, lost: number } {
  const { gained, lost } = rangeChanges(before, after, self, replicas)
  expectWellFormed(gained)
  expectWellFormed(lost)
  expectMerged(gained)
  expectMerged(lost)
  let inGained = 0
  let inLost = 0
  // Collected, not asserted one by one: thousands of expect() calls per ring pair would dominate the run.
  const problems: string[] = []
  for (const p of probePoints(new SeededRandom(seed), [before, after])) {
    const was = listAt(before, p, replicas)
    const is = listAt(after, p, replicas)
    const g = inArcs(gained, p)
    const l = inArcs(lost, p)
    if ((g !== undefined) !== (!was.includes(self) && is.includes(self))) problems.push(`point ${p}: in a gained arc ${g !== undefined}, lists ${was} -> ${is}`)
    if ((l !== undefined) !== (was.includes(self) && !is.includes(self))) problems.push(`point ${p}: in a lost arc ${l !== undefined}, lists ${was} -> ${is}`)
    for (const arc of [g, l]) {
      if (arc !== undefined && (arc.before.join() !== was.join() || arc.after.join() !== is.join())) {
        problems.push(`point ${p}: arc says ${arc.before} -> ${arc.after}, rings say ${was} -> ${is}`)
      }
    }
    if (g !== undefined) inGained++
    if (l !== undefined) inLost++
  }
  expect(problems.slice(0, 5)).toEqual([])
  return { gained: inGained, lost: inLost }
}

/** The arcs tile the circle: from point 0 to the last point, each starting where the previous ends. */
function expectWholeCircle (arcs: readonly Arc[]): void {
  expect(arcs.length).toBeGreaterThan(0)
  expect(arcs[0].start).toBe(-1)
  expect(arcs[arcs.length - 1].end).toBe(LAST_POINT)
  for (let i = 1; i < arcs.length; i++) expect(arcs[i].start).toBe(arcs[i - 1].end)
}

describe('unwrap', () => {
  it.each([
    ['a plain arc stays', 10, 20, [{ start: 10, end: 20 }]],
    ['an arc from point 0', -1, 20, [{ start: -1, end: 20 }]],
    ['a wrapping arc splits at the top of the circle', 100, 20, [{ start: 100, end: LAST_POINT }, { start: -1, end: 20 }]],
    ['a wrapping arc that starts at the last point is only its low part', LAST_POINT, 20, [{ start: -1, end: 20 }]],
    ['a wrapping arc ending at 0', 100, 0, [{ start: 100, end: LAST_POINT }, { start: -1, end: 0 }]],
    ['start === end is the whole ring', 500, 500, [{ start: -1, end: LAST_POINT }]]
  ])('%s', (_case, start, end, expected) => {
    expect(unwrap(start, end)).toEqual(expected)
  })

  it('the pieces hold exactly the points of the circular arc', () => {
    const point = fc.integer({ min: 0, max: LAST_POINT })
    fc.assert(fc.property(point, point, fc.array(point, { maxLength: 20 }), (start, end, probes) => {
      const pieces = unwrap(start, end)
      expectWellFormed([...pieces].sort((a, b) => a.end - b.end))
      for (const p of [...probes, start, end, 0, LAST_POINT, Math.max(0, start - 1), Math.min(LAST_POINT, end + 1)]) {
        expect(inArcs(pieces, p) !== undefined).toBe(arcContains(start, end, p))
      }
    }), { seed: 0xa7c, numRuns: 500 })
  })
})

describe('rangeChanges', () => {
  const ring = (peers: readonly string[], vnodes = 16, loadFactor?: number): HashRing => createHashRing({ peers, vnodes, loadFactor })

  it('identical rings change nothing', () => {
    const r = ring(PEERS.slice(0, 5))
    expect(rangeChanges(r, r, 'peer-a', 3)).toEqual({ gained: [], lost: [] })
    // the same peers added in another order make the same ring
    const other = ring([...PEERS.slice(0, 5)].reverse())
    expect(rangeChanges(r, other, 'peer-c', 2)).toEqual({ gained: [], lost: [] })
  })

  it('two empty rings change nothing', () => {
    expect(rangeChanges(ring([]), ring([]), 'peer-a', 3)).toEqual({ gained: [], lost: [] })
  })

  it('from an empty ring, self gains exactly what it replicates on the new ring', () => {
    const after = ring(PEERS.slice(0, 4))
    const { gained, lost } = rangeChanges(ring([]), after, 'peer-b', 2)
    expect(lost).toEqual([])
    for (const a of gained) expect(a.before).toEqual([])
    const counts = expectChangesMatchRings(ring([]), after, 'peer-b', 2, 1)
    expect(counts.gained).toBeGreaterThan(0)
  })

  it('alone on a new ring, self gains the whole circle', () => {
    const { gained, lost } = rangeChanges(ring([]), ring(['peer-a']), 'peer-a', 3)
    expect(lost).toEqual([])
    expect(gained.map(({ start, end }) => ({ start, end }))).toEqual([{ start: -1, end: LAST_POINT }])
    expect(gained[0].after).toEqual(['peer-a'])
  })

  it('on a ring that empties, self loses everything it held', () => {
    const before = ring(PEERS.slice(0, 3))
    const { gained, lost } = rangeChanges(before, ring([]), 'peer-a', 2)
    expect(gained).toEqual([])
    for (const a of lost) expect(a.after).toEqual([])
    expectChangesMatchRings(before, ring([]), 'peer-a', 2, 2)
  })

  it('a joiner only gains, and gains exactly its replica arcs', () => {
    const before = ring(PEERS.slice(0, 5))
    const after = before.withPeer('peer-f')
    const { gained, lost } = rangeChanges(before, after, 'peer-f', 3)
    expect(lost).toEqual([])
    const counts = expectChangesMatchRings(before, after, 'peer-f', 3, 3)
    expect(counts.gained).toBeGreaterThan(0)
    for (const a of gained) {
      expect(a.before).not.toContain('peer-f')
      expect(a.after).toContain('peer-f')
    }
  })

  it('a leaver only loses, everything it replicated', () => {
    const before = ring(PEERS.slice(0, 5))
    const after = before.withoutPeer('peer-c')
    expect(rangeChanges(before, after, 'peer-c', 3).gained).toEqual([])
    const counts = expectChangesMatchRings(before, after, 'peer-c', 3, 4)
    expect(counts.lost).toBeGreaterThan(0)
  })

  it('on a join, a peer that stays loses some ranges to the joiner (and may gain some under bounded loads)', () => {
    const before = ring(PEERS.slice(0, 5), 32)
    const after = before.withPeer('peer-f')
    let lostSomewhere = 0
    for (const self of PEERS.slice(0, 5)) lostSomewhere += expectChangesMatchRings(before, after, self, 2, 5).lost
    expect(lostSomewhere).toBeGreaterThan(0)
  })

  it('on a leave, the peers that stay gain what the leaver held', () => {
    const before = ring(PEERS.slice(0, 5), 32)
    const after = before.withoutPeer('peer-a')
    let gainedSomewhere = 0
    for (const self of PEERS.slice(1, 5)) gainedSomewhere += expectChangesMatchRings(before, after, self, 2, 6).gained
    expect(gainedSomewhere).toBeGreaterThan(0)
  })

  it('with plain consistent hashing a join costs the others only what the joiner takes', () => {
    const before = ring(PEERS.slice(0, 5), 16, Infinity)
    const after = before.withPeer('peer-f')
    for (const self of PEERS.slice(0, 5)) {
      const { gained, lost } = rangeChanges(before, after, self, 2)
      expect(gained).toEqual([])
      for (const a of lost) expect(a.after).toContain('peer-f')
    }
  })

  it('with as many replicas as peers, only joiners gain and only leavers lose', () => {
    const before = ring(PEERS.slice(0, 3))
    const after = ring(['peer-b', 'peer-c', 'peer-d'])
    expect(rangeChanges(before, after, 'peer-b', 7)).toEqual({ gained: [], lost: [] })
    const joined = rangeChanges(before, after, 'peer-d', 7)
    expect(joined.lost).toEqual([])
    expectWholeCircle(joined.gained)
    const left = rangeChanges(before, after, 'peer-a', 7)
    expect(left.gained).toEqual([])
    expectWholeCircle(left.lost)
  })

  it('matches the rings point by point for random peer sets, changes and replica counts', () => {
    fc.assert(fc.property(
      fc.subarray(PEERS),
      fc.subarray(PEERS),
      fc.constantFrom(...PEERS),
      fc.integer({ min: 1, max: 4 }),
      fc.constantFrom(8, 16, 32),
      fc.constantFrom(1.15, Infinity),
      fc.integer({ min: 0, max: 0xffffffff }),
      (beforePeers, afterPeers, self, replicas, vnodes, loadFactor, seed) => {
        const before = ring(beforePeers, vnodes, loadFactor)
        const after = ring(afterPeers, vnodes, loadFactor)
        expectChangesMatchRings(before, after, self, replicas, seed)
      }
    ), { seed: 0x7a9e5, numRuns: 120 })
  })
})

describe('replicaArcs', () => {
  /** A point is in the arcs exactly when self is in its preference list. */
  function expectArcsMatchRing (ring: HashRing, self: string, replicas: number, seed: number): Arc[] {
    const arcs = replicaArcs(ring, self, replicas)
    expectWellFormed(arcs)
    const wrong = probePoints(new SeededRandom(seed), [ring])
      .filter((p) => (inArcs(arcs, p) !== undefined) !== listAt(ring, p, replicas).includes(self))
    expect(wrong.slice(0, 5)).toEqual([])
    return arcs
  }

  it('a peer not on the ring holds nothing', () => {
    expect(replicaArcs(createHashRing({ peers: ['peer-a', 'peer-b'], vnodes: 8 }), 'peer-z', 2)).toEqual([])
    expect(replicaArcs(createHashRing({ vnodes: 8 }), 'peer-a', 2)).toEqual([])
  })

  it('a lone peer holds every arc of the ring, which together cover the circle', () => {
    const ring = createHashRing({ peers: ['peer-a'], vnodes: 8 })
    const arcs = expectArcsMatchRing(ring, 'peer-a', 3, 8)
    expect(arcs).toHaveLength(ring.pointCount + 1) // the wrapping arc is cut in two at point 0
    expectWholeCircle(arcs)
  })

  it('a lone peer with one vnode holds the whole ring', () => {
    expect(replicaArcs(createHashRing({ peers: ['peer-a'], vnodes: 1 }), 'peer-a', 1)).toEqual([{ start: -1, end: LAST_POINT }])
  })

  it('with replicas >= peers every peer holds the whole circle', () => {
    const ring = createHashRing({ peers: PEERS.slice(0, 3), vnodes: 8 })
    const arcs = expectArcsMatchRing(ring, 'peer-b', 3, 7)
    const covered = arcs.reduce((n, a) => n + (a.end - a.start), 0)
    expect(covered).toBe(RING_SIZE)
  })

  it('uses the ring\'s own arcs: every end is a ring point (or the top of the circle)', () => {
    const ring = createHashRing({ peers: PEERS.slice(0, 5), vnodes: 16 })
    const ends = new Set(ring.ranges().map((r) => r.end))
    for (const a of replicaArcs(ring, 'peer-a', 2)) expect(ends.has(a.end) || a.end === LAST_POINT).toBe(true)
  })

  it('a point is in them iff self is in its preference list (random rings)', () => {
    fc.assert(fc.property(
      fc.subarray(PEERS, { minLength: 1 }),
      fc.integer({ min: 1, max: 4 }),
      fc.constantFrom(8, 16, 32),
      fc.constantFrom(1.15, Infinity),
      fc.integer({ min: 0, max: 0xffffffff }),
      (peers, replicas, vnodes, loadFactor, seed) => {
        const ring = createHashRing({ peers, vnodes, loadFactor })
        for (const self of peers) expectArcsMatchRing(ring, self, replicas, seed)
      }
    ), { seed: 0xa4c5, numRuns: 60 })
  })
})

describe('ArcSet', () => {
  /** Disjoint non-wrapping arcs from sorted distinct cut points, every other gap left out. */
  function randomArcs (random: Random, n: number): Arc[] {
    const cuts = [...new Set(Array.from({ length: 2 * n }, () => randomPoint(random)))].sort((a, b) => a - b)
    const arcs: Arc[] = []
    for (let i = 0; i + 1 < cuts.length; i += 2) arcs.push({ start: cuts[i], end: cuts[i + 1] })
    if (random.chance(0.5) && arcs.length > 0) arcs[0] = { start: -1, end: arcs[0].end }
    if (random.chance(0.5) && arcs.length > 1) arcs.push({ start: arcs[arcs.length - 1].end, end: LAST_POINT }) // touching arcs
    return arcs
  }

  it('indexOf and has agree with a linear scan, whatever order the arcs come in', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 40 }), (seed, n) => {
      const random = new SeededRandom(seed)
      const arcs = randomArcs(random, n)
      const shuffled = arcs.map((a) => ({ a, k: random.uint32() })).sort((x, y) => x.k - y.k).map((x) => x.a)
      const set = new ArcSet(shuffled)
      expect(set.size).toBe(arcs.length)
      expect(set.arcs()).toEqual(arcs)
      const probes = [0, LAST_POINT, ...Array.from({ length: 200 }, () => randomPoint(random))]
      for (const a of arcs) probes.push(a.start, a.start + 1, a.end, a.end + 1)
      const wrong = probes.filter((p) => {
        const i = arcs.findIndex((a) => p > a.start && p <= a.end)
        return set.indexOf(p) !== i || set.has(p) !== (i >= 0)
      })
      expect(wrong.slice(0, 5)).toEqual([])
      for (let i = 0; i < arcs.length; i++) expect(set.indexOf(arcs[i].end)).toBe(i)
    }), { seed: 0xa5e7, numRuns: 200 })
  })

  it('an arc holds its end but not its start', () => {
    const set = new ArcSet([{ start: 10, end: 20 }, { start: 20, end: 30 }])
    expect(set.indexOf(10)).toBe(-1)
    expect(set.indexOf(11)).toBe(0)
    expect(set.indexOf(20)).toBe(0)
    expect(set.indexOf(21)).toBe(1)
    expect(set.indexOf(30)).toBe(1)
    expect(set.indexOf(31)).toBe(-1)
  })

  it('an arc from -1 holds point 0', () => {
    expect(new ArcSet([{ start: -1, end: 5 }]).indexOf(0)).toBe(0)
  })

  it('the empty set holds nothing', () => {
    expect(ArcSet.EMPTY.size).toBe(0)
    expect(ArcSet.EMPTY.has(0)).toBe(false)
    expect(ArcSet.EMPTY.has(LAST_POINT)).toBe(false)
  })

  it.each([
    ['overlapping arcs', [{ start: 0, end: 20 }, { start: 10, end: 30 }], /overlap/],
    ['an arc inside another', [{ start: 0, end: 100 }, { start: 10, end: 20 }], /overlap/],
    ['the same arc twice', [{ start: 0, end: 20 }, { start: 0, end: 20 }], /overlap/],
    ['a wrapping arc', [{ start: 100, end: 20 }], /must not wrap.*use unwrap/],
    ['a whole-ring arc (start === end)', [{ start: 7, end: 7 }], /must not wrap/]
  ])('refuses %s', (_case, arcs, message) => {
    expect(() => new ArcSet(arcs)).toThrow(RangeError)
    expect(() => new ArcSet(arcs)).toThrow(message)
  })

  it('takes unwrap()\'s pieces of a wrapping arc and of the whole ring', () => {
    const wrapped = new ArcSet(unwrap(1000, 10))
    expect(wrapped.has(LAST_POINT)).toBe(true)
    expect(wrapped.has(0)).toBe(true)
    expect(wrapped.has(10)).toBe(true)
    expect(wrapped.has(11)).toBe(false)
    expect(wrapped.has(1000)).toBe(false)
    expect(wrapped.has(1001)).toBe(true)
    const whole = new ArcSet(unwrap(42, 42))
    for (const p of [0, 42, LAST_POINT]) expect(whole.has(p)).toBe(true)
  })
})
