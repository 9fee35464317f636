/**
 * LocalStore: the local store of one namespace on one peer. Byte-bounded, TTL and max-idle expiry,
 * W-TinyLFU or LRU eviction, every entry versioned with a hybrid logical clock, deletes kept as tombstones.
 *
 * Layout (chosen for memory: ~75 bytes per entry beyond key and value, where a Map of objects costs 200+):
 * - Metadata: one 56-byte record per entry slot, an Int32Array and a Float64Array viewing the same
 *   ArrayBuffer (fields below), grown by doubling; free slots form a list.
 * - Index: an open-addressing table (Int32Array of slot ids, linear probing, power-of-two size, load at
 *   most 0.7, backward-shift deletion) on a 32-bit hash of the key's UTF-16 code units (`key.ts`). Keys
 *   are compared byte by byte only when the stored hash matches.
 * - Bytes: keys and values live in a log-structured arena (`arena.ts`); `get` returns a view into it that
 *   never changes afterwards, even when the entry is overwritten or the arena compacts.
 *
 * Eviction: W-TinyLFU as in Caffeine's BoundedLocalCache (Einziger, Friedman, Manes: "TinyLFU", 2017): a
 * window LRU of ~1% admits every new entry; entries leaving the window become candidates for the main space,
 * a segmented LRU (probation 20% / protected 80%); a candidate enters only if the frequency sketch
 * (`frequency-sketch.ts`) rates it above the probation victim, otherwise the candidate itself is evicted.
 * Or plain LRU. Both count against `maxBytes` and optionally `maxEntries`.
 *
 * Invariants (checked by `assertInvariants()`):
 * - `bytes` = Σ over entries of key bytes + value bytes + ENTRY_OVERHEAD_BYTES (tombstones: no value), and
 *   after every public call `bytes <= maxBytes` and entries <= `maxEntries`.
 * - every entry that leaves the store is reported once to `onRemove` with its reason and counted, except
 *   tombstones (which hold no value) when their grace period ends;
 * - a write refused for its size changes nothing;
 * - a version held for a key only grows (last-writer-wins on `(physical, logical, writerId)`); local writes
 *   use the HLC, which has seen every applied version, so they are always newest.
 *
 * Time: `clock.now()` only, read lazily (a `get` of an entry without TTL reads no clock). Expired entries
 * are removed when touched, and by an incremental sweep: a cursor over the slots advanced a few steps on
 * every write, every 32nd read and by `sweep(maxWork)`. Tombstones are kept in deletion order and collected
 * from the oldest once their grace has passed. No timers.
 */
import { InvalidKeyError, InvalidOptionError, MeshcacheError, ValueTooLargeError } from '../errors.js'
import type { Clock } from '../env/clock.js'
import { Arena, RECORD_HEADER_BYTES, type ArenaOwner } from './arena.js'
import { FrequencySketch } from './frequency-sketch.js'
import { assertValidVersion, compareWriterIds, InvalidVersionError, MAX_LOGICAL, type Hlc, type Version } from './hlc.js'
import { hashKey, isLatin1 } from './key.js'
import {
  ENTRY_OVERHEAD_BYTES, protectedMaximum, resolveInit, windowMaximum,
  type EvictionPolicy, type LocalStoreInit, type RemovalReason
} from './options.js'

/** A stored entry as replication sees it: a value or a tombstone (`value: null`), its version and expiry. */
export interface StoreEntry {
  key: string
  /** The value, or null for a tombstone (a deleted key). */
  value: Uint8Array | null
  version: Version
  /** Absolute expiry in milliseconds since the epoch; absent when the entry does not expire. */
  expiresAt?: number
}

export interface SetOptions {
  /** Time to live in milliseconds (> 0, or Infinity for none). @default the store's `defaultTtlMs` */
  ttlMs?: number
}

export interface ScanOptions {
  /** Only keys starting with this string. */
  prefix?: string
  /** Only keys this regular expression matches (tested against the whole key). */
  pattern?: RegExp
  /** Matches to skip, in key order. @default 0 */
  offset?: number
  /** Most matches to return. @default Infinity */
  limit?: number
}

export interface ScanResult {
  /** The page of matches, sorted by key (UTF-16 code unit order). */
  items: Array<{ key: string, value: Uint8Array }>
  /** Number of live keys that match, before offset and limit. */
  total: number
}

export interface StoreStats {
  /** `get`s that found a live value (each key of `getMany` counts). */
  hits: number
  /** `get`s that found nothing. */
  misses: number
  /** Successful local `set`s. */
  sets: number
  /** Local `delete`s that removed a live value. */
  deletes: number
  /** Replicated entries stored by `apply`. */
  applied: number
  /** Replicated entries ignored by `apply` because we held a version at least as new. */
  applyStale: number
  /** Writes refused for their size (`ValueTooLargeError`). */
  rejected: number
  /** Entries removed, by reason (`onRemove` saw exactly these). */
  evictions: Record<RemovalReason, number>
  /** Same as `evictions.expire`. */
  expirations: number
  /** New entries that W-TinyLFU refused to admit (included in `evictions.evict`). */
  admissionRejections: number
  /** Tombstones collected after their grace period. */
  tombstonesCollected: number
  /** Tombstones dropped before their grace ended because the store was full of them. */
  tombstonesDropped: number
  /** Live entries (values, expired ones not yet swept included). */
  entries: number
  /** Tombstones held. */
  tombstones: number
  /** Accounted bytes (see `ENTRY_OVERHEAD_BYTES`). */
  bytes: number
  maxBytes: number
  /** Entry bound, or null when only bytes bound the store. */
  maxEntries: number | null
  /** Bytes of arena chunks held, and the live part of them. */
  arenaBytes: number
  arenaLiveBytes: number
  /** Bytes the arena's compactor has relocated so far. */
  compactedBytes: number
  eviction: EvictionPolicy
}

// Record layout: 14 int32 fields = 7 float64 fields = 56 bytes per slot.
const I_STRIDE = 14
const F_STRIDE = 7
const HASH = 0
const PREV = 1
const NEXT = 2
const CHUNK = 3
const OFFSET = 4
const VLEN = 5
const INFO = 6 // key bytes (16 bits) | flags | queue
const VER = 7 // HLC logical (16 bits) | writer index (16 bits)
const EXPIRES_AT = 4 // float64 field: TTL deadline (Infinity: none); for a tombstone, the end of its grace
const PHYSICAL = 5 // float64 field: HLC physical time
const IDLE_UNTIL = 6 // float64 field: max-idle deadline (Infinity: none)

const KEY_BYTES = 0xffff
const LATIN1 = 1 << 16
const TOMBSTONE = 1 << 17
const EXPIRES = 1 << 18 // has a finite TTL or idle deadline
const QUEUE_SHIFT = 20
const QUEUE_BITS = 7 << QUEUE_SHIFT

// Queues (doubly linked lists through PREV/NEXT; head = least recently used).
const Q_FREE = 0
const Q_WINDOW = 1
const Q_PROBATION = 2 // the only queue of the LRU policy
const Q_PROTECTED = 3
const Q_TOMBSTONES = 4 // in deletion order
const QUEUES = 5

