import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RING_SIZE } from '../../src/ring/hash.js'
import { arcContains, arcLength, assignArcs, bucketBits, buildBucketIndex, loadCap, lowerBound, successorIndex } from '../../src/ring/placement.js'

const SEED = 0x5eed

describe('lowerBound', () => {
  const points = new Float64Array([1, 3, 3, 5])
  it.each([
    [0, 0], [1, 0], [2, 1], [3, 1], [4, 3], [5, 3], [6, 4]
  ])('first index >= %s is %s', (point, index) => {
    expect(lowerBound(points, point, 0, points.length)).toBe(index)
  })
  it('returns lo on an empty range', () => {
    expect(lowerBound(new Float64Array(0), 7, 0, 0)).toBe(0)
    expect(lowerBound(points, 7, 2, 2)).toBe(2)
  })
})

describe('arcs', () => {
  it.each([
    [10, 20, 10],
    [20, 10, RING_SIZE - 10],
    [5, 5, RING_SIZE],
    [RING_SIZE - 1, 0, 1],
    [0, RING_SIZE - 1, RING_SIZE - 1]
  ])('arcLength(%s, %s) = %s', (start, end, length) => {
    expect(arcLength(start, end)).toBe(length)
  })

  it.each([
    // (start, end], plain
    [10, 20, 10, false], [10, 20, 11, true], [10, 20, 20, true], [10, 20, 21, false],
    // wrapping through 0
    [20, 10, 20, false], [20, 10, 21, true], [20, 10, 0, true], [20, 10, 10, true], [20, 10, 15, false],
    // start === end: the whole circle
    [7, 7, 7, true], [7, 7, 0, true], [7, 7, RING_SIZE - 1, true]
  ])('arcContains(%s, %s, %s) = %s', (start, end, point, inside) => {
    expect(arcContains(start, end, point)).toBe(inside)
  })
})

describe('bucket index', () => {
  it.each([
    [0, 0], [1, 0], [2, 0], [4, 0], [5, 1], [8, 1], [1024, 8], [256_000, 16], [2 ** 40, 22]
  ])('bucketBits(%s points) = %s (about 4 points per bucket, capped)', (points, bits) => {
    expect(bucketBits(points)).toBe(bits)
  })

  it('finds the same successor as a linear scan, wrapping past the last point', () => {
    const sortedPoints = fc.uniqueArray(fc.integer({ min: 0, max: RING_SIZE - 1 }), { minLength: 1, maxLength: 200 })
      .map((xs) => new Float64Array(xs).sort())
    const query = fc.oneof(fc.integer({ min: 0, max: RING_SIZE - 1 }), fc.constantFrom(0, RING_SIZE - 1))
    fc.assert(fc.property(sortedPoints, fc.array(query, { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 8 }), (points, queries, bits) => {
      const index = buildBucketIndex(points, bits)
      for (const q of queries) {
        let expected = points.findIndex((p) => p >= q)
        if (expected === -1) expected = 0
        expect(successorIndex(points, index, RING_SIZE / 2 ** bits, q)).toBe(expected)
        // A point exactly on a vnode belongs to that vnode (arcs are end-inclusive).
        expect(points[successorIndex(points, index, RING_SIZE / 2 ** bits, points[expected])]).toBe(points[expected])
      }
    }), { seed: SEED, numRuns: 300 })
  })
})

