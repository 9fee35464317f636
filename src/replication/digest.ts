/**
 * Anti-entropy digests: a Merkle tree per ring arc, kept up to date incrementally.
 *
 * Follows Riak's active anti-entropy "tictac" trees (Martin Sumner, 2017) and Dynamo's Merkle trees per
 * key range: for every arc this peer replicates, `leavesPerArc` leaf hashes, each the XOR of the 64-bit
 * digests of the entries whose key point falls in that leaf (`point mod leavesPerArc`). XOR makes the
 * tree incremental and order-free: a write XORs the old entry's digest out and the new one in, in O(1),
 * with no rehash of anything else; the arc's root is a positional hash of its leaves, recomputed lazily
 * when a leaf changed. Two replicas of an arc compare roots, then the leaves of the arcs that differ,
 * then exchange the (key, version) lists of the leaves that differ — only those entries cross the wire.
 *
 * An entry's digest covers its key, version and tombstone flag (not its value: a version names one value
 * everywhere, because versions are unique per write). Arcs are the ring's own arcs (cut at point 0, see
 * ranges.ts), so two peers with the same ring name them alike.
 *
 * Invariants: a leaf's lanes equal the XOR of the digests of exactly the entries `update`d into it and
 * not XORed out since (`build` from scratch gives the same lanes as any sequence of updates ending with
 * the same entries); `root(i)` always reflects the current leaves. Pure: no clock, no I/O.
 */
import type { ArcSet } from './ranges.js'

export const DEFAULT_LEAVES_PER_ARC = 32

/** Two 32-bit lanes of a 64-bit digest. */
export interface Digest64 { hi: number, lo: number }

function mix32 (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function step (h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, 0x1b873593)
  h ^= k
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

function hashString (h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = step(h, s.charCodeAt(i))
  return step(h, s.length)
}

function hashNumber (h: number, n: number): number {
  // physical times are < 2^53: split into two 32-bit words exactly
  const lo = n % 4294967296
  return step(step(h, lo | 0), ((n - lo) / 4294967296) | 0)
}

const SEED_HI = 0x9747b28c
const SEED_LO = 0x1b873593

/** The 64-bit digest of one entry: key, version (physical, logical, writer) and tombstone flag. */
export function entryDigest (key: string, physical: number, logical: number, writerId: string, tombstone: boolean): Digest64 {
  let hi = hashString(SEED_HI, key)
  let lo = hashString(SEED_LO, key)
  hi = hashString(hashNumber(step(hi, logical), physical), writerId)
  lo = hashString(hashNumber(step(lo, logical ^ 0x5bd1e995), physical), writerId)
  const t = tombstone ? 1 : 2
  return { hi: mix32(step(hi, t)), lo: mix32(step(lo, t + 2)) }
}

export class RangeDigests {
  readonly arcs: ArcSet
  readonly leavesPerArc: number
  /** Lanes: leaf j of arc i is at [(i * L + j) * 2] (hi) and + 1 (lo). */
  readonly #lanes: Uint32Array
  readonly #roots: Uint32Array
  readonly #dirty: Uint8Array
  /** Entries currently XORed in, for stats and tests. */
  #entries = 0

  constructor (arcs: ArcSet, leavesPerArc = DEFAULT_LEAVES_PER_ARC) {
    if (!Number.isInteger(leavesPerArc) || leavesPerArc < 1 || leavesPerArc > 1024) throw new RangeError(`leavesPerArc must be an integer in 1..1024, got ${leavesPerArc}`)
    this.arcs = arcs
    this.leavesPerArc = leavesPerArc
    this.#lanes = new Uint32Array(arcs.size * leavesPerArc * 2)
    this.#roots = new Uint32Array(arcs.size * 2)
    this.#dirty = new Uint8Array(arcs.size).fill(1)
  }

  get entryCount (): number { return this.#entries }

  /** Bytes held by the lanes and roots. */
  get memoryBytes (): number { return this.#lanes.byteLength + this.#roots.byteLength + this.#dirty.byteLength }

  /** The leaf of a point inside its arc. */
  leafOf (point: number): number { return point % this.leavesPerArc }

  /**
   * XORs a digest in or out (the same call does both) at `point`; `sign` +1 for in, -1 for out, only for
   * the entry count. Returns false when the point is in none of the arcs (the entry is not tracked).
   */
  toggle (point: number, d: Digest64, sign: 1 | -1): boolean {
    const i = this.arcs.indexOf(point)
    if (i < 0) return false
    const at = (i * this.leavesPerArc + this.leafOf(point)) * 2
    this.#lanes[at] ^= d.hi
    this.#lanes[at + 1] ^= d.lo
    this.#dirty[i] = 1
    this.#entries += sign
    return true
  }

  /** The root of arc `i`: a positional hash of its leaves. */
  root (i: number): Digest64 {
    if (this.#dirty[i] === 1) {
      const L = this.leavesPerArc
      let hi = SEED_HI
      let lo = SEED_LO
      for (let j = 0; j < L; j++) {
        const at = (i * L + j) * 2
        hi = step(hi, this.#lanes[at] ^ j)
        lo = step(lo, this.#lanes[at + 1] ^ (j << 8))
      }
      this.#roots[i * 2] = mix32(step(hi, L))
      this.#roots[i * 2 + 1] = mix32(step(lo, L))
      this.#dirty[i] = 0
    }
    return { hi: this.#roots[i * 2], lo: this.#roots[i * 2 + 1] }
  }

  /** A copy of arc `i`'s leaf lanes: 2 numbers (hi, lo) per leaf. */
  leaves (i: number): Uint32Array {
    const L = this.leavesPerArc
    return this.#lanes.slice(i * L * 2, (i + 1) * L * 2)
  }

  /** Leaves of arc `i` that differ from `other` (another replica's lanes for the same arc). */
  differingLeaves (i: number, other: Uint32Array): number[] {
    const L = this.leavesPerArc
    const out: number[] = []
    if (other.length !== L * 2) { for (let j = 0; j < L; j++) out.push(j); return out }
    const base = i * L * 2
    for (let j = 0; j < L; j++) {
      if (this.#lanes[base + j * 2] !== other[j * 2] || this.#lanes[base + j * 2 + 1] !== other[j * 2 + 1]) out.push(j)
    }
    return out
  }
}