const POLICY_LRU = 0
const POLICY_WTINYLFU = 1

const MAX_WRITERS = 0x10000
/** Candidate frequency from which W-TinyLFU admits 1 in 128 losers anyway (Caffeine's hash-flooding guard). */
const ADMIT_HASHDOS_THRESHOLD = 6
const MAX_LOAD = 0.7
const SWEEP_STEPS_PER_WRITE = 4
const SWEEP_STEPS_PER_READ = 8
const MIN_COMPACT_BUDGET = 1024
const COMPACT_BUDGET_PER_WRITTEN_BYTE = 8
const DECODE_CHUNK = 8192

export class LocalStore implements Iterable<[string, Uint8Array]> {
  readonly #clock: Clock
  readonly #hlc: Hlc
  readonly #policy: number
  readonly #eviction: EvictionPolicy
  readonly #maxBytes: number
  readonly #maxEntries: number
  readonly #maxValueBytes: number
  readonly #maxKeyBytes: number
  readonly #defaultTtlMs: number
  readonly #maxIdleMs: number
  readonly #graceMs: number
  readonly #onRemove: ((key: string, reason: RemovalReason) => void) | undefined
  readonly #seed: number
  readonly #windowMaxBytes: number
  readonly #windowMaxEntries: number
  readonly #protectedMaxBytes: number
  readonly #protectedMaxEntries: number

  // Slots
  #meta: Int32Array
  #times: Float64Array
  #slotCapacity: number
  #slotsUsed = 0
  #freeSlot = -1

  // Index
  #table: Int32Array
  #tableMask: number
  #tableCount = 0

  readonly #arena: Arena
  readonly #sketch: FrequencySketch | null
  #random: number

  // Queues
  readonly #qHead = new Int32Array(QUEUES).fill(-1)
  readonly #qTail = new Int32Array(QUEUES).fill(-1)
  readonly #qCount = new Int32Array(QUEUES)
  readonly #qBytes = new Float64Array(QUEUES)

  // Gauges
  #bytes = 0
  #live = 0
  #tombstones = 0
  #expiring = 0

  // Writers (interned; index 0 is this peer)
  readonly #writers: string[]
  readonly #writerIndex = new Map<string, number>()
  readonly #writerRefs: number[]
  readonly #freeWriters: number[] = []

  // Counters
  #hits = 0
  #misses = 0
  #sets = 0
  #deletes = 0
  #applied = 0
  #applyStale = 0
  #rejected = 0
  #admissionRejections = 0
  #tombstonesCollected = 0
  #tombstonesDropped = 0
  readonly #removals: Record<RemovalReason, number> = { evict: 0, expire: 0, delete: 0, set: 0 }

  // Removal notifications waiting for the end of the current call
  readonly #pendingKeys: string[] = []
  readonly #pendingReasons: RemovalReason[] = []
  #pendingHead = 0

  #sweepCursor = 0
  #reads = 0

