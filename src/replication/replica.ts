/**
 * One namespace on one peer: its local store, which arcs of the ring this peer replicates, the Merkle
 * digests of those arcs, the arcs still moving in (rebalancing) and the fill leases of the keys it is
 * primary for.
 *
 * Ownership is decided locally from this peer's ring view: a key is ours when this peer is in its
 * preference list (ranges.ts `replicaArcs`, one binary search per lookup). Writes and reads for keys we
 * do not own are refused with `not-owner` by the replica service, so that a coordinator with a stale
 * ring re-routes instead of writing to a peer that will drop the key.
 *
 * Digests are kept incrementally from the store's change hook (every write, eviction, expiry and
 * collection XORs the old entry out and the new one in) and rebuilt from scratch, lazily, after a ring
 * change (the arcs changed).
 *
 * Invariants: `digests()` equals a rebuild from the store's entries in owned arcs; an incoming arc lists
 * the sources it still waits for, and is dropped once none is left; what a store holds only changes
 * through `store` calls, so the hook sees every change.
 */
import { InvalidKeyError, InvalidOptionError, ValueTooLargeError } from '../errors.js'
import { keyPoint } from '../ring/hash.js'
import { createHashRing, type HashRing } from '../ring/hash-ring.js'
import { compareVersions, type Version } from '../storage/hlc.js'
import { storedKeyBytes, utf8Length } from '../storage/key.js'
import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES, ENTRY_OVERHEAD_BYTES, type EntryVersion } from '../storage/options.js'
import { LocalStore, type StoreEntry } from '../storage/store.js'
import type { ReplicationContext } from './context.js'
import { entryDigest, RangeDigests } from './digest.js'
import { FetchLeases } from './leases.js'
import type { NamespaceDefinition } from './namespace.js'
import { ArcSet, replicaArcs, type Arc } from './ranges.js'

/** A caller waiting at the primary for another caller's load: answered once with the outcome. */
export type FetchWaiter = (outcome: { kind: 'value', entry: StoreEntry } | { kind: 'not-found' } | { kind: 'wait-timeout' } | { kind: 'granted', leaseId: number }) => void

export interface IncomingArc extends Arc {
  /** Sources this arc still waits for (their transfer has not finished). */
  readonly pending: Set<string>
}

/** Orders two entries of one key: newer version first wins; equal versions are the same write. */
export function newer (a: StoreEntry | undefined, b: StoreEntry | undefined): StoreEntry | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return compareVersions(a.version, b.version) >= 0 ? a : b
}

/** True when a tombstone is older than the grace period (by its version's time): it may be collected anywhere. */
export function agedTombstone (e: { value: Uint8Array | null, version: Version } | { tombstone: boolean, version: Version }, nowMs: number, graceMs: number): boolean {
  const tomb = 'tombstone' in e ? e.tombstone : e.value === null
  return tomb && e.version.physical + graceMs <= nowMs
}

export class NamespaceReplica {
  readonly def: NamespaceDefinition
  readonly store: LocalStore
  readonly leases: FetchLeases<FetchWaiter>
  readonly #ctx: ReplicationContext
  #ring: HashRing
  #arcs: ArcSet = ArcSet.EMPTY
  #digests: RangeDigests | null = null
  #incoming: IncomingArc[] = []
  #incomingSet: ArcSet = ArcSet.EMPTY
  /** `ownsWithout` memo for the current ring: peer -> the arcs this peer would replicate without it. */
  readonly #without = new Map<string, ArcSet>()
  /** Digests rebuilt so far (ring changes), for stats. */
  digestRebuilds = 0

  constructor (def: NamespaceDefinition, ctx: ReplicationContext, hashSeed: number) {
    this.def = def
    this.#ctx = ctx
    this.#ring = createHashRing({ vnodes: 1 })
    this.leases = new FetchLeases<FetchWaiter>({ leaseMs: ctx.config.fetchLeaseMs })
    try {
      this.store = new LocalStore({
        clock: ctx.clock,
        writerId: ctx.self,
        hlc: ctx.hlc,
        maxBytes: def.maxBytes,
        eviction: def.eviction,
        defaultTtlMs: def.ttlMs > 0 ? def.ttlMs : undefined,
        tombstoneGraceMs: ctx.config.tombstoneGraceMs,
        hashSeed,
        onEntryChange: (key, before, after) => this.#changed(key, before, after)
      })
    } catch (err) {
      if (err instanceof InvalidOptionError) throw new InvalidOptionError(`namespace ${JSON.stringify(def.name)}: ${err.message}`)
      throw err
    }
  }

  get name (): string { return this.def.name }

