/**
 * Ring placement math: small named functions over the sorted point array, table-tested on their own.
 *
 * The ring is the integer circle [0, RING_SIZE). A point `p` owns the arc (previous point, p]: start
 * exclusive, end inclusive, going clockwise, so a key whose point equals a vnode's point belongs to that
 * vnode (Karger et al.'s consistent hashing, Dynamo's "first node clockwise"). An arc whose start equals
 * its end is the whole circle (a ring with one distinct point). Lookups binary-search a sorted
 * Float64Array, narrowed first by a bucket index (a table of where each 2^k-th slice of the circle starts
 * in the array) so that a lookup touches a few cache lines instead of ~log2(n) scattered ones.
 *
 * Arcs are then given owners with bounded loads (`assignArcs`): Mirrokni, Thorup and Zadimoghaddam's
 * "Consistent Hashing with Bounded Loads" (SODA 2018; HAProxy's `hash-balance-factor`, contributed by
 * Vimeo). There the balls are requests in flight; here they are the ring's arcs, assigned once per
 * membership, so a range stays an arc between neighbouring points and lookups stay a binary search.
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

/**
 * The most a peer may own under bounded loads: `loadFactor` times the fair share of `peerCount` peers,
 * `loadFactor * 2^52 / peerCount` computed in doubles exactly as written (a protocol: all peers must agree).
 */
export function loadCap (peerCount: number, loadFactor: number): number {
  return loadFactor * RING_SIZE / peerCount
}

/**
 * Who owns each arc under bounded loads. `points` sorted, `owners[j]` the peer index (< `peerCount`) of
 * the vnode at `points[j]`; arc j is (points[j-1], points[j]], arc 0 wrapping through 0.
 *
 * One pass over the arcs in ring order from index 0: arc j goes to the first of owners[j], owners[j+1],
 * ... (wrapping) whose load so far plus the arc stays within `loadCap`; when none has room (an arc longer
 * than what any peer has left: fragmentation, rare once loadFactor is well above 1) it stays with
 * owners[j]. Empty arcs (equal points) stay with their own vnode. With `loadFactor` Infinity this is
 * plain consistent hashing and `owners` itself is returned.
 *
 * So no peer owns more than the cap except by arcs that fit nowhere, and every peer with a point owns at
 * least one arc (its first arc can only be refused when it exceeds the cap alone, and then nobody has
 * room, so it stays) — a full turn of the ring still meets every peer.
 */
export function assignArcs (points: Float64Array, owners: Uint32Array, peerCount: number, loadFactor: number): Uint32Array {
  const n = points.length
  if (loadFactor === Infinity || n === 0) return owners
  const cap = loadCap(peerCount, loadFactor)
  const loads = new Float64Array(peerCount) // sums of integer arc lengths <= 2^52: exact
  const arcOwners = new Uint32Array(n)
  for (let j = 0; j < n; j++) {
    const length = j === 0 ? points[0] + RING_SIZE - points[n - 1] : points[j] - points[j - 1]
    let owner = owners[j]
    if (length > 0 && loads[owner] + length > cap && length <= cap) {
      let k = j
      for (let step = 1; step < n; step++) {
        if (++k === n) k = 0
        const candidate = owners[k]
        if (loads[candidate] + length <= cap) { owner = candidate; break }
      }
    }
    arcOwners[j] = owner
    loads[owner] += length
  }
  return arcOwners
}
