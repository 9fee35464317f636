/**
 * Ring placement math: small named functions over the sorted point array, table-tested on their own.
 *
 * The ring is the integer circle [0, RING_SIZE). A point `p` owns the arc (previous point, p]: start
 * exclusive, end inclusive, going clockwise, so a key whose point equals a vnode's point belongs to that
 * vnode (Karger et al.'s consistent hashing, Dynamo's "first node clockwise"). An arc whose start equals
 * its end is the whole circle (a ring with one distinct point). Lookups binary-search a sorted
 * Float64Array, narrowed first by a bucket index (a table of where each 2^k-th slice of the circle starts
 * in the array) so that a lookup touches a few cache lines instead of ~log2(n) scattered ones.
 */
import { RING_SIZE } from './hash.js'

/** Index of the first element >= `point` in sorted `points[lo, hi)`, or `hi` when there is none. */
export function lowerBound (points: Float64Array, point: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (points[mid] < point) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Length of the clockwise arc (start, end]; `start === end` is the whole circle. */
export function arcLength (start: number, end: number): number {
  return end > start ? end - start : RING_SIZE - start + end
}

/** Whether `point` lies on the clockwise arc (start, end]; `start === end` is the whole circle. */
export function arcContains (start: number, end: number, point: number): boolean {
  if (start < end) return point > start && point <= end
  return point > start || point <= end
}

/** Average number of points per bucket of the lookup index, as a power of two (4 points). */
export const LOG2_POINTS_PER_BUCKET = 2
/** Largest bucket index: 2^22 + 1 entries (16 MiB) is far past any ring we expect (4M points). */
export const MAX_BUCKET_BITS = 22

/** How many bits of a point select its bucket, for a ring of `pointCount` points. */
export function bucketBits (pointCount: number): number {
  if (pointCount <= 1) return 0
  const bits = Math.ceil(Math.log2(pointCount)) - LOG2_POINTS_PER_BUCKET
  return Math.max(0, Math.min(MAX_BUCKET_BITS, bits))
}

/**
 * The bucket index of a sorted point array: entry `b` is the index of the first point >= b * 2^(52 - bits),
 * and entry 2^bits is `points.length`. The answer for a point in bucket b lies in [index[b], index[b + 1]].
 */
export function buildBucketIndex (points: Float64Array, bits: number): Uint32Array {
  const buckets = 2 ** bits
  const width = RING_SIZE / buckets
  const index = new Uint32Array(buckets + 1)
  let i = 0
  for (let b = 0; b < buckets; b++) {
    const start = b * width
    while (i < points.length && points[i] < start) i++
    index[b] = i
  }
  index[buckets] = points.length
  return index
}

/**
 * Index of the vnode that owns `point`: the first point >= `point`, wrapping to 0 past the last one.
 * `bucketWidth` is RING_SIZE / 2^bits of the index. The array must not be empty.
 */
export function successorIndex (points: Float64Array, index: Uint32Array, bucketWidth: number, point: number): number {
  const b = Math.floor(point / bucketWidth)
  const i = lowerBound(points, point, index[b], index[b + 1])
  return i === points.length ? 0 : i
}
