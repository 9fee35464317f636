import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RING_SIZE } from '../../src/ring/hash.js'
import { arcContains, arcLength, bucketBits, buildBucketIndex, lowerBound, successorIndex } from '../../src/ring/placement.js'

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