  constructor (init: LocalStoreInit) {
    const o = resolveInit(init)
    this.#clock = o.clock
    this.#hlc = o.hlc
    this.#eviction = o.eviction
    this.#policy = o.eviction === 'lru' ? POLICY_LRU : POLICY_WTINYLFU
    this.#maxBytes = o.maxBytes
    this.#maxEntries = o.maxEntries
    this.#maxValueBytes = o.maxValueBytes
    this.#maxKeyBytes = o.maxKeyBytes
    this.#defaultTtlMs = o.defaultTtlMs
    this.#maxIdleMs = o.maxIdleMs
    this.#graceMs = o.tombstoneGraceMs
    this.#onRemove = o.onRemove
    this.#seed = o.hashSeed
    this.#random = o.hashSeed ^ 0x5bd1e995 | 1
    this.#windowMaxBytes = windowMaximum(o.maxBytes, false)
    this.#windowMaxEntries = windowMaximum(o.maxEntries, true)
    this.#protectedMaxBytes = protectedMaximum(o.maxBytes, this.#windowMaxBytes)
    this.#protectedMaxEntries = protectedMaximum(o.maxEntries, this.#windowMaxEntries)
    this.#writers = [o.writerId]
    this.#writerRefs = [1] // pinned
    this.#writerIndex.set(o.writerId, 0)

    this.#slotCapacity = 64
    const buf = new ArrayBuffer(this.#slotCapacity * F_STRIDE * 8)
    this.#meta = new Int32Array(buf)
    this.#times = new Float64Array(buf)
    this.#table = new Int32Array(128).fill(-1)
    this.#tableMask = 127

    const owner: ArenaOwner = {
      recordBytes: (slot) => {
        const b = slot * I_STRIDE
        return RECORD_HEADER_BYTES + (this.#meta[b + INFO] & KEY_BYTES) + this.#meta[b + VLEN]
      },
      moved: (slot, chunk, offset) => {
        const b = slot * I_STRIDE
        this.#meta[b + CHUNK] = chunk
        this.#meta[b + OFFSET] = offset
      }
    }
    this.#arena = new Arena(o.arenaChunkBytes, owner)
    this.#sketch = this.#policy === POLICY_WTINYLFU
      ? new FrequencySketch(o.maxEntries === Infinity ? 0 : o.maxEntries)
      : null
  }

  /** Number of live entries (tombstones not included; expired entries not yet swept included). */
  get size (): number { return this.#live }

  /** Accounted bytes in use (see `ENTRY_OVERHEAD_BYTES`). */
  get bytes (): number { return this.#bytes }

  get maxBytes (): number { return this.#maxBytes }

  // ---------------------------------------------------------------- reads

  /** The value stored under `key`, or undefined. Counts as a use (recency, frequency, idle time). */
  get (key: string): Uint8Array | undefined {
    if (typeof key !== 'string' || key.length === 0) throw invalidKey(key)
    const h = hashKey(key, this.#seed)
    const s = this.#find(key, h)
    if (s >= 0) {
      const meta = this.#meta
      const b = s * I_STRIDE
      const info = meta[b + INFO]
      if ((info & (TOMBSTONE | EXPIRES)) === 0 || this.#aliveOnRead(s, info, true)) {
        this.#hits++
        if (this.#policy === POLICY_WTINYLFU) {
          this.#sketch!.increment(h)
          this.#touchWTinyLfu(s, info)
        } else if (this.#qTail[Q_PROBATION] !== s) {
          this.#moveToTail(s, Q_PROBATION)
        }
        if ((++this.#reads & 31) === 0) this.#readMaintenance()
        return new Uint8Array(this.#arena.chunks[meta[b + CHUNK]].buffer, meta[b + OFFSET] + RECORD_HEADER_BYTES + (info & KEY_BYTES), meta[b + VLEN])
      }
    }
    this.#misses++
    if ((++this.#reads & 31) === 0) this.#readMaintenance()
    if (this.#pendingKeys.length > 0) this.#flush()
    return undefined
  }

  /** Like `get` for each key, in order. */
  getMany (keys: Iterable<string>): Array<Uint8Array | undefined> {
    const out: Array<Uint8Array | undefined> = []
    for (const key of keys) out.push(this.get(key))
    return out
  }

  /** The value under `key` without counting a use (no recency, frequency or idle-time update). */
  peek (key: string): Uint8Array | undefined {
    const s = this.#findLive(key)
    if (s < 0) return undefined
    return this.#valueView(s)
  }

  /** True when a live value is stored under `key` (does not count as a use). */
  has (key: string): boolean {
    return this.#findLive(key) >= 0
  }

  /** The stored entry, tombstones included, with its version and expiry (does not count as a use). */
  getEntry (key: string): StoreEntry | undefined {
    if (typeof key !== 'string' || key.length === 0) throw invalidKey(key)
    const s = this.#find(key, hashKey(key, this.#seed))
    if (s < 0) return undefined
    const info = this.#meta[s * I_STRIDE + INFO]
    if ((info & TOMBSTONE) === 0 && (info & EXPIRES) !== 0 && !this.#aliveOnRead(s, info, false)) {
      this.#flush()
      return undefined
    }
    return this.#entryAt(s, key)
  }

  // ---------------------------------------------------------------- local writes

  /**
   * Stores `value` under `key`, versioned with this peer's HLC. Throws `InvalidKeyError` (empty or too long
   * key) or `ValueTooLargeError` (value over `maxValueBytes`, or key + value + overhead over `maxBytes`);
   * a refused write changes nothing. Returns false when W-TinyLFU refused to admit the new entry (then
   * `onRemove(key, 'evict')` was called), true when the value is stored.
   */
  set (key: string, value: Uint8Array, options?: SetOptions): boolean {
    const h = this.#checkKey(key)
    const latin1 = this.#keyLatin1
    const keyBytes = this.#keyBytesOut
    this.#checkValue(value, keyBytes)
    const ttlMs = options?.ttlMs
    if (ttlMs !== undefined && !(ttlMs > 0)) {
      throw new InvalidOptionError(`set: ttlMs must be a positive number of milliseconds (or Infinity for none), got ${String(ttlMs)}`)
    }
    const now = this.#clock.now()
    const ttl = ttlMs ?? this.#defaultTtlMs
    const v = this.#hlc.nowAt(now)
    const stored = this.#write(key, h, latin1, keyBytes, value, v.physical, v.logical, 0, ttl > 0 ? now + ttl : Infinity, now, this.#find(key, h), 'set')
    this.#sets++
    this.#writeMaintenance(now, keyBytes + value.byteLength)
    this.#flush()
    return stored
  }

  /** `set` for each `[key, value, options?]`. Every item is checked first: one bad item stores nothing. */
  setMany (items: Iterable<readonly [string, Uint8Array] | readonly [string, Uint8Array, SetOptions | undefined]>): boolean[] {
    const list = Array.from(items)
    for (const item of list) {
      this.#checkKey(item[0])
      this.#checkValue(item[1], this.#keyBytesOut)
      const ttlMs = item[2]?.ttlMs
      if (ttlMs !== undefined && !(ttlMs > 0)) {
        throw new InvalidOptionError(`setMany: ttlMs must be a positive number of milliseconds (or Infinity for none), got ${String(ttlMs)}`)
      }
    }
    const out: boolean[] = []
    let error: unknown
    let failed = false
    for (const item of list) {
      try {
        out.push(this.set(item[0], item[1], item[2]))
      } catch (e) {
        // Only an onRemove callback can throw here: keep storing, report its first error at the end.
        if (!failed) { failed = true; error = e }
        out.push(this.has(item[0]))
      }
    }
    if (failed) throw error
    return out
  }

  /**
   * Deletes `key`: leaves a tombstone carrying a new version (kept `tombstoneGraceMs`, so replication
   * cannot bring the old value back). Returns true when a live value was removed.
   */
  delete (key: string): boolean {
    const h = this.#checkKey(key)
    const now = this.#clock.now()
    const s = this.#find(key, h)
    let removed = false
    if (s >= 0) {
      const info = this.#meta[s * I_STRIDE + INFO]
      removed = (info & TOMBSTONE) === 0 && !this.#isExpired(s, info, now)
    }
    if (this.#graceMs === 0) {
      if (s >= 0) this.#remove(s, this.#removalReason(s, now, 'delete'))
    } else {
      const v = this.#hlc.nowAt(now)
      this.#write(key, h, this.#keyLatin1, this.#keyBytesOut, null, v.physical, v.logical, 0, Infinity, now, s, 'delete')
    }
    if (removed) this.#deletes++
    this.#writeMaintenance(now, this.#keyBytesOut)
    this.#flush()
    return removed
  }

  /** `delete` for each key; returns how many live values were removed. */
  deleteMany (keys: Iterable<string>): number {
    let n = 0
    for (const key of keys) if (this.delete(key)) n++
    return n
  }

  /**
   * Removes every entry and tombstone (each live value is reported as `'delete'`). Local only: no
   * tombstones are left, so replication may bring values back.
   */
  clear (): void {
    const meta = this.#meta
    for (let s = 0; s < this.#slotsUsed; s++) {
      const info = meta[s * I_STRIDE + INFO]
      const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
      if (q === Q_FREE || q === Q_TOMBSTONES) continue
      this.#removals.delete++
      if (this.#onRemove !== undefined) this.#notify(this.#decodeKey(s), 'delete')
    }
    this.#slotCapacity = 64
    const buf = new ArrayBuffer(this.#slotCapacity * F_STRIDE * 8)
    this.#meta = new Int32Array(buf)
    this.#times = new Float64Array(buf)
    this.#slotsUsed = 0
    this.#freeSlot = -1
    this.#table = new Int32Array(128).fill(-1)
    this.#tableMask = 127
    this.#tableCount = 0
    this.#arena.clear()
    this.#sketch?.clear()
    this.#qHead.fill(-1)
    this.#qTail.fill(-1)
    this.#qCount.fill(0)
    this.#qBytes.fill(0)
    this.#bytes = 0
    this.#live = 0
    this.#tombstones = 0
    this.#expiring = 0
    this.#sweepCursor = 0
    this.#writers.length = 1
    this.#writerRefs.length = 1
    this.#writerIndex.clear()
    this.#writerIndex.set(this.#writers[0], 0)
    this.#freeWriters.length = 0
    this.#flush()
  }

  // ---------------------------------------------------------------- replication

  /**
   * Replication's entry point: stores the incoming value or tombstone only if its version is newer than
   * the one held for the key (last-writer-wins on `(physical, logical, writerId)`); an expired entry held
   * counts as absent. Merges the version into the HLC either way. An incoming value that has already
   * expired is kept as a tombstone of its version. Returns whether the entry was applied. Throws
   * `InvalidKeyError`, `ValueTooLargeError` or `InvalidVersionError` for input it cannot store.
   */
  apply (entry: StoreEntry): boolean {
    if (entry === null || typeof entry !== 'object') throw new InvalidVersionError('apply: entry must be an object { key, value, version, expiresAt? }')
    const { key, value, version } = entry
    const h = this.#checkKey(key)
    const latin1 = this.#keyLatin1
    const keyBytes = this.#keyBytesOut
    if (value !== null) this.#checkValue(value, keyBytes)
    assertValidVersion(version)
    const expiresAt = entry.expiresAt ?? Infinity
    if (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)) {
      throw new InvalidVersionError(`apply: expiresAt must be a number of milliseconds since the epoch, got ${String(expiresAt)}`)
    }
    const now = this.#clock.now()
    this.#hlc.update(version)
    let s = this.#find(key, h)
    if (s >= 0) {
      const info = this.#meta[s * I_STRIDE + INFO]
      if ((info & TOMBSTONE) === 0 && this.#isExpired(s, info, now)) {
        this.#remove(s, 'expire')
        s = -1
      } else if (this.#compareHeld(s, version) >= 0) {
        this.#applyStale++
        this.#flush()
        return false
      }
    }
    const dead = value === null || expiresAt <= now
    const reason: RemovalReason = value === null ? 'delete' : 'set'
    if (dead && this.#graceMs === 0) {
      if (s >= 0) this.#remove(s, (this.#meta[s * I_STRIDE + INFO] & TOMBSTONE) !== 0 ? null : reason)
    } else {
      const writer = this.#internWriter(version.writerId)
      this.#write(key, h, latin1, keyBytes, dead ? null : value, version.physical, version.logical, writer, dead ? Infinity : expiresAt, now, s, reason)
    }
    this.#applied++
    this.#writeMaintenance(now, keyBytes + (value === null ? 0 : value.byteLength))
    this.#flush()
    return true
  }

  /**
   * Every entry, tombstones included, for replication (hand-off, anti-entropy). Weakly consistent: the
   * store may change during iteration; entries present and unchanged throughout are yielded exactly once.
   * Expired entries are skipped. Does not count as a use.
   */
  * entries (): Generator<StoreEntry, void, undefined> {
    for (let s = 0; s < this.#slotsUsed; s++) {
      const info = this.#meta[s * I_STRIDE + INFO]
      const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
      if (q === Q_FREE) continue
      if (q !== Q_TOMBSTONES && (info & EXPIRES) !== 0 && this.#isExpired(s, info, this.#clock.now())) continue
      yield this.#entryAt(s, this.#decodeKey(s))
    }
  }

  /** Live `[key, value]` pairs (no tombstones), weakly consistent like `entries()`. */
  * [Symbol.iterator] (): Generator<[string, Uint8Array], void, undefined> {
    for (let s = 0; s < this.#slotsUsed; s++) {
      const info = this.#meta[s * I_STRIDE + INFO]
      const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
      if (q === Q_FREE || q === Q_TOMBSTONES) continue
      if ((info & EXPIRES) !== 0 && this.#isExpired(s, info, this.#clock.now())) continue
      yield [this.#decodeKey(s), this.#valueView(s)]
    }
  }

  /** Live keys, weakly consistent like `entries()`. */
  * keys (): Generator<string, void, undefined> {
    for (const [key] of this) yield key
  }

  /**
   * Live entries whose key matches `prefix` and/or `pattern`, sorted by key, `offset` skipped, at most
   * `limit` returned. Cost: one pass over all entries plus sorting the matches. Does not count as a use.
   */
  scan (options: ScanOptions = {}): ScanResult {
    const { prefix, pattern } = options
    const offset = options.offset ?? 0
    const limit = options.limit ?? Infinity
    if (prefix !== undefined && typeof prefix !== 'string') throw new InvalidOptionError('scan: prefix must be a string')
    if (pattern !== undefined && !(pattern instanceof RegExp)) throw new InvalidOptionError('scan: pattern must be a RegExp')
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidOptionError(`scan: offset must be an integer >= 0, got ${String(offset)}`)
    if (limit !== Infinity && (!Number.isSafeInteger(limit) || limit < 0)) throw new InvalidOptionError(`scan: limit must be an integer >= 0 or Infinity, got ${String(limit)}`)
    const now = this.#clock.now()
    const matches: Array<{ key: string, slot: number }> = []
    for (let s = 0; s < this.#slotsUsed; s++) {
      const info = this.#meta[s * I_STRIDE + INFO]
      const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
      if (q === Q_FREE || q === Q_TOMBSTONES || this.#isExpired(s, info, now)) continue
      if (prefix !== undefined && !this.#keyStartsWith(s, prefix)) continue
      const key = this.#decodeKey(s)
      if (pattern !== undefined) {
        pattern.lastIndex = 0
        if (!pattern.test(key)) continue
      }
      matches.push({ key, slot: s })
    }
    matches.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    const page = matches.slice(offset, limit === Infinity ? undefined : offset + limit)
    return { items: page.map((m) => ({ key: m.key, value: this.#valueView(m.slot) })), total: matches.length }
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Does up to `maxWork` steps of background work now: collects tombstones whose grace has passed,
   * removes expired entries (reported as `'expire'`) and advances arena compaction. Returns how many
   * entries and tombstones it removed.
   */
  sweep (maxWork = 1024): number {
    if (!Number.isSafeInteger(maxWork) || maxWork < 1) throw new InvalidOptionError(`sweep: maxWork must be a positive integer, got ${String(maxWork)}`)
    const removed = this.#sweepSome(maxWork, this.#clock.now())
    if (this.#arena.needsCompaction()) this.#arena.compact(maxWork * 128)
    this.#flush()
    return removed
  }

  /** Counters and gauges (a fresh object). */
  stats (): StoreStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      sets: this.#sets,
      deletes: this.#deletes,
      applied: this.#applied,
      applyStale: this.#applyStale,
      rejected: this.#rejected,
      evictions: { ...this.#removals },
      expirations: this.#removals.expire,
      admissionRejections: this.#admissionRejections,
      tombstonesCollected: this.#tombstonesCollected,
      tombstonesDropped: this.#tombstonesDropped,
      entries: this.#live,
      tombstones: this.#tombstones,
      bytes: this.#bytes,
      maxBytes: this.#maxBytes,
      maxEntries: this.#maxEntries === Infinity ? null : this.#maxEntries,
      arenaBytes: this.#arena.heldBytes,
      arenaLiveBytes: this.#arena.liveBytes,
      compactedBytes: this.#arena.movedBytes,
      eviction: this.#eviction
    }
  }

  /**
   * Recomputes every gauge from scratch and checks the store's internal structure; throws on the first
   * inconsistency. O(entries): for tests and debugging.
   */
  assertInvariants (): void {
    const meta = this.#meta
    const fail = (msg: string): never => { throw new Error(`meshcache invariant violated: LocalStore ${msg}`) }
    let bytes = 0
    let live = 0
    let tombs = 0
    let expiring = 0
    let arenaLive = 0
    const counts = new Array<number>(QUEUES).fill(0)
    const qbytes = new Array<number>(QUEUES).fill(0)
    for (let s = 0; s < this.#slotsUsed; s++) {
      const b = s * I_STRIDE
      const info = meta[b + INFO]
      const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
      if (q === Q_FREE) continue
      const w = this.#weight(s)
      bytes += w
      counts[q]++
      qbytes[q] += w
      arenaLive += RECORD_HEADER_BYTES + (info & KEY_BYTES) + meta[b + VLEN]
      if ((info & TOMBSTONE) !== 0) {
        tombs++
        if (q !== Q_TOMBSTONES) fail(`tombstone in queue ${q}`)
      } else {
        live++
        if ((info & EXPIRES) !== 0) expiring++
        if (q === Q_TOMBSTONES) fail('live entry in the tombstone queue')
      }
      if (this.#find(this.#decodeKey(s), meta[b + HASH]) !== s) fail(`slot ${s} not found by its key`)
    }
    for (let q = 1; q < QUEUES; q++) {
      let n = 0
      let prev = -1
      for (let s = this.#qHead[q]; s >= 0; s = meta[s * I_STRIDE + NEXT]) {
        if (meta[s * I_STRIDE + PREV] !== prev) fail(`queue ${q} has a broken back link at ${s}`)
        if (((meta[s * I_STRIDE + INFO] & QUEUE_BITS) >>> QUEUE_SHIFT) !== q) fail(`slot ${s} linked in queue ${q} but marked otherwise`)
        prev = s
        if (++n > this.#slotsUsed) fail(`queue ${q} has a cycle`)
      }
      if (prev !== this.#qTail[q]) fail(`queue ${q} tail is wrong`)
      if (n !== counts[q] || n !== this.#qCount[q]) fail(`queue ${q} count ${this.#qCount[q]}, linked ${n}, marked ${counts[q]}`)
      if (qbytes[q] !== this.#qBytes[q]) fail(`queue ${q} bytes ${this.#qBytes[q]}, recomputed ${qbytes[q]}`)
    }
    if (bytes !== this.#bytes) fail(`bytes ${this.#bytes}, recomputed ${bytes}`)
    if (live !== this.#live || tombs !== this.#tombstones || expiring !== this.#expiring) fail('entry counts are wrong')
    if (live + tombs !== this.#tableCount) fail(`table holds ${this.#tableCount} keys for ${live + tombs} entries`)
    if (arenaLive !== this.#arena.liveBytes) fail(`arena live bytes ${this.#arena.liveBytes}, recomputed ${arenaLive}`)
    if (this.#bytes > this.#maxBytes || live + tombs > this.#maxEntries) fail('over capacity')
  }

  // ---------------------------------------------------------------- internals: lookup

  /** Slot holding `key` (hash `h`), live, expired or tombstone; -1 when absent. */
  #find (key: string, h: number): number {
    const table = this.#table
    const mask = this.#tableMask
    const meta = this.#meta
    const n = key.length
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = table[i]
      if (s < 0) return -1
      const b = s * I_STRIDE
      if (meta[b + HASH] !== h) continue
      const info = meta[b + INFO]
      const buf = this.#arena.chunks[meta[b + CHUNK]]
      let p = meta[b + OFFSET] + RECORD_HEADER_BYTES
      let j = 0
      if ((info & LATIN1) !== 0) {
        if ((info & KEY_BYTES) !== n) continue
        while (j < n && buf[p + j] === key.charCodeAt(j)) j++
      } else {
        if ((info & KEY_BYTES) !== n * 2) continue
        while (j < n && (buf[p] | (buf[p + 1] << 8)) === key.charCodeAt(j)) { j++; p += 2 }
      }
      if (j === n) return s
    }
  }

  /** Slot of a live, unexpired value under `key` (removing it if expired), or -1. */
  #findLive (key: string): number {
    if (typeof key !== 'string' || key.length === 0) throw invalidKey(key)
    const s = this.#find(key, hashKey(key, this.#seed))
    if (s < 0) return -1
    const info = this.#meta[s * I_STRIDE + INFO]
    if ((info & (TOMBSTONE | EXPIRES)) === 0) return s
    if (this.#aliveOnRead(s, info, false)) return s
    if (this.#pendingKeys.length > 0) this.#flush()
    return -1
  }

  /**
   * For an entry flagged tombstone or expiring: false for a tombstone; removes an expired entry and
   * returns false; otherwise true, refreshing the idle deadline when `use`.
   */
  #aliveOnRead (s: number, info: number, use: boolean): boolean {
    if ((info & TOMBSTONE) !== 0) return false
    const now = this.#clock.now()
    const f = s * F_STRIDE
    const times = this.#times
    if (now >= times[f + EXPIRES_AT] || now >= times[f + IDLE_UNTIL]) {
      this.#remove(s, 'expire')
      return false
    }
    if (use && this.#maxIdleMs > 0) times[f + IDLE_UNTIL] = now + this.#maxIdleMs
    return true
  }

  #isExpired (s: number, info: number, now: number): boolean {
    if ((info & (EXPIRES | TOMBSTONE)) !== EXPIRES) return false
    const f = s * F_STRIDE
    return now >= this.#times[f + EXPIRES_AT] || now >= this.#times[f + IDLE_UNTIL]
  }

  /** The reason to report for a live entry displaced by `cause` (an expired one is reported as expired). */
  #removalReason (s: number, now: number, cause: RemovalReason): RemovalReason | null {
    const info = this.#meta[s * I_STRIDE + INFO]
    if ((info & TOMBSTONE) !== 0) return null
    return this.#isExpired(s, info, now) ? 'expire' : cause
  }

  /** Held version of slot `s` compared with `v`: negative when `v` is newer. */
  #compareHeld (s: number, v: Version): number {
    const physical = this.#times[s * F_STRIDE + PHYSICAL]
    if (physical !== v.physical) return physical < v.physical ? -1 : 1
    const ver = this.#meta[s * I_STRIDE + VER]
    const logical = ver & MAX_LOGICAL
    if (logical !== v.logical) return logical < v.logical ? -1 : 1
    return compareWriterIds(this.#writers[ver >>> 16], v.writerId)
  }

  // ---------------------------------------------------------------- internals: checks

  // Out-parameters of #checkKey (avoid allocating a result object per call).
  #keyLatin1 = true
  #keyBytesOut = 0

  /** Validates a key for writing; returns its hash and sets #keyLatin1 / #keyBytesOut. */
  #checkKey (key: string): number {
    if (typeof key !== 'string' || key.length === 0) throw invalidKey(key)
    const latin1 = isLatin1(key)
    const bytes = latin1 ? key.length : key.length * 2
    if (bytes > this.#maxKeyBytes) {
      this.#rejected++
      throw new InvalidKeyError(`key is ${bytes} bytes, over maxKeyBytes ${this.#maxKeyBytes}; use a shorter key or raise maxKeyBytes`)
    }
    this.#keyLatin1 = latin1
    this.#keyBytesOut = bytes
    return hashKey(key, this.#seed)
  }

  #checkValue (value: Uint8Array, keyBytes: number): void {
    if (!(value instanceof Uint8Array)) throw new TypeError('LocalStore: values must be Uint8Array (encode strings and JSON before storing)')
    const length = value.byteLength
    if (length > this.#maxValueBytes) {
      this.#rejected++
      throw new ValueTooLargeError('value', length, this.#maxValueBytes)
    }
    const weight = keyBytes + length + ENTRY_OVERHEAD_BYTES
    if (weight > this.#maxBytes) {
      this.#rejected++
      throw new ValueTooLargeError(`entry (key + value + ${ENTRY_OVERHEAD_BYTES} bytes overhead)`, weight, this.#maxBytes)
    }
  }

  // ---------------------------------------------------------------- internals: writing

  /**
   * Stores a value (or a tombstone when `value` is null) in slot `s` (or a new slot when -1), reporting a
   * displaced live value with `cause`, then evicts to capacity. Returns whether the entry is still there.
   */
  #write (key: string, h: number, latin1: boolean, keyBytes: number, value: Uint8Array | null,
    physical: number, logical: number, writer: number, expiresAt: number, now: number, s: number,
    cause: RemovalReason): boolean {
    const tombstone = value === null
    this.#writerRefs[writer]++ // before the old version's writer is released: it may be the same one
    let requeue = -1 // queue of a live entry being overwritten in place (keeps its place in the policy)
    if (s >= 0) {
      const meta = this.#meta
      const b = s * I_STRIDE
      const info = meta[b + INFO]
      const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
      if ((info & TOMBSTONE) === 0) {
        const reason = this.#isExpired(s, info, now) ? 'expire' : cause
        if (reason === cause && !tombstone) requeue = q
        this.#removals[reason]++
        if (this.#onRemove !== undefined) this.#notify(key, reason)
        this.#live--
        if ((info & EXPIRES) !== 0) this.#expiring--
      } else {
        this.#tombstones--
      }
      const weight = this.#weight(s)
      this.#unlink(s, q, weight)
      this.#bytes -= weight
      this.#arena.kill(meta[b + CHUNK], meta[b + OFFSET], RECORD_HEADER_BYTES + (info & KEY_BYTES) + meta[b + VLEN])
      this.#releaseWriter(meta[b + VER] >>> 16)
    } else {
      s = this.#allocateSlot()
      this.#meta[s * I_STRIDE + HASH] = h
      this.#tableInsert(s, h)
    }
    this.#arena.append(s, key, latin1, value)
    const meta = this.#meta
    const times = this.#times
    const b = s * I_STRIDE
    const f = s * F_STRIDE
    const vlen = tombstone ? 0 : value.byteLength
    meta[b + CHUNK] = this.#arena.chunk
    meta[b + OFFSET] = this.#arena.offset
    meta[b + VLEN] = vlen
    meta[b + VER] = logical | (writer << 16)
    times[f + PHYSICAL] = physical
    const weight = keyBytes + vlen + ENTRY_OVERHEAD_BYTES
    this.#bytes += weight
    let info = keyBytes | (latin1 ? LATIN1 : 0)
    if (tombstone) {
      meta[b + INFO] = info | TOMBSTONE
      times[f + EXPIRES_AT] = now + this.#graceMs
      times[f + IDLE_UNTIL] = Infinity
      this.#tombstones++
      this.#linkTail(s, Q_TOMBSTONES, weight)
    } else {
      const idleUntil = this.#maxIdleMs > 0 ? now + this.#maxIdleMs : Infinity
      if (expiresAt !== Infinity || idleUntil !== Infinity) {
        info |= EXPIRES
        this.#expiring++
      }
      meta[b + INFO] = info
      times[f + EXPIRES_AT] = expiresAt
      times[f + IDLE_UNTIL] = idleUntil
      this.#live++
      if (this.#policy === POLICY_WTINYLFU) {
        if (this.#live > this.#sketch!.capacity && this.#maxEntries === Infinity) this.#sketch!.ensureCapacity(this.#live)
        this.#sketch!.increment(h)
        if (requeue === Q_PROBATION || requeue === Q_PROTECTED) {
          this.#linkTail(s, Q_PROTECTED, weight) // an update is an access: probation entries are promoted
          this.#demoteProtectedOverflow()
        } else {
          this.#linkTail(s, Q_WINDOW, weight)
        }
      } else {
        this.#linkTail(s, Q_PROBATION, weight)
      }
    }
    if (this.#bytes > this.#maxBytes || this.#live + this.#tombstones > this.#maxEntries || this.#overWindow()) {
      if (this.#policy === POLICY_WTINYLFU) this.#evictWTinyLfu(now)
      else this.#evictLru(now, s)
    }
    return (this.#meta[b + INFO] & QUEUE_BITS) !== 0
  }

  /** Removes slot `s` entirely, reporting `reason` (null: a tombstone, not reported). */
  #remove (s: number, reason: RemovalReason | null): void {
    const meta = this.#meta
    const b = s * I_STRIDE
    const info = meta[b + INFO]
    if (reason !== null) {
      this.#removals[reason]++
      if (this.#onRemove !== undefined) this.#notify(this.#decodeKey(s), reason)
    }
    const weight = this.#weight(s)
    this.#unlink(s, (info & QUEUE_BITS) >>> QUEUE_SHIFT, weight)
    this.#tableDelete(s)
    this.#arena.kill(meta[b + CHUNK], meta[b + OFFSET], RECORD_HEADER_BYTES + (info & KEY_BYTES) + meta[b + VLEN])
    this.#releaseWriter(meta[b + VER] >>> 16)
    this.#bytes -= weight
    if ((info & TOMBSTONE) !== 0) {
      this.#tombstones--
    } else {
      this.#live--
      if ((info & EXPIRES) !== 0) this.#expiring--
    }
    meta[b + INFO] = 0 // Q_FREE
    meta[b + NEXT] = this.#freeSlot
    this.#freeSlot = s
  }

  #weight (s: number): number {
    const b = s * I_STRIDE
    return (this.#meta[b + INFO] & KEY_BYTES) + this.#meta[b + VLEN] + ENTRY_OVERHEAD_BYTES
  }

  #valueView (s: number): Uint8Array {
    const meta = this.#meta
    const b = s * I_STRIDE
    return new Uint8Array(this.#arena.chunks[meta[b + CHUNK]].buffer,
      meta[b + OFFSET] + RECORD_HEADER_BYTES + (meta[b + INFO] & KEY_BYTES), meta[b + VLEN])
  }

  #entryAt (s: number, key: string): StoreEntry {
    const meta = this.#meta
    const b = s * I_STRIDE
    const f = s * F_STRIDE
    const info = meta[b + INFO]
    const ver = meta[b + VER]
    const entry: StoreEntry = {
      key,
      value: (info & TOMBSTONE) !== 0 ? null : this.#valueView(s),
      version: { physical: this.#times[f + PHYSICAL], logical: ver & MAX_LOGICAL, writerId: this.#writers[ver >>> 16] }
    }
    const expiresAt = this.#times[f + EXPIRES_AT]
    if ((info & TOMBSTONE) === 0 && expiresAt !== Infinity) entry.expiresAt = expiresAt
    return entry
  }

  // ---------------------------------------------------------------- internals: policies

  #overWindow (): boolean {
    return this.#policy === POLICY_WTINYLFU &&
      (this.#qBytes[Q_WINDOW] > this.#windowMaxBytes || this.#qCount[Q_WINDOW] > this.#windowMaxEntries)
  }

  #overCapacity (): boolean {
    return this.#bytes > this.#maxBytes || this.#live + this.#tombstones > this.#maxEntries
  }

  /** A use under W-TinyLFU: window and protected entries move to their MRU end; probation is promoted. */
  #touchWTinyLfu (s: number, info: number): void {
    const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
    if (q === Q_PROBATION) {
      const weight = this.#weight(s)
      this.#unlink(s, Q_PROBATION, weight)
      this.#linkTail(s, Q_PROTECTED, weight)
      this.#demoteProtectedOverflow()
    } else if (this.#qTail[q] !== s) {
      this.#moveToTail(s, q)
    }
  }

  #demoteProtectedOverflow (): void {
    while (this.#qCount[Q_PROTECTED] > 0 &&
      (this.#qBytes[Q_PROTECTED] > this.#protectedMaxBytes || this.#qCount[Q_PROTECTED] > this.#protectedMaxEntries)) {
      const n = this.#qHead[Q_PROTECTED]
      const weight = this.#weight(n)
      this.#unlink(n, Q_PROTECTED, weight)
      this.#linkTail(n, Q_PROBATION, weight)
    }
  }

  /**
   * Caffeine's eviction: the window's overflow moves to probation's MRU end as candidates; while over
   * capacity, each candidate (oldest first) duels the probation victim (LRU first) and the less frequent
   * one is evicted. Without candidates the window's LRU entry is the candidate; with neither a
   * candidate nor a probation entry the protected LRU goes; tombstones go last.
   */
  #evictWTinyLfu (now: number): void {
    let candidate = -1
    while (this.#qCount[Q_WINDOW] > 0 &&
      (this.#qBytes[Q_WINDOW] > this.#windowMaxBytes || this.#qCount[Q_WINDOW] > this.#windowMaxEntries)) {
      const n = this.#qHead[Q_WINDOW]
      const weight = this.#weight(n)
      this.#unlink(n, Q_WINDOW, weight)
      this.#linkTail(n, Q_PROBATION, weight)
      if (candidate < 0) candidate = n
    }
    const meta = this.#meta
    let victim = -1
    while (this.#overCapacity()) {
      if (candidate < 0) candidate = this.#qHead[Q_WINDOW]
      if (victim < 0) victim = this.#qHead[Q_PROBATION]
      if (candidate < 0 && victim < 0) victim = this.#qHead[Q_PROTECTED]
      if (victim < 0 && this.#qCount[Q_TOMBSTONES] > 0) {
        // The main space is empty: what is left is the window (about 1%) and tombstones.
        this.#dropOldestTombstone()
        continue
      }
      let evict: number
      if (victim < 0 || candidate === victim) {
        evict = candidate
        candidate = meta[evict * I_STRIDE + NEXT]
        if (victim === evict) victim = -1
      } else if (candidate < 0) {
        evict = victim
        victim = meta[evict * I_STRIDE + NEXT]
      } else if (this.#admit(meta[candidate * I_STRIDE + HASH], meta[victim * I_STRIDE + HASH])) {
        evict = victim
        victim = meta[evict * I_STRIDE + NEXT]
      } else {
        evict = candidate
        candidate = meta[evict * I_STRIDE + NEXT]
        this.#admissionRejections++
      }
      if (evict < 0) throw new Error('meshcache invariant violated: LocalStore over capacity with nothing to evict')
      this.#remove(evict, this.#isExpired(evict, meta[evict * I_STRIDE + INFO], now) ? 'expire' : 'evict')
    }
  }

  /** TinyLFU admission: the candidate wins only if more frequent; warm losers win 1 in 128 (hash flooding). */
  #admit (candidateHash: number, victimHash: number): boolean {
    const sketch = this.#sketch!
    const victimFrequency = sketch.frequency(victimHash)
    const candidateFrequency = sketch.frequency(candidateHash)
    if (candidateFrequency > victimFrequency) return true
    if (candidateFrequency >= ADMIT_HASHDOS_THRESHOLD) return (this.#nextRandom() & 127) === 0
    return false
  }

  /** LRU eviction from the least recently used end; tombstones go before the entry just written. */
  #evictLru (now: number, written: number): void {
    while (this.#overCapacity()) {
      const victim = this.#qHead[Q_PROBATION]
      if (victim < 0 || (victim === written && this.#qCount[Q_TOMBSTONES] > 0)) { this.#dropOldestTombstone(); continue }
      this.#remove(victim, this.#isExpired(victim, this.#meta[victim * I_STRIDE + INFO], now) ? 'expire' : 'evict')
    }
  }

  #dropOldestTombstone (): void {
    const t = this.#qHead[Q_TOMBSTONES]
    if (t < 0) throw new Error('meshcache invariant violated: LocalStore over capacity with nothing to evict')
    this.#remove(t, null)
    this.#tombstonesDropped++
  }

  /** xorshift32, seeded from `hashSeed`: deterministic, for the 1-in-128 admission only. */
  #nextRandom (): number {
    let x = this.#random
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#random = x
    return x
  }

  // ---------------------------------------------------------------- internals: queues

  #linkTail (s: number, q: number, weight: number): void {
    const meta = this.#meta
    const b = s * I_STRIDE
    const tail = this.#qTail[q]
    meta[b + PREV] = tail
    meta[b + NEXT] = -1
    meta[b + INFO] = (meta[b + INFO] & ~QUEUE_BITS) | (q << QUEUE_SHIFT)
    if (tail >= 0) meta[tail * I_STRIDE + NEXT] = s
    else this.#qHead[q] = s
    this.#qTail[q] = s
    this.#qCount[q]++
    this.#qBytes[q] += weight
  }

  #unlink (s: number, q: number, weight: number): void {
    const meta = this.#meta
    const b = s * I_STRIDE
    const prev = meta[b + PREV]
    const next = meta[b + NEXT]
    if (prev >= 0) meta[prev * I_STRIDE + NEXT] = next
    else this.#qHead[q] = next
    if (next >= 0) meta[next * I_STRIDE + PREV] = prev
    else this.#qTail[q] = prev
    meta[b + INFO] &= ~QUEUE_BITS
    this.#qCount[q]--
    this.#qBytes[q] -= weight
  }

  /** Moves `s` (in queue `q`, not its tail) to the MRU end. */
  #moveToTail (s: number, q: number): void {
    const meta = this.#meta
    const b = s * I_STRIDE
    const prev = meta[b + PREV]
    const next = meta[b + NEXT]
    if (prev >= 0) meta[prev * I_STRIDE + NEXT] = next
    else this.#qHead[q] = next
    meta[next * I_STRIDE + PREV] = prev
    const tail = this.#qTail[q]
    meta[b + PREV] = tail
    meta[b + NEXT] = -1
    meta[tail * I_STRIDE + NEXT] = s
    this.#qTail[q] = s
  }

  // ---------------------------------------------------------------- internals: slots and table

  #allocateSlot (): number {
    const s = this.#freeSlot
    if (s >= 0) {
      this.#freeSlot = this.#meta[s * I_STRIDE + NEXT]
      return s
    }
    if (this.#slotsUsed === this.#slotCapacity) {
      const capacity = this.#slotCapacity * 2
      const buf = new ArrayBuffer(capacity * F_STRIDE * 8)
      const meta = new Int32Array(buf)
      meta.set(this.#meta)
      this.#meta = meta
      this.#times = new Float64Array(buf)
      this.#slotCapacity = capacity
    }
    return this.#slotsUsed++
  }

  #tableInsert (s: number, h: number): void {
    if (this.#tableCount + 1 > this.#table.length * MAX_LOAD) this.#growTable()
    const table = this.#table
    const mask = this.#tableMask
    let i = h & mask
    while (table[i] >= 0) i = (i + 1) & mask
    table[i] = s
    this.#tableCount++
  }

  #growTable (): void {
    const old = this.#table
    const table = new Int32Array(old.length * 2).fill(-1)
    const mask = table.length - 1
    const meta = this.#meta
    for (let k = 0; k < old.length; k++) {
      const s = old[k]
      if (s < 0) continue
      let i = meta[s * I_STRIDE + HASH] & mask
      while (table[i] >= 0) i = (i + 1) & mask
      table[i] = s
    }
    this.#table = table
    this.#tableMask = mask
  }

  /** Linear-probing deletion by backward shift (no tombstones in the table). */
  #tableDelete (s: number): void {
    const table = this.#table
    const mask = this.#tableMask
    const meta = this.#meta
    let i = meta[s * I_STRIDE + HASH] & mask
    while (table[i] !== s) i = (i + 1) & mask
    let j = i
    for (;;) {
      j = (j + 1) & mask
      const t = table[j]
      if (t < 0) break
      const home = meta[t * I_STRIDE + HASH] & mask
      // `t` may move back to the hole at `i` unless its home lies cyclically in (i, j].
      const stays = i <= j ? (home > i && home <= j) : (home > i || home <= j)
      if (!stays) {
        table[i] = t
        i = j
      }
    }
    table[i] = -1
    this.#tableCount--
  }

  // ---------------------------------------------------------------- internals: writers

  #internWriter (writerId: string): number {
    const known = this.#writerIndex.get(writerId)
    if (known !== undefined) return known
    let index: number
    if (this.#freeWriters.length > 0) {
      index = this.#freeWriters.pop()!
      this.#writers[index] = writerId
      this.#writerRefs[index] = 0
    } else {
      index = this.#writers.length
      if (index >= MAX_WRITERS) {
        throw new MeshcacheError('ERR_TOO_MANY_WRITERS', `LocalStore holds entries from ${MAX_WRITERS} distinct writers, its limit`)
      }
      this.#writers.push(writerId)
      this.#writerRefs.push(0)
    }
    this.#writerIndex.set(writerId, index)
    return index
  }

  #releaseWriter (index: number): void {
    if (--this.#writerRefs[index] === 0 && index !== 0) {
      this.#writerIndex.delete(this.#writers[index])
      this.#writers[index] = ''
      this.#freeWriters.push(index)
    }
  }

  // ---------------------------------------------------------------- internals: background work

  #writeMaintenance (now: number, writtenBytes: number): void {
    if (this.#qCount[Q_TOMBSTONES] > 0 || this.#expiring > 0) this.#sweepSome(SWEEP_STEPS_PER_WRITE, now)
    if (this.#arena.needsCompaction()) {
      this.#arena.compact(Math.max(MIN_COMPACT_BUDGET, COMPACT_BUDGET_PER_WRITTEN_BYTE * (writtenBytes + RECORD_HEADER_BYTES)))
    }
  }

  #readMaintenance (): void {
    if (this.#qCount[Q_TOMBSTONES] > 0 || this.#expiring > 0) {
      this.#sweepSome(SWEEP_STEPS_PER_READ, this.#clock.now())
      if (this.#pendingKeys.length > 0) this.#flush()
    }
  }

  /** Collects due tombstones, then checks slots for expiry from the sweep cursor; `maxWork` steps in all. */
  #sweepSome (maxWork: number, now: number): number {
    let removed = 0
    let work = 0
    const times = this.#times
    while (work < maxWork) {
      const t = this.#qHead[Q_TOMBSTONES]
      if (t < 0 || times[t * F_STRIDE + EXPIRES_AT] > now) break
      this.#remove(t, null)
      this.#tombstonesCollected++
      removed++
      work++
    }
    if (this.#expiring > 0) {
      const meta = this.#meta
      const end = this.#slotsUsed
      let c = this.#sweepCursor
      for (let visited = 0; work < maxWork && visited < end; visited++, work++) {
        if (c >= end) c = 0
        const info = meta[c * I_STRIDE + INFO]
        if ((info & QUEUE_BITS) !== 0 && this.#isExpired(c, info, now)) {
          this.#remove(c, 'expire')
          removed++
        }
        c++
      }
      this.#sweepCursor = c
    }
    return removed
  }

  // ---------------------------------------------------------------- internals: keys and notifications

  #notify (key: string, reason: RemovalReason): void {
    this.#pendingKeys.push(key)
    this.#pendingReasons.push(reason)
  }

  /** Calls `onRemove` for every pending removal; rethrows the first error after calling all of them. */
  #flush (): void {
    const keys = this.#pendingKeys
    if (keys.length === 0) return
    const reasons = this.#pendingReasons
    const onRemove = this.#onRemove!
    let error: unknown
    let failed = false
    while (this.#pendingHead < keys.length) {
      const i = this.#pendingHead++
      try {
        onRemove(keys[i], reasons[i])
      } catch (e) {
        if (!failed) { failed = true; error = e }
      }
    }
    keys.length = 0
    reasons.length = 0
    this.#pendingHead = 0
    if (failed) throw error
  }

  #decodeKey (s: number): string {
    const meta = this.#meta
    const b = s * I_STRIDE
    const info = meta[b + INFO]
    const bytes = info & KEY_BYTES
    const buf = this.#arena.chunks[meta[b + CHUNK]]
    const start = meta[b + OFFSET] + RECORD_HEADER_BYTES
    if ((info & LATIN1) !== 0) {
      if (bytes <= 32) {
        let key = ''
        for (let i = 0; i < bytes; i++) key += String.fromCharCode(buf[start + i])
        return key
      }
      return decodeCodes(buf.subarray(start, start + bytes))
    }
    const codes = new Uint16Array(bytes >>> 1)
    for (let i = 0; i < codes.length; i++) codes[i] = buf[start + 2 * i] | (buf[start + 2 * i + 1] << 8)
    return decodeCodes(codes)
  }

  #keyStartsWith (s: number, prefix: string): boolean {
    const meta = this.#meta
    const b = s * I_STRIDE
    const info = meta[b + INFO]
    const latin1 = (info & LATIN1) !== 0
    const chars = latin1 ? info & KEY_BYTES : (info & KEY_BYTES) >>> 1
    if (prefix.length > chars) return false
    const buf = this.#arena.chunks[meta[b + CHUNK]]
    const start = meta[b + OFFSET] + RECORD_HEADER_BYTES
    for (let i = 0; i < prefix.length; i++) {
      const code = latin1 ? buf[start + i] : buf[start + 2 * i] | (buf[start + 2 * i + 1] << 8)
      if (code !== prefix.charCodeAt(i)) return false
    }
    return true
  }
}

function decodeCodes (codes: Uint8Array | Uint16Array): string {
  let out = ''
  for (let i = 0; i < codes.length; i += DECODE_CHUNK) {
    out += String.fromCharCode.apply(null, codes.subarray(i, i + DECODE_CHUNK) as unknown as number[])
  }
  return out
}

function invalidKey (key: unknown): InvalidKeyError {
  if (typeof key !== 'string') return new InvalidKeyError(`keys must be strings, got ${typeof key}`)
  return new InvalidKeyError('keys must not be empty')
}