  /** The id of the peer this replica is on. */
  get peerId (): string { return this.#ctx.self }

  /** The ring this replica's ownership was computed from. */
  get ring (): HashRing { return this.#ring }

  /** Where a key of this namespace lands on the ring. */
  point (key: string): number { return keyPoint(this.def.name, key) }

  /** Whether this peer replicates the key at `point` in its current view. */
  owns (point: number): boolean { return this.#arcs.has(point) }

  /**
   * Whether this peer would replicate the key at `point` once `peer` is gone from the ring: a peer that
   * hands its keys off before leaving already routes without itself, while the others still count it.
   * Memoised per (ring, peer): one ring build per leaving peer, not per key.
   */
  ownsWithout (peer: string, point: number): boolean {
    if (!this.#ring.has(peer)) return this.owns(point)
    let arcs = this.#without.get(peer)
    if (arcs === undefined) {
      arcs = new ArcSet(replicaArcs(this.#ring.withoutPeer(peer), this.#ctx.self, this.def.replicas))
      if (this.#without.size >= 4) this.#without.clear()
      this.#without.set(peer, arcs)
    }
    return arcs.has(point)
  }

  /** The key's replicas in the current view, primary first. */
  replicasAt (point: number): string[] {
    const out: string[] = []
    if (this.#ring.size > 0) this.#ring.preferenceListAt(point, this.def.replicas, out)
    return out
  }

  /** The arcs this peer replicates. */
  get arcs (): ArcSet { return this.#arcs }

  /** Takes a new ring: ownership changes, digests will be rebuilt when next needed. */
  setRing (ring: HashRing): void {
    if (ring === this.#ring) return
    this.#ring = ring
    this.#without.clear()
    this.#arcs = new ArcSet(replicaArcs(ring, this.#ctx.self, this.def.replicas))
    this.#digests = null
    this.#incoming = this.#incoming.filter((a) => this.#arcs.has(a.end))
    this.#incomingSet = new ArcSet(this.#incoming)
  }

  /** The digests of the owned arcs, rebuilt from the store when the ring changed since the last call. */
  digests (): RangeDigests {
    if (this.#digests === null) {
      const d = new RangeDigests(this.#arcs, this.#ctx.config.antiEntropyLeaves)
      for (const e of this.store.entries()) {
        d.toggle(this.point(e.key), entryDigest(e.key, e.version.physical, e.version.logical, e.version.writerId, e.value === null), 1)
      }
      this.#digests = d
      this.digestRebuilds++
    }
    return this.#digests
  }

  // ------------------------------------------------------------------------------------ moving ranges

  /** Records arcs that are moving in, with the sources their transfers come from. */
  addIncoming (arcs: readonly Arc[], sources: readonly string[]): void {
    if (sources.length === 0 || arcs.length === 0) return
    const kept = this.#incoming.filter((a) => !arcs.some((b) => b.start < a.end && a.start < b.end))
    for (const a of arcs) kept.push({ start: a.start, end: a.end, pending: new Set(sources) })
    this.#incoming = kept
    this.#incomingSet = new ArcSet(kept)
  }

  /** A source's transfer of these arcs ended (done or given up): they stop waiting for it. */
  sourceFinished (source: string, arcs: readonly Arc[]): void {
    let changed = false
    for (const a of this.#incoming) {
      if (arcs.some((b) => b.start < a.end && a.start < b.end) && a.pending.delete(source)) changed = true
    }
    if (!changed) return
    this.#incoming = this.#incoming.filter((a) => a.pending.size > 0)
    this.#incomingSet = new ArcSet(this.#incoming)
  }

  /** The sources a key's arc still waits for, when it is moving in; else undefined. */
  pendingSources (point: number): ReadonlySet<string> | undefined {
    if (this.#incoming.length === 0) return undefined
    const i = this.#incomingSet.indexOf(point)
    if (i < 0) return undefined
    const end = this.#incomingSet.arc(i).end
    return this.#incoming.find((a) => a.end === end)?.pending
  }

  get incomingArcs (): number { return this.#incoming.length }

  // ------------------------------------------------------------------------------------ local data

  /**
   * Refuses, before anything is sent, a key or value that no replica could store: an empty or
   * malformed key (a lone surrogate cannot cross the wire), a key over 4096 UTF-8 bytes, a value over
   * 1 MiB, an entry over the namespace's maxBytes. Throws InvalidKeyError or ValueTooLargeError.
   */
  checkWritable (key: string, value: Uint8Array | null): void {
    if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(typeof key === 'string' ? 'keys must not be empty' : `keys must be strings, got ${typeof key}`)
    if (!key.isWellFormed()) throw new InvalidKeyError('the key is not well-formed UTF-16 (it has a lone surrogate)')
    const keyUtf8 = utf8Length(key)
    if (keyUtf8 > DEFAULT_MAX_KEY_BYTES) throw new InvalidKeyError(`key is ${keyUtf8} bytes in UTF-8, over the limit of ${DEFAULT_MAX_KEY_BYTES}`)
    if (value === null) return
    if (!(value instanceof Uint8Array)) throw new TypeError('values must be Uint8Array (or go through a namespace codec)')
    if (value.byteLength > DEFAULT_MAX_VALUE_BYTES) throw new ValueTooLargeError('value', value.byteLength, DEFAULT_MAX_VALUE_BYTES)
    const weight = storedKeyBytes(key) + value.byteLength + ENTRY_OVERHEAD_BYTES
    if (weight > this.def.maxBytes) throw new ValueTooLargeError(`entry (key + value + ${ENTRY_OVERHEAD_BYTES} bytes overhead)`, weight, this.def.maxBytes)
  }

  /** The entry held for a key (tombstones included, expired ones not); a live value counts as a use. */
  readLocal (key: string): StoreEntry | undefined {
    const e = this.store.getEntry(key)
    if (e !== undefined && e.value !== null) this.store.get(key) // recency / frequency for eviction
    return e
  }

  /**
   * Applies a replicated entry (last-writer-wins): `replaced` when it overwrote a live value, `ok` when
   * it was stored over nothing or a tombstone, `stale` when a version at least as new was held.
   */
  applyEntry (entry: StoreEntry): 'ok' | 'replaced' | 'stale' {
    const before = this.store.getEntry(entry.key)
    if (!this.store.apply(entry)) return 'stale'
    this.leases.written(entry.key)
    return before !== undefined && before.value !== null ? 'replaced' : 'ok'
  }

  #changed (key: string, before: EntryVersion | null, after: EntryVersion | null): void {
    const d = this.#digests
    if (d === null) return
    const p = this.point(key)
    if (before !== null) d.toggle(p, entryDigest(key, before.physical, before.logical, before.writerId, before.tombstone), -1)
    if (after !== null) d.toggle(p, entryDigest(key, after.physical, after.logical, after.writerId, after.tombstone), 1)
  }
}
