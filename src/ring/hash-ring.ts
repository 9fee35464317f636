/**
 * HashRing: consistent hashing with virtual nodes (Karger et al. 1997; Dynamo's preference lists, 2007)
 * and bounded loads (Mirrokni, Thorup, Zadimoghaddam, SODA 2018) applied to the ring's arcs.
 *
 * Every peer places `vnodes` points on the circle [0, 2^52), hashed from its id (see hash.ts). The arc
 * ending at each point gets an owner: the point's own peer, unless that would put the peer over
 * `loadFactor` times its fair share of the ring, in which case the arc goes to the owner of the next
 * point clockwise that has room (placement.ts, `assignArcs`). A key's point is the hash of its namespace
 * and key; the key belongs to the owner of the arc it falls in, and its preference list is the first
 * `replicas` *distinct* arc owners met walking clockwise from there.
 *
 * Why bounded loads: with independent random points a peer's share is ~Gamma(vnodes)/vnodes of its fair
 * share, so at 1,000 peers x 256 vnodes the busiest peer owns ~1.23x the mean (1.19–1.27 over peer sets),
 * and only 512–1,024 vnodes per peer (2–4x the points) would bring that under 1.2. Capping loads gets
 * there at 256 vnodes and costs nothing per lookup (an owner per arc instead of per point). Arcs are
 * assigned whole, so data still moves, repairs and is checksummed per arc between neighbouring points.
 *
 * Invariants:
 * - Points are sorted by (point, peer id): equal points (a 52-bit collision, ~1e-5 for a 1,000-peer ring)
 *   are ordered by peer id, so every peer builds the same ring from the same member set.
 * - The ring depends only on the set of peers, `vnodes` and `loadFactor`, never on the order peers were
 *   added (`checksum()` identifies it): the arc assignment is one deterministic pass over the sorted points.
 * - No peer owns more than `loadFactor` / peers of the ring, except by an arc that fits under no peer's
 *   cap (possible only with few vnodes or a loadFactor near 1); every peer owns at least one arc.
 * - Adding a peer moves keys mostly to that peer, removing one mostly moves its own keys: the cap shrinks
 *   or grows with the peer count and the pass re-decides which arcs overflow, so a few arcs of peers near
 *   the cap move between other peers too. At the defaults, a join into 100 peers moves ~1 % of the hash
 *   space to the joiner and 0.004–0.03 % elsewhere (under 3 % of what moves), a leave up to ~0.02 % besides
 *   the leaver's own (test/bench/ring.ts, "choosing loadFactor"; test/ring/hash-ring.test.ts). Lower
 *   factors and fewer vnodes move more (more peers sit at the cap): ~0.07 % at 1.1, ~0.2 % at 1.05;
 *   at 128 vnodes ~9 % of the keys a join moves go elsewhere. With `loadFactor: Infinity` (plain
 *   consistent hashing) a join moves keys only to the joiner, a leave only the leaver's keys, and a
 *   preference list changes only by the peer that came or went.
 * - Lookups allocate nothing: `primary` costs one hash and one bucketed binary search, the `...Into`
 *   and `...At` variants write into the caller's array.
 *
 * A HashRing is immutable: `withPeer`, `withoutPeer` and `withPeerSet` return a new ring and share
 * nothing mutable with the old one. Rebalancing needs the old and the new ring side by side (which
 * ranges changed owner), an operation in flight keeps the snapshot it started with, and membership
 * changes are rare next to lookups, so paying O(points) per change (a merge, no re-hash of existing
 * peers) for never having a ring change under a reader is a good trade. Immutability also lets peers of
 * one process that see the same members share one ring (ring-cache.ts).
 */
import { InvalidOptionError } from '../errors.js'
import { keyPoint, RING_SIZE, vnodePoint, xxh64 } from './hash.js'
import { arcLength, assignArcs, bucketBits, buildBucketIndex, successorIndex } from './placement.js'

/** Default points per peer: see test/bench/ring.ts (load spread vs memory and build time). */
export const DEFAULT_VNODES = 256
export const MAX_VNODES = 4096
/** Default bound on a peer's share, in multiples of the mean: see test/bench/ring.ts (spread vs keys moved). */
export const DEFAULT_LOAD_FACTOR = 1.15

