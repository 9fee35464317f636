/**
 * RingCache: shares immutable HashRings between the peers of one process that see the same members.
 *
 * A ring is a pure function of (peer set, vnodes, loadFactor), and a HashRing never changes, so two peers with the
 * same membership view can hold the very same object. In a 1,000-peer simulation, or a process that
 * embeds many peers, every membership change would otherwise be re-applied once per peer (~2–5 ms each at
 * 1,000 peers x 256 vnodes); through the cache it is built once per distinct view. A miss is built from
 * the most recently used ring (usually the previous view, so only the change is hashed and merged).
 *
 * Invariants: `ring(peers)` returns a ring of exactly that set of peers (checked on every hit, so a 64-bit
 * checksum collision can cost a rebuild, never a wrong ring); at most `maxRings` rings are kept, least
 * recently used dropped first.
 */
import { InvalidOptionError } from '../errors.js'
import { comparePeerIds, createHashRing, DEFAULT_LOAD_FACTOR, DEFAULT_VNODES, ringChecksum, type HashRing } from './hash-ring.js'

export interface RingCacheInit {
  /** Points per peer of every ring in the cache (see `HashRingInit.vnodes`). @default 256 */
  vnodes?: number
  /** Load bound of every ring in the cache (see `HashRingInit.loadFactor`). @default 1.15 */
  loadFactor?: number
  /** Most rings kept; the least recently used is dropped past it. An integer >= 1. @default 16 */
  maxRings?: number
}

export function createRingCache (init: RingCacheInit = {}): RingCache {
  return new RingCache(init)
}

export class RingCache {
  readonly vnodes: number
  readonly loadFactor: number
  readonly maxRings: number
  /** Rings by checksum, least recently used first. */
  readonly #rings = new Map<string, HashRing>()
  #hits = 0
  #misses = 0

  constructor (init: RingCacheInit = {}) {
    const maxRings = init.maxRings ?? 16
    if (!Number.isInteger(maxRings) || maxRings < 1) {
      throw new InvalidOptionError(`maxRings must be an integer >= 1, got ${String(maxRings)}; leave it unset for the default of 16`)
    }
    this.maxRings = maxRings
    // createHashRing validates the ring options and throws the same InvalidOptionError a ring would.
    const empty = createHashRing({ vnodes: init.vnodes ?? DEFAULT_VNODES, loadFactor: init.loadFactor ?? DEFAULT_LOAD_FACTOR })
    this.vnodes = empty.vnodes
    this.loadFactor = empty.loadFactor
  }

  /** Number of rings held. */
  get size (): number { return this.#rings.size }

  /** Lookups answered from the cache and lookups that built a ring. */
  get stats (): { hits: number, misses: number } { return { hits: this.#hits, misses: this.#misses } }

  /** The ring of exactly these peers (order and duplicates do not matter), shared with other callers. */
  ring (peers: Iterable<string>): HashRing {
    const sorted = [...new Set(peers)].sort(comparePeerIds)
    const key = ringChecksum(this.vnodes, this.loadFactor, sorted)
    const cached = this.#rings.get(key)
    if (cached !== undefined && samePeers(cached.peers(), sorted)) {
      this.#hits++
      this.#rings.delete(key)
      this.#rings.set(key, cached)
      return cached
    }
    this.#misses++
    let base: HashRing | undefined
    for (const r of this.#rings.values()) base = r // the most recently used one
    const ring = base !== undefined ? base.withPeerSet(sorted) : createHashRing({ vnodes: this.vnodes, loadFactor: this.loadFactor, peers: sorted })
    this.#rings.delete(key)
    this.#rings.set(key, ring)
    while (this.#rings.size > this.maxRings) this.#rings.delete(this.#rings.keys().next().value!)
    return ring
  }
}

function samePeers (a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