describe('assignArcs (bounded loads over arcs)', () => {
  // Arc j is (point j-1, point j], arc 0 wraps through 0. Owners are peer indexes.
  const q = RING_SIZE / 8
  /** Eight arcs of exactly 1/8 of the ring: points q-1, 2q-1, ..., 8q-1. */
  const eighths = new Float64Array([1, 2, 3, 4, 5, 6, 7, 8].map((i) => i * q - 1))

  it('keeps every arc with its point when loads are not bounded', () => {
    const owners = new Uint32Array([0, 0, 0, 0, 0, 0, 1, 1])
    expect(assignArcs(eighths, owners, 2, Infinity)).toEqual(owners)
  })

  it('keeps every arc with its point while each peer stays under the cap', () => {
    // Four arcs each for two peers: 1/2 of the ring each, under 1.1 x 1/2.
    const owners = new Uint32Array([0, 1, 1, 0, 0, 1, 0, 1])
    expect([...assignArcs(eighths, owners, 2, 1.1)]).toEqual([...owners])
  })

  it('offers an arc that would overfill its owner to the owner of the next point', () => {
    // Two peers, cap = 1.1 x 4/8 = 4.4/8: peer 0 takes its first four arcs, then arcs 4 and 5 go on to
    // the owner of point 6.
    const owners = new Uint32Array([0, 0, 0, 0, 0, 0, 1, 1])
    expect([...assignArcs(eighths, owners, 2, 1.1)]).toEqual([0, 0, 0, 0, 1, 1, 1, 1])
  })

  it('skips successors that are full too, wrapping past the last point', () => {
    // Four peers, cap = 1.2 x 2/8 = 2.4/8: two arcs per peer. Arc 7 (peer 3's third) finds the owners
    // of points 0..3 (peers 2 and 1) full and lands on peer 0, the owner of point 4.
    const owners = new Uint32Array([2, 2, 1, 1, 0, 3, 3, 3])
    expect([...assignArcs(eighths, owners, 4, 1.2)]).toEqual([2, 2, 1, 1, 0, 3, 3, 0])
  })

  it('falls back to the point\'s own owner when no peer has room (an arc longer than the cap)', () => {
    // Arc 1 is almost the whole ring, far over 1.5 x half of it: nobody can take it.
    expect([...assignArcs(new Float64Array([100, RING_SIZE - 100]), new Uint32Array([0, 1]), 2, 1.5)]).toEqual([0, 1])
    // Three peers that can hold one quarter each (cap 1.1 x 1/3): the fourth quarter has nowhere to go.
    const quarters = new Float64Array([1, 2, 3, 4].map((i) => i * 2 * q - 1))
    expect([...assignArcs(quarters, new Uint32Array([0, 1, 2, 2]), 3, 1.1)]).toEqual([0, 1, 2, 2])
  })

  it('gives the empty arcs of equal points to their own vnode', () => {
    const points = new Float64Array([5, 5, 9, 9])
    expect([...assignArcs(points, new Uint32Array([0, 1, 1, 0]), 2, 1.1)]).toEqual([0, 1, 1, 0])
  })

  it.each([[1, 1.2], [4, 1.2], [1000, 1.15]])('caps a peer at loadFactor x its fair share: %s peers, %s', (peers, loadFactor) => {
    expect(loadCap(peers, loadFactor)).toBe(loadFactor * RING_SIZE / peers)
  })

  /** The rule as written: the first of owners[j], owners[j+1], ... (wrapping) with room, else owners[j]. */
  function naiveAssign (points: number[], owners: number[], peers: number, loadFactor: number): number[] {
    const n = points.length
    const cap = loadFactor * RING_SIZE / peers
    const loads = new Array<number>(peers).fill(0)
    return points.map((point, j) => {
      const length = j === 0 ? point + RING_SIZE - points[n - 1] : point - points[j - 1]
      let owner = owners[j]
      if (length > 0) {
        const withRoom = Array.from({ length: n }, (_, s) => owners[(j + s) % n]).find((o) => loads[o] + length <= cap)
        owner = withRoom ?? owners[j]
      }
      loads[owner] += length
      return owner
    })
  }

  it('follows the rule for arbitrary rings, and loads a peer past the cap only by arcs that fit nowhere', () => {
    const ring = fc.record({
      peers: fc.integer({ min: 1, max: 12 }),
      points: fc.uniqueArray(fc.integer({ min: 0, max: RING_SIZE - 1 }), { minLength: 1, maxLength: 120 }),
      loadFactor: fc.double({ min: 1.01, max: 3, noNaN: true }),
      ownerSeed: fc.nat()
    })
    fc.assert(fc.property(ring, ({ peers, points, loadFactor, ownerSeed }) => {
      const sorted = new Float64Array(points).sort()
      const owners = sorted.map((_, i) => (i * 7 + ownerSeed) % peers)
      const arcOwners = assignArcs(sorted, new Uint32Array(owners), peers, loadFactor)
      expect([...arcOwners]).toEqual(naiveAssign([...sorted], [...owners], peers, loadFactor))
      const cap = loadCap(peers, loadFactor)
      const loads = new Array<number>(peers).fill(0)
      for (let j = 0; j < sorted.length; j++) {
        const length = j === 0 ? sorted[0] + RING_SIZE - sorted[sorted.length - 1] : sorted[j] - sorted[j - 1]
        // Past the cap only when every peer with a point is too full for this arc (fragmentation).
        if (loads[arcOwners[j]] + length > cap) for (const o of owners) expect(loads[o] + length).toBeGreaterThan(cap)
        loads[arcOwners[j]] += length
      }
      expect(loads.reduce((a, b) => a + b, 0)).toBe(RING_SIZE)
    }), { seed: SEED, numRuns: 300 })
  })
})