export interface HashRingInit {
  /**
   * Virtual nodes (points) per peer, an integer in 1..4096. The spread of the peers' shares of the ring
   * shrinks like 1/sqrt(vnodes) (at 256, a typical peer owns within ~6 % of its fair share); each point
   * costs ~17 bytes and one hash when the peer joins.
   * @default 256
   */
  vnodes?: number
  /**
   * Bounded loads: no peer owns more than `loadFactor` times the mean share of the ring (1 / peers). An
   * arc that would take its peer past that goes to the next peer clockwise with room. A number > 1:
   * lower evens out the load more but moves more keys between peers other than the one joining or
   * leaving; `Infinity` turns it off (plain consistent hashing, where a peer's share varies by
   * ~1/sqrt(vnodes) and the busiest of 1,000 peers owns ~1.23x the mean at 256 vnodes). All peers of a
   * mesh must use the same value (it is part of `checksum()`).
   * @default 1.15
   */
  loadFactor?: number
  /** Peer ids on the ring from the start (order does not matter, duplicates are ignored). @default [] */
  peers?: Iterable<string>
}

/** A clockwise arc (start, end] of the ring owned by the vnode at `end`; `start === end` is the whole ring. */
export interface RingRange {
  /** Exclusive start point. */
  start: number
  /** Inclusive end point: a vnode's point. */
  end: number
  /** The peer the arc is assigned to (the first entry of its preference list); not always the vnode's. */
  owner: string
}

export function createHashRing (init: HashRingInit = {}): HashRing {
  return HashRing.create(init)
}

export class HashRing {
  /** Points per peer. */
  readonly vnodes: number
  /** Bound on a peer's share in multiples of the mean (Infinity: unbounded). */
  readonly loadFactor: number
  /** Peer ids in ascending order; an owner index points into this. */
  readonly #peers: readonly string[]
  readonly #peerIndex: Map<string, number>
  /** Sorted by (point, owner): the ring. */
  readonly #points: Float64Array
  /** `#owners[i]` is the index in `#peers` of the peer whose vnode is at `#points[i]`. */
  readonly #owners: Uint32Array
  /**
   * `#arcOwners[i]` is the index in `#peers` of the peer the arc ending at `#points[i]` is assigned to:
   * what lookups read. The very same array as `#owners` when loads are unbounded.
   */
  readonly #arcOwners: Uint32Array
  readonly #buckets: Uint32Array
  readonly #bucketWidth: number
  /** Scratch for distinct-peer walks: `#seen[p] === #stamp` means peer p is already in the list. */
  readonly #seen: Uint32Array
  #stamp = 0
  #checksum: string | undefined

  private constructor (vnodes: number, loadFactor: number, peers: readonly string[], points: Float64Array, owners: Uint32Array) {
    this.vnodes = vnodes
    this.loadFactor = loadFactor
    this.#peers = Object.freeze(peers.slice())
    this.#peerIndex = new Map(peers.map((p, i) => [p, i]))
    this.#points = points
    this.#owners = owners
    this.#arcOwners = assignArcs(points, owners, peers.length, loadFactor)
    const bits = bucketBits(points.length)
    this.#buckets = buildBucketIndex(points, bits)
    this.#bucketWidth = RING_SIZE / 2 ** bits
    this.#seen = new Uint32Array(peers.length)
  }

  /** Builds a ring; throws InvalidOptionError on a bad option. */
  static create (init: HashRingInit = {}): HashRing {
    const vnodes = init.vnodes ?? DEFAULT_VNODES
    if (!Number.isInteger(vnodes) || vnodes < 1 || vnodes > MAX_VNODES) {
      throw new InvalidOptionError(`vnodes must be an integer from 1 to ${MAX_VNODES}, got ${String(vnodes)}; leave it unset for the default of ${DEFAULT_VNODES}`)
    }
    const loadFactor = init.loadFactor ?? DEFAULT_LOAD_FACTOR
    if (typeof loadFactor !== 'number' || !(loadFactor > 1)) {
      throw new InvalidOptionError(`loadFactor must be a number greater than 1 (a peer may own that many times the mean share), got ${String(loadFactor)}; use Infinity to turn bounded loads off, or leave it unset for the default of ${DEFAULT_LOAD_FACTOR}`)
    }
    const empty = new HashRing(vnodes, loadFactor, [], new Float64Array(0), new Uint32Array(0))
    return init.peers === undefined ? empty : empty.withPeerSet(init.peers)
  }

