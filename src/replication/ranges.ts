/**
 * Ranges of the ring a peer replicates, and how they change when the ring does (rebalancing input).
 *
 * A key's replicas are its preference list: the first `replicas` distinct arc owners clockwise from its
 * point (ring/hash-ring.ts). The list is the same for every point of an arc, so "what this peer holds" is
 * a set of arcs. When the ring changes, cutting the circle at the points of *both* rings gives sub-arcs
 * on which the old list and the new list are each constant (no point of either ring lies strictly
 * inside one); comparing the two lists per sub-arc says what this peer gained (now a replica, was not),
 * lost (was, is not) and kept — Dynamo's hand-off of key ranges, computed locally from two ring values.
 *
 * `ArcSet` answers "which of these arcs holds point p" with one binary search: arcs are stored cut at
 * point 0 (a wrapping arc (s, e] with s > e becomes (s, 2^52 - 1] and (-1, e]), sorted by end, disjoint.
 *
 * Invariants: the sub-arcs of `rangeChanges` partition the circle; a sub-arc is in `gained` exactly when
 * `self` is in its new list and not its old one, in `lost` when the reverse; adjacent sub-arcs with equal
 * lists are merged. Pure: two ring values in, plain arrays out.
 */
import { RING_SIZE } from '../ring/hash.js'
import type { HashRing } from '../ring/hash-ring.js'

export interface Arc {
  /** Exclusive start (-1 for an arc that starts at point 0 inclusive). */
  readonly start: number
  /** Inclusive end. */
  readonly end: number
}

export interface ArcChange extends Arc {
  /** The preference list on the old ring (empty when the old ring was empty). */
  readonly before: readonly string[]
  /** The preference list on the new ring. */
  readonly after: readonly string[]
}

export interface RangeChanges {
  /** Sub-arcs where `self` is a replica now and was not before. */
  gained: ArcChange[]
  /** Sub-arcs where `self` was a replica and is not now. */
  lost: ArcChange[]
}

const LAST_POINT = RING_SIZE - 1

/** The sorted distinct boundaries (arc ends) of a ring. */
function boundaries (ring: HashRing): number[] {
  const out: number[] = []
  for (const r of ring.ranges()) if (out.length === 0 || out[out.length - 1] !== r.end) out.push(r.end)
  return out
}

function sameList (a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Splits (start, end] into pieces that do not wrap past the top of the circle. */
export function unwrap (start: number, end: number): Arc[] {
  if (start === end) return [{ start: -1, end: LAST_POINT }]
  if (start < end) return [{ start, end }]
  const out: Arc[] = []
  if (start < LAST_POINT) out.push({ start, end: LAST_POINT })
  out.push({ start: -1, end })
  return out
}

/** What `self` gains and loses, for `replicas` copies per key, when the ring goes from `before` to `after`. */
export function rangeChanges (before: HashRing, after: HashRing, self: string, replicas: number): RangeChanges {
  const merged = [...new Set([...boundaries(before), ...boundaries(after)])].sort((a, b) => a - b)
  const gained: ArcChange[] = []
  const lost: ArcChange[] = []
  if (merged.length === 0) return { gained, lost }
  const oldList: string[] = []
  const newList: string[] = []
  let prev = merged[merged.length - 1]
  for (const end of merged) {
    const start = prev
    prev = end
    if (before.size > 0) before.preferenceListAt(end, replicas, oldList); else oldList.length = 0
    if (after.size > 0) after.preferenceListAt(end, replicas, newList); else newList.length = 0
    const was = oldList.includes(self)
    const is = newList.includes(self)
    if (was === is) continue
    const target = is ? gained : lost
    const lists = { before: oldList.slice(), after: newList.slice() }
    for (const piece of unwrap(start, end)) target.push({ start: piece.start, end: piece.end, ...lists })
  }
  return { gained: coalesce(gained), lost: coalesce(lost) }
}

/**
 * Sorts disjoint sub-arcs by end and merges the ones that touch and carry the same lists. Merging after
 * the sort (not while walking the circle) also joins the two pieces on either side of point 0: the walk
 * starts with the wrapping sub-arc, so its top piece would otherwise stay apart from the last sub-arc.
 */
function coalesce (arcs: ArcChange[]): ArcChange[] {
  arcs.sort((a, b) => a.end - b.end)
  const out: ArcChange[] = []
  for (const a of arcs) {
    const last = out[out.length - 1]
    if (last !== undefined && last.end === a.start && sameList(last.before, a.before) && sameList(last.after, a.after)) {
      out[out.length - 1] = { start: last.start, end: a.end, before: last.before, after: last.after }
    } else {
      out.push(a)
    }
  }
  return out
}

/**
 * The ring's arcs where `self` is one of the `replicas` replicas, cut at point 0, sorted by end: what this
 * peer must hold. Arcs are the ring's own (not merged), so two peers with the same ring name them alike.
 */
export function replicaArcs (ring: HashRing, self: string, replicas: number): Arc[] {
  const out: Arc[] = []
  if (ring.size === 0 || !ring.has(self)) return out
  const list: string[] = []
  for (const r of ring.ranges()) {
    ring.preferenceListAt(r.end, replicas, list)
    if (list.includes(self)) out.push(...unwrap(r.start, r.end))
  }
  return out.sort((a, b) => a.end - b.end)
}

/** A set of disjoint non-wrapping arcs with a point lookup. Immutable. */
export class ArcSet {
  readonly #starts: Float64Array
  readonly #ends: Float64Array

  constructor (arcs: readonly Arc[]) {
    const sorted = arcs.slice().sort((a, b) => a.end - b.end)
    this.#starts = new Float64Array(sorted.length)
    this.#ends = new Float64Array(sorted.length)
    sorted.forEach((a, i) => {
      if (!(a.start < a.end)) throw new RangeError(`ArcSet: arcs must not wrap (start ${a.start} >= end ${a.end}); use unwrap()`)
      if (i > 0 && a.start < sorted[i - 1].end) throw new RangeError('ArcSet: arcs overlap')
      this.#starts[i] = a.start
      this.#ends[i] = a.end
    })
  }

  static readonly EMPTY = new ArcSet([])

  get size (): number { return this.#ends.length }

  /** The index of the arc holding `point`, or -1. */
  indexOf (point: number): number {
    const ends = this.#ends
    let lo = 0
    let hi = ends.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (ends[mid] < point) lo = mid + 1
      else hi = mid
    }
    return lo < ends.length && point > this.#starts[lo] ? lo : -1
  }

  has (point: number): boolean { return this.indexOf(point) >= 0 }

  arc (i: number): Arc { return { start: this.#starts[i], end: this.#ends[i] } }

  arcs (): Arc[] {
    const out: Arc[] = []
    for (let i = 0; i < this.#ends.length; i++) out.push(this.arc(i))
    return out
  }
}