  /** Number of peers. */
  get size (): number { return this.#peers.length }

  /** Number of points (vnodes of all peers). */
  get pointCount (): number { return this.#points.length }

  /** Bytes held by the ring's typed arrays (points, owners, arc owners, bucket index, scratch): its memory cost. */
  get memoryBytes (): number {
    const arcOwners = this.#arcOwners === this.#owners ? 0 : this.#arcOwners.byteLength
    return this.#points.byteLength + this.#owners.byteLength + arcOwners + this.#buckets.byteLength + this.#seen.byteLength
  }

  /** Peer ids in ascending order. */
  peers (): readonly string[] { return this.#peers }

  has (peer: string): boolean { return this.#peerIndex.has(peer) }

  /** This ring plus `peer` (the same ring if it is already there). */
  withPeer (peer: string): HashRing {
    return this.has(peer) ? this : this.withPeerSet([...this.#peers, peer])
  }

  /** This ring without `peer` (the same ring if it is not there). */
  withoutPeer (peer: string): HashRing {
    return this.has(peer) ? this.withPeerSet(this.#peers.filter((p) => p !== peer)) : this
  }

  /**
   * A ring of exactly these peers (e.g. the alive members of a membership view). Points of peers that
   * stay are reused, only newcomers are hashed: O(points + new points * log), plus one pass to assign
   * the arcs afresh (the cap depends on the peer count).
   */
  withPeerSet (peers: Iterable<string>): HashRing {
    const next = [...new Set(peers)]
    for (const p of next) {
      if (typeof p !== 'string' || p.length === 0) throw new InvalidOptionError(`a peer id must be a non-empty string, got ${JSON.stringify(p)}`)
    }
    next.sort(comparePeerIds)
    if (next.length === this.#peers.length && next.every((p, i) => p === this.#peers[i])) return this

    // Where each old owner index goes (-1: removed). Removing and inserting in a sorted list keeps the
    // relative order of the peers that stay, so the old (point, owner) order stays sorted after remapping.
    const nextIndex = new Map(next.map((p, i) => [p, i]))
    const remap = new Int32Array(this.#peers.length)
    let kept = 0
    for (let i = 0; i < this.#peers.length; i++) {
      const j = nextIndex.get(this.#peers[i])
      remap[i] = j ?? -1
      if (j !== undefined) kept++
    }
    const oldPoints = new Float64Array(kept * this.vnodes)
    const oldOwners = new Uint32Array(kept * this.vnodes)
    const points = this.#points
    const owners = this.#owners
    let n = 0
    for (let i = 0; i < points.length; i++) {
      const owner = remap[owners[i]]
      if (owner < 0) continue
      oldPoints[n] = points[i]
      oldOwners[n] = owner
      n++
    }

    const parts: SortedPoints[] = [{ points: oldPoints, owners: oldOwners }]
    for (let i = 0; i < next.length; i++) {
      if (!this.#peerIndex.has(next[i])) parts.push(peerPoints(next[i], i, this.vnodes))
    }
    const merged = mergeAll(parts)
    return new HashRing(this.vnodes, this.loadFactor, next, merged.points, merged.owners)
  }

  /** Where a key of a namespace lands on the ring (see hash.ts). */
  keyPoint (namespace: string, key: string | Uint8Array): number {
    return keyPoint(namespace, key)
  }

  /** The peer that owns a key (first of its preference list); undefined on an empty ring. */
  primary (namespace: string, key: string | Uint8Array): string | undefined {
    if (this.#points.length === 0) return undefined
    const i = successorIndex(this.#points, this.#buckets, this.#bucketWidth, keyPoint(namespace, key))
    return this.#peers[this.#arcOwners[i]]
  }

  /** The peer that owns a point; undefined on an empty ring. */
  primaryAt (point: number): string | undefined {
    checkPoint(point)
    if (this.#points.length === 0) return undefined
    return this.#peers[this.#arcOwners[successorIndex(this.#points, this.#buckets, this.#bucketWidth, point)]]
  }

  /**
   * The first `replicas` distinct arc owners clockwise from the key: its replicas, primary first. Fewer when
   * the ring has fewer peers (then all of them). Allocates the returned array; see `preferenceListInto`.
   */
  preferenceList (namespace: string, key: string | Uint8Array, replicas: number): string[] {
    const out: string[] = []
    this.preferenceListAt(keyPoint(namespace, key), replicas, out)
    return out
  }

  /** `preferenceList` written into `out` (truncated to the count, which is returned): no allocation. */
  preferenceListInto (namespace: string, key: string | Uint8Array, replicas: number, out: string[]): number {
    return this.preferenceListAt(keyPoint(namespace, key), replicas, out)
  }

  /** The preference list of a point (e.g. a range's `end`), written into `out`; returns the count. */
  preferenceListAt (point: number, replicas: number, out: string[]): number {
    checkReplicas(replicas)
    checkPoint(point)
    const points = this.#points
    const n = points.length
    const want = Math.min(replicas, this.#peers.length)
    if (want === 0) { out.length = 0; return 0 }
    const stamp = this.#nextStamp()
    const seen = this.#seen
    const owners = this.#arcOwners
    let i = successorIndex(points, this.#buckets, this.#bucketWidth, point)
    let count = 0
    // Every peer owns at least one arc (see assignArcs), so a full turn always finds `want` distinct peers.
    for (let step = 0; step < n && count < want; step++) {
      const owner = owners[i]
      if (seen[owner] !== stamp) {
        seen[owner] = stamp
        out[count++] = this.#peers[owner]
      }
      if (++i === n) i = 0
    }
    // Setting `length` costs a runtime call (~50 ns) even when unchanged; skip it when it already fits.
    if (out.length !== count) out.length = count
    return count
  }

  /** Every arc of the ring with its assigned owner, in clockwise order from point 0. Empty for an empty ring. */
  ranges (): RingRange[] {
    return rangesOfPoints(this.#points, this.#arcOwners, this.#peers)
  }

  /** The arcs one peer owns, clockwise from point 0. */
  rangesOf (peer: string): RingRange[] {
    return this.ranges().filter((r) => r.owner === peer)
  }

  /** The arc that contains `point` (an integer in [0, 2^52)); undefined on an empty ring. */
  rangeOf (point: number): RingRange | undefined {
    checkPoint(point)
    const points = this.#points
    const n = points.length
    if (n === 0) return undefined
    // The successor is the first of its run of equal points, so the point before it is strictly smaller
    // (or, wrapping, the largest point, which equals it only when the ring has one distinct point).
    const i = successorIndex(points, this.#buckets, this.#bucketWidth, point)
    const start = points[i === 0 ? n - 1 : i - 1]
    return { start, end: points[i], owner: this.#peers[this.#arcOwners[i]] }
  }

  /** The fraction of the ring (hence of uniformly spread keys) each peer owns; the values sum to 1. */
  shares (): Map<string, number> {
    const out = new Map<string, number>(this.#peers.map((p) => [p, 0]))
    for (const r of this.ranges()) out.set(r.owner, out.get(r.owner)! + arcLength(r.start, r.end) / RING_SIZE)
    return out
  }

  /**
   * Identifies the ring: 16 hex digits of xxh64 over the placement scheme, `vnodes`, `loadFactor` and the
   * sorted peer ids. Two rings with the same checksum place every key identically, however they were built.
   */
  checksum (): string {
    this.#checksum ??= ringChecksum(this.vnodes, this.loadFactor, this.#peers)
    return this.#checksum
  }

  #nextStamp (): number {
    if (this.#stamp === 0xffffffff) {
      this.#seen.fill(0)
      this.#stamp = 0
    }
    return ++this.#stamp
  }
}

interface SortedPoints { points: Float64Array, owners: Uint32Array }

/** Ascending peer-id order (UTF-16 code units): the tie-break for equal points and the owner index order. */
export function comparePeerIds (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The checksum of a ring with these (sorted) peers; see `HashRing.checksum`. Without bounded loads the
 * text is the one plain rings always had (the placement is the same); with them it names the scheme and
 * the factor (shortest round-trip decimal, the same in every JavaScript engine).
 */
export function ringChecksum (vnodes: number, loadFactor: number, sortedPeers: readonly string[]): string {
  let text = loadFactor === Infinity
    ? `meshcache-ring/1 xxh64-top52 vnodes=${vnodes}`
    : `meshcache-ring/2 xxh64-top52 vnodes=${vnodes} bounded-arcs load-factor=${loadFactor}`
  for (const p of sortedPeers) text += ` ${p.length}:${p}`
  return xxh64(text).toString(16).padStart(16, '0')
}

/** One peer's points, sorted (all with the same owner). */
function peerPoints (peer: string, owner: number, vnodes: number): SortedPoints {
  const points = new Float64Array(vnodes)
  for (let i = 0; i < vnodes; i++) points[i] = vnodePoint(peer, i)
  points.sort()
  return { points, owners: new Uint32Array(vnodes).fill(owner) }
}

/**
 * The arcs of a ring given as points sorted by (point, owner) and the owner of each arc: one arc per
 * distinct point, owned by the arc owner of the first vnode of a run of equal points (the others end an
 * empty arc and are left out).
 */
export function rangesOfPoints (points: Float64Array, owners: Uint32Array, peers: readonly string[]): RingRange[] {
  const n = points.length
  const out: RingRange[] = []
  if (n === 0) return out
  let previous = points[n - 1]
  for (let i = 0; i < n; i++) {
    if (i > 0 && points[i] === points[i - 1]) continue
    out.push({ start: previous, end: points[i], owner: peers[owners[i]] })
    previous = points[i]
  }
  // With one distinct point the loop made (p, p], the whole ring, as it should.
  return out
}

/** Merges two arrays sorted by (point, owner) into one. */
export function mergeSorted (a: SortedPoints, b: SortedPoints): SortedPoints {
  const { points: ap, owners: ao } = a
  const { points: bp, owners: bo } = b
  const na = ap.length
  const nb = bp.length
  const points = new Float64Array(na + nb)
  const owners = new Uint32Array(na + nb)
  let i = 0
  let j = 0
  let k = 0
  while (i < na && j < nb) {
    const pa = ap[i]
    const pb = bp[j]
    if (pa < pb || (pa === pb && ao[i] < bo[j])) {
      points[k] = pa; owners[k++] = ao[i++]
    } else {
      points[k] = pb; owners[k++] = bo[j++]
    }
  }
  // Whole-run copies for the tails (typically most of the old ring after the last new point).
  if (i < na) { points.set(ap.subarray(i), k); owners.set(ao.subarray(i), k) }
  if (j < nb) { points.set(bp.subarray(j), k); owners.set(bo.subarray(j), k) }
  return { points, owners }
}

/** Pairwise merging: O(total * log(parts)). */
function mergeAll (parts: SortedPoints[]): SortedPoints {
  while (parts.length > 1) {
    const next: SortedPoints[] = []
    for (let i = 0; i < parts.length; i += 2) next.push(i + 1 < parts.length ? mergeSorted(parts[i], parts[i + 1]) : parts[i])
    parts = next
  }
  return parts[0]
}

function checkReplicas (replicas: number): void {
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new InvalidOptionError(`replicas must be an integer >= 1, got ${String(replicas)}; use 1 for the primary alone (more than the number of peers is fine: all peers are returned)`)
  }
}

function checkPoint (point: number): void {
  if (!(point >= 0 && point < RING_SIZE)) throw new RangeError(`a ring point is a number in [0, 2^52), got ${point}`)
}
