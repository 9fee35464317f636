/**
 * LocalStore: the local store of one namespace on one peer. Byte-bounded, TTL and max-idle expiry,
 * W-TinyLFU or LRU eviction, every entry versioned with a hybrid logical clock, deletes kept as tombstones.
 *
 * Layout (chosen for memory and for few cache misses per `get`; a Map of objects costs 200+ bytes per
 * entry, this about 70 beyond the key and value):
 * - Entry records, in one arena (`arena.ts`): 40 bytes of metadata (48 with `maxIdleMs`: LRU links,
 *   value location and length, flags, version, expiry) followed by the key bytes, 8-byte aligned, named by
 *   a 31-bit address. No view of them is ever handed out, so they are updated in place; they move only
 *   when that arena compacts after deletes and evictions. A `get` touches only this dense arena.
 * - Values, in a second arena: `[int32 owner record address][value bytes]`. A value record is immutable
 *   once a view of it was handed out (`get` returns a view that keeps showing the same bytes forever); a
 *   write then appends a new value record and the old one dies. A value nobody has seen (a per-entry
 *   bit) is overwritten in place when the new one fits its record. Compaction copies live value records
 *   out of mostly-dead chunks and repoints their entry.
 * - Index: an open-addressing table of (32-bit key hash, entry address) cells in one Int32Array (linear
 *   probing, power-of-two size, load at most 0.7, backward-shift deletion) on a hash of the key's UTF-16
 *   code units (`key.ts`). Probing compares hashes in the table; an entry is read only when the hash
 *   matches, then its key bytes are compared. Entries do not store their hash: it is recomputed from the
 *   key bytes when needed (evictions, deletions, moves).
 *
 * Eviction: W-TinyLFU as in Caffeine's BoundedLocalCache (Einziger, Friedman, Manes: "TinyLFU", 2017): a
 * window LRU of ~1% admits every new entry; entries leaving the window become candidates for the main
 * space, a segmented LRU (probation 20% / protected 80%); a candidate enters only if the frequency sketch
 * (`frequency-sketch.ts`) rates it above the probation victim, otherwise the candidate itself is evicted.
 * The sketch counts every `get` (hit or miss) and every overwrite. Or plain LRU. Both policies count
 * against `maxBytes` and optionally `maxEntries`.
 *
 * Recency under W-TinyLFU is CLOCK's approximation of LRU (Corbató 1968; the second-chance list of
 * CLOCK-Pro and of Linux's page cache): a use (a `get` hit or an overwrite) only sets a USED bit in the
 * entry, whose line the lookup has just read, and moves nothing. The queues act on the bit when they
 * look at their LRU end: a used window or protected head has its bit cleared and goes to the MRU end (a
 * second chance), a used probation head is promoted to protected (Caffeine promotes on the use itself).
 * Moving on every use would cost the misses of touching both list neighbours on every hit; measured on
 * the store benchmark, marking instead makes get-hit ~20 % faster and leaves the hit ratios of the six
 * Zipf and scan traces equal or up to 0.2 points higher. Plain LRU keeps exact recency: a `get` hit
 * records its entry in a read buffer whose moves are done in one batch when it fills and before any
 * write, removal or compaction, so evictions are exactly those of moving on every read. Sketch
 * increments (reads and overwrites) are buffered likewise and applied before the sketch is read
 * (admission) or resized; in a batch, the cache misses of independent updates overlap.
 *
 * Invariants (checked by `assertInvariants()`):
 * - `bytes` = Σ over entries of key bytes + value bytes + ENTRY_OVERHEAD_BYTES (tombstones: no value), and
 *   after every public call `bytes <= maxBytes` and entries <= `maxEntries`;
 * - every value that leaves the store is reported once to `onRemove` with its reason and counted
 *   (tombstones hold no value and are not reported);
 * - a write refused for its size or key changes nothing;
 * - the version held for a key only grows (last-writer-wins on `(physical, logical, writerId)`); local
 *   writes use the HLC, which has merged every applied version, so they are always the newest.
 *
 * Time: `clock.now()` only, read lazily (a `get` of an entry without TTL or max-idle reads no clock).
 * Expired entries are removed when touched, and by an incremental sweep: a cursor walking the entries, a
 * few on every write, every 32nd read and `sweep(maxWork)`. Tombstones are kept in deletion order and
 * collected from the oldest once their grace has passed. No timers.
 */
import { InvalidKeyError, InvalidOptionError, MeshcacheError, ValueTooLargeError } from '../errors.js'
import type { Clock } from '../env/clock.js'
import { align8, Arena, newCursor, OFFSET_BITS, OFFSET_MASK, type ArenaCursor } from './arena.js'
import { FrequencySketch } from './frequency-sketch.js'
import { assertValidVersion, compareWriterIds, InvalidVersionError, MAX_LOGICAL, type Hlc, type Version } from './hlc.js'
import { hashStoredKey, KeyBuffer, utf8Length } from './key.js'
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



// Entry record layout. Int32 fields, from the record's int32 index (address offset bits << 1):
const PREV = 0 // previous entry in the queue (towards LRU), or -1
const NEXT = 1 // next entry in the queue (towards MRU), or -1
const VALUE = 2 // address of the value record, or -1 (tombstone, empty value)
const VLEN = 3 // value bytes
const INFO = 4 // key bytes (16 bits) | flags | queue (0 = dead)
const VER = 5 // HLC logical (16 bits) | writer index (16 bits)
// Float64 fields, from the record's float64 index (address offset bits):
const EXPIRES_AT = 3 // TTL deadline (Infinity: none); for a tombstone, the end of its grace
const PHYSICAL = 4 // HLC physical time
const IDLE_UNTIL = 5 // max-idle deadline; present only when the store has maxIdleMs
/** Metadata bytes before the key: 40, or 48 with the max-idle deadline. */
const META_BYTES = 40
const META_BYTES_IDLE = 48
/** Value records start with the address of their entry (or minus their length once dead). */
const VALUE_HEADER_BYTES = 4

const KEY_BYTES = 0xffff
const LATIN1 = 1 << 16
const TOMBSTONE = 1 << 17
const EXPIRES = 1 << 18 // has a finite TTL or idle deadline
const EXPOSED = 1 << 19 // a view of the current value record was handed out: never rewrite it in place
const QUEUE_SHIFT = 20
const QUEUE_BITS = 7 << QUEUE_SHIFT
const USED = 1 << 23 // W-TinyLFU: used (read or overwritten) since its queue last looked at it

// Queues: doubly linked lists through PREV/NEXT, head = least recently used. 0 marks a dead record.
const Q_DEAD = 0
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
const MIN_TABLE_CELLS = 64
const SWEEP_STEPS_PER_WRITE = 4
const SWEEP_STEPS_PER_READ = 8
const MIN_COMPACT_BUDGET = 1024
const COMPACT_BUDGET_PER_WRITTEN_BYTE = 8
const DECODE_CHUNK = 8192
/** LRU: hits buffered before their queue moves are done in one batch (see `#drainReads`). */
const READ_BUFFER_READS = 128
/** Uses buffered before their frequency sketch increments are done in one batch (see `#drainSketch`). */
const SKETCH_BUFFER_INCREMENTS = 128

export class LocalStore implements Iterable<[string, Uint8Array]> {
  readonly #clock: Clock
  readonly #hlc: Hlc
  readonly #policy: number
  /** USED under W-TinyLFU (a use is marked in the entry), 0 under LRU (a use moves the entry). */
  readonly #useMark: number
  readonly #eviction: EvictionPolicy
  readonly #maxBytes: number
  readonly #maxEntries: number
  readonly #maxValueBytes: number
  readonly #maxKeyBytes: number
  readonly #defaultTtlMs: number
  readonly #maxIdleMs: number
  readonly #metaBytes: number
  readonly #graceMs: number
  readonly #onRemove: ((key: string, reason: RemovalReason) => void) | undefined
  readonly #seed: number
  readonly #windowMaxBytes: number
  readonly #windowMaxEntries: number
  readonly #protectedMaxBytes: number
  readonly #protectedMaxEntries: number

  /** Entry records (metadata + key). */
  readonly #entries: Arena
  /** Value records. */
  readonly #values: Arena
  readonly #sketch: FrequencySketch | null
  #random: number

  // Index: cell i is (hash at 2i, entry address at 2i + 1); address -1 = empty
  #table: Int32Array
  #tableMask: number
  #tableCount = 0

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

  #sweepCursor: ArenaCursor = newCursor()
  #reads = 0

  // Read buffer (LRU only): the entry of each `get` hit, in order, whose queue move is pending; see #drainReads
  readonly #readBuffer = new Int32Array(READ_BUFFER_READS)
  #readCount = 0
  // Frequency sketch increments not applied yet (key hashes, in order); see #drainSketch
  readonly #sketchBuffer = new Int32Array(SKETCH_BUFFER_INCREMENTS)
  #sketchCount = 0

  /** The key of the current call, read once (hash, stored form); see `#unstorable` and `#checkKey`. */
  readonly #key: KeyBuffer

  constructor (init: LocalStoreInit) {
    const o = resolveInit(init)
    this.#clock = o.clock
    this.#hlc = o.hlc
    this.#eviction = o.eviction
    this.#policy = o.eviction === 'lru' ? POLICY_LRU : POLICY_WTINYLFU
    this.#useMark = this.#policy === POLICY_WTINYLFU ? USED : 0
    this.#maxBytes = o.maxBytes
    this.#maxEntries = o.maxEntries
    this.#maxValueBytes = o.maxValueBytes
    this.#maxKeyBytes = o.maxKeyBytes
    this.#defaultTtlMs = o.defaultTtlMs
    this.#maxIdleMs = o.maxIdleMs
    this.#metaBytes = o.maxIdleMs > 0 ? META_BYTES_IDLE : META_BYTES
    this.#graceMs = o.tombstoneGraceMs
    this.#onRemove = o.onRemove
    this.#seed = o.hashSeed
    this.#key = new KeyBuffer(o.maxKeyBytes, o.hashSeed)
    this.#random = (o.hashSeed ^ 0x5bd1e995) | 1
    this.#windowMaxBytes = windowMaximum(o.maxBytes, false)
    this.#windowMaxEntries = windowMaximum(o.maxEntries, true)
    this.#protectedMaxBytes = protectedMaximum(o.maxBytes, this.#windowMaxBytes)
    this.#protectedMaxEntries = protectedMaximum(o.maxEntries, this.#windowMaxEntries)
    this.#writers = [o.writerId]
    this.#writerRefs = [1] // pinned
    this.#writerIndex.set(o.writerId, 0)
    this.#table = newTable(MIN_TABLE_CELLS)
    this.#tableMask = MIN_TABLE_CELLS - 1

    const metaBytes = this.#metaBytes
    this.#entries = new Arena(o.arenaChunkBytes, {
      recordBytes: (chunk, offset) => align8(metaBytes + (chunk[(offset >>> 2) + INFO] & KEY_BYTES)),
      isLive: (chunk, offset) => (chunk[(offset >>> 2) + INFO] & QUEUE_BITS) !== 0,
      moved: (from, to) => { this.#entryMoved(from, to) }
    })
    this.#values = new Arena(o.arenaChunkBytes, {
      recordBytes: (chunk, offset) => {
        const owner = chunk[offset >>> 2]
        return owner < 0 ? -owner : align8(VALUE_HEADER_BYTES + this.#field(owner, VLEN))
      },
      isLive: (chunk, offset) => chunk[offset >>> 2] >= 0,
      moved: (from, to) => { this.#valueMoved(from, to) }
    })
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
    if (this.#unstorable(key)) {
      this.#misses++
      return undefined
    }
    const h = this.#key.read(key)
    const a = this.#find(h)
    if (a >= 0) {
      const r = this.#entries.i32[a >>> OFFSET_BITS]
      const ri = (a & OFFSET_MASK) << 1
      const info = r[ri + INFO]
      if ((info & (TOMBSTONE | EXPIRES)) === 0 || this.#aliveOnRead(a, info, true)) {
        this.#hits++
        const v = r[ri + VALUE]
        // W-TinyLFU marks the use in the entry (its queues act on it later); LRU moves the entry, buffered.
        const marked = info | EXPOSED | this.#useMark
        if (marked !== info) {
          r[ri + INFO] = marked
          if ((info & EXPOSED) === 0 && v >= 0) this.#values.exposed[v >>> OFFSET_BITS] = 1
        }
        this.#countUse(h)
        if (this.#useMark === 0) this.#recordHit(a)
        if ((++this.#reads & 31) === 0) this.#readMaintenance()
        if (v < 0) return new Uint8Array(0)
        return new Uint8Array(this.#values.buffers[v >>> OFFSET_BITS], ((v & OFFSET_MASK) << 3) + VALUE_HEADER_BYTES, r[ri + VLEN])
      }
    }
    this.#misses++
    this.#countUse(h)
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
    const a = this.#findLive(key)
    return a < 0 ? undefined : this.#valueView(a)
  }

  /** True when a live value is stored under `key` (does not count as a use). */
  has (key: string): boolean {
    return this.#findLive(key) >= 0
  }

  /** The stored entry, tombstones included, with its version and expiry (does not count as a use). */
  getEntry (key: string): StoreEntry | undefined {
    if (this.#unstorable(key)) return undefined
    const a = this.#find(this.#key.read(key))
    if (a < 0) return undefined
    const info = this.#field(a, INFO)
    if ((info & TOMBSTONE) === 0 && (info & EXPIRES) !== 0 && !this.#aliveOnRead(a, info, false)) {
      this.#flush()
      return undefined
    }
    return this.#entryAt(a, key)
  }

  // ---------------------------------------------------------------- local writes

  /**
   * Stores `value` under `key`, versioned with this peer's HLC. Throws `InvalidKeyError` (empty or too long
   * key) or `ValueTooLargeError` (value over `maxValueBytes`, or key + value + overhead over `maxBytes`);
   * a refused write changes nothing. Returns false when W-TinyLFU refused to admit the new entry (then
   * `onRemove(key, 'evict')` was called), true when the value is stored.
   */
  set (key: string, value: Uint8Array, options?: SetOptions): boolean {
    if (!(value instanceof Uint8Array)) throw notBytes()
    const h = this.#checkKey(key)
    const keyBytes = this.#key.storedBytes
    const vlen = value.length // = byteLength for bytes; V8 inlines `length`, `byteLength` stays a getter call
    this.#checkSize(keyBytes, vlen)
    const ttlMs = options?.ttlMs
    if (ttlMs !== undefined && !(ttlMs > 0)) {
      throw new InvalidOptionError(`set: ttlMs must be a positive number of milliseconds (or Infinity for none), got ${String(ttlMs)}`)
    }
    const now = this.#clock.now()
    const ttl = ttlMs ?? this.#defaultTtlMs
    const hlc = this.#hlc
    hlc.tickAt(now)
    const stored = this.#write(key, h, this.#key.latin1, keyBytes, value, hlc.lastPhysical, hlc.lastLogical, 0,
      ttl > 0 ? now + ttl : Infinity, now, this.#find(h), 'set')
    this.#sets++
    this.#writeMaintenance(now, keyBytes + vlen)
    if (this.#pendingKeys.length > 0) this.#flush()
    return stored
  }

  /** `set` for each `[key, value, options?]`. Every item is checked first: one bad item stores nothing. */
  setMany (items: Iterable<readonly [string, Uint8Array] | readonly [string, Uint8Array, SetOptions | undefined]>): boolean[] {
    const list = Array.from(items)
    for (const item of list) {
      if (!(item[1] instanceof Uint8Array)) throw notBytes()
      this.#checkKey(item[0])
      this.#checkSize(this.#key.storedBytes, item[1].length)
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
   * cannot bring the old value back), even when no value was stored. Returns true when a live value was
   * removed.
   */
  delete (key: string): boolean {
    const h = this.#checkKey(key)
    const now = this.#clock.now()
    const a = this.#find(h)
    const keyBytes = this.#key.storedBytes
    let removed = false
    if (a >= 0) {
      const info = this.#field(a, INFO)
      removed = (info & TOMBSTONE) === 0 && !this.#isExpired(a, info, now)
    }
    if (this.#graceMs === 0) {
      if (a >= 0) this.#remove(a, this.#removalReason(a, now, 'delete'))
    } else {
      const hlc = this.#hlc
      hlc.tickAt(now)
      this.#write(key, h, this.#key.latin1, keyBytes, null, hlc.lastPhysical, hlc.lastLogical, 0, Infinity, now, a, 'delete')
    }
    if (removed) this.#deletes++
    this.#writeMaintenance(now, keyBytes)
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
    const cursor = newCursor()
    for (let a = this.#entries.next(cursor); a >= 0; a = this.#entries.next(cursor)) {
      if ((this.#field(a, INFO) & TOMBSTONE) !== 0) continue
      this.#removals.delete++
      if (this.#onRemove !== undefined) this.#notify(this.#decodeKey(a), 'delete')
    }
    this.#entries.clear()
    this.#values.clear()
    // The queues and the sketch start over: buffered reads have nothing left to update.
    this.#readCount = 0
    this.#sketchCount = 0
    this.#table = newTable(MIN_TABLE_CELLS)
    this.#tableMask = MIN_TABLE_CELLS - 1
    this.#tableCount = 0
    this.#sketch?.clear()
    this.#qHead.fill(-1)
    this.#qTail.fill(-1)
    this.#qCount.fill(0)
    this.#qBytes.fill(0)
    this.#bytes = 0
    this.#live = 0
    this.#tombstones = 0
    this.#expiring = 0
    this.#sweepCursor = newCursor()
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
    if (value !== null && !(value instanceof Uint8Array)) throw notBytes()
    const h = this.#checkKey(key)
    const latin1 = this.#key.latin1
    const keyBytes = this.#key.storedBytes
    if (value !== null) this.#checkSize(keyBytes, value.length)
    assertValidVersion(version)
    const expiresAt = entry.expiresAt ?? Infinity
    if (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)) {
      throw new InvalidVersionError(`apply: expiresAt must be a number of milliseconds since the epoch, got ${String(expiresAt)}`)
    }
    const now = this.#clock.now()
    this.#hlc.update(version)
    let a = this.#find(h)
    if (a >= 0) {
      const info = this.#field(a, INFO)
      if ((info & TOMBSTONE) === 0 && this.#isExpired(a, info, now)) {
        this.#remove(a, 'expire')
        a = -1
      } else if (this.#compareHeld(a, version) >= 0) {
        this.#applyStale++
        this.#flush()
        return false
      }
    }
    const dead = value === null || expiresAt <= now
    const reason: RemovalReason = value === null ? 'delete' : 'set'
    if (dead && this.#graceMs === 0) {
      if (a >= 0) this.#remove(a, (this.#field(a, INFO) & TOMBSTONE) !== 0 ? null : reason)
    } else {
      const writer = this.#internWriter(version.writerId)
      this.#write(key, h, latin1, keyBytes, dead ? null : value, version.physical, version.logical, writer,
        dead ? Infinity : expiresAt, now, a, reason)
    }
    this.#applied++
    this.#writeMaintenance(now, keyBytes + (value === null ? 0 : value.length))
    this.#flush()
    return true
  }

  /**
   * Every entry, tombstones included, for replication (hand-off, anti-entropy). Weakly consistent, and
   * safe to interleave with writes: every entry that stays in the store unchanged for the whole
   * iteration is yielded exactly once; entries written during it may or may not be; the iteration
   * always ends. Expired entries are skipped. Does not count as a use. Finish the iteration or leave the
   * loop (`for...of` and `return()` both do): until then, compaction of entry records stays behind it.
   */
  * entries (): Generator<StoreEntry, void, undefined> {
    const cursor = this.#entries.cursor()
    this.#entries.protect(cursor)
    try {
      for (let a = this.#entries.next(cursor); a >= 0; a = this.#entries.next(cursor)) {
        const info = this.#field(a, INFO)
        if ((info & EXPIRES) !== 0 && this.#isExpired(a, info, this.#clock.now())) continue
        yield this.#entryAt(a, this.#decodeKey(a))
      }
    } finally {
      this.#entries.release(cursor)
    }
  }

  /** Live `[key, value]` pairs (no tombstones), with the guarantees of `entries()`. */
  * [Symbol.iterator] (): Generator<[string, Uint8Array], void, undefined> {
    const cursor = this.#entries.cursor()
    this.#entries.protect(cursor)
    try {
      for (let a = this.#entries.next(cursor); a >= 0; a = this.#entries.next(cursor)) {
        const info = this.#field(a, INFO)
        if ((info & TOMBSTONE) !== 0) continue
        if ((info & EXPIRES) !== 0 && this.#isExpired(a, info, this.#clock.now())) continue
        yield [this.#decodeKey(a), this.#valueView(a)]
      }
    } finally {
      this.#entries.release(cursor)
    }
  }

  /** Live keys, with the guarantees of `entries()`. */
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
    const matches: Array<{ key: string, address: number }> = []
    const cursor = newCursor()
    for (let a = this.#entries.next(cursor); a >= 0; a = this.#entries.next(cursor)) {
      const info = this.#field(a, INFO)
      if ((info & TOMBSTONE) !== 0 || this.#isExpired(a, info, now)) continue
      if (prefix !== undefined && !this.#keyStartsWith(a, prefix)) continue
      const key = this.#decodeKey(a)
      if (pattern !== undefined) {
        pattern.lastIndex = 0
        if (!pattern.test(key)) continue
      }
      matches.push({ key, address: a })
    }
    matches.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    const page = matches.slice(offset, limit === Infinity ? undefined : offset + limit)
    return { items: page.map((m) => ({ key: m.key, value: this.#valueView(m.address) })), total: matches.length }
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Does up to `maxWork` steps of background work now: collects tombstones whose grace has passed,
   * removes expired entries (reported as `'expire'`) and advances compaction. Returns how many entries
   * and tombstones it removed.
   */
  sweep (maxWork = 1024): number {
    if (!Number.isSafeInteger(maxWork) || maxWork < 1) throw new InvalidOptionError(`sweep: maxWork must be a positive integer, got ${String(maxWork)}`)
    const removed = this.#sweepSome(maxWork, this.#clock.now())
    if (this.#readCount > 0) this.#drainReads() // before compaction moves entries
    if (this.#values.needsCompaction()) this.#values.compact(maxWork * 128)
    if (this.#entries.needsCompaction()) this.#entries.compact(maxWork * 64)
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
      arenaBytes: this.#entries.heldBytes + this.#values.heldBytes,
      arenaLiveBytes: this.#entries.liveBytes + this.#values.liveBytes,
      compactedBytes: this.#entries.movedBytes + this.#values.movedBytes,
      eviction: this.#eviction
    }
  }

  /**
   * Recomputes every gauge from scratch and checks the store's internal structure (index, queues,
   * arenas); throws on the first inconsistency. O(entries): for tests and debugging.
   */
  assertInvariants (): void {
    const fail = (msg: string): never => { throw new Error(`meshcache invariant violated: LocalStore ${msg}`) }
    let bytes = 0
    let live = 0
    let tombs = 0
    let expiring = 0
    let entryBytes = 0
    let valueBytes = 0
    const counts = new Array<number>(QUEUES).fill(0)
    const qbytes = new Array<number>(QUEUES).fill(0)
    const cursor = newCursor()
    for (let a = this.#entries.next(cursor); a >= 0; a = this.#entries.next(cursor)) {
      const info = this.#field(a, INFO)
      const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
      const w = this.#weight(a)
      bytes += w
      counts[q]++
      qbytes[q] += w
      entryBytes += align8(this.#metaBytes + (info & KEY_BYTES))
      const v = this.#field(a, VALUE)
      if (v >= 0) {
        valueBytes += align8(VALUE_HEADER_BYTES + this.#field(a, VLEN))
        if (this.#values.i32[v >>> OFFSET_BITS][(v & OFFSET_MASK) << 1] !== a) fail(`value record of ${a} names another owner`)
      } else if (this.#field(a, VLEN) !== 0) {
        fail(`entry ${a} has value bytes but no value record`)
      }
      if ((info & TOMBSTONE) !== 0) {
        tombs++
        if (q !== Q_TOMBSTONES) fail(`tombstone in queue ${q}`)
      } else {
        live++
        if ((info & EXPIRES) !== 0) expiring++
        if (q === Q_TOMBSTONES) fail('live entry in the tombstone queue')
        if (this.#policy === POLICY_LRU && q !== Q_PROBATION) fail(`LRU entry in queue ${q}`)
      }
      const h = this.#key.read(this.#decodeKey(a))
      if (h !== this.#hashAt(a)) fail(`entry ${a}: its key bytes and its decoded key hash differently`)
      if (this.#find(h) !== a) fail(`entry ${a} not found by its key`)
    }
    for (let q = 1; q < QUEUES; q++) {
      let n = 0
      let prev = -1
      for (let a = this.#qHead[q]; a >= 0; a = this.#field(a, NEXT)) {
        if (this.#field(a, PREV) !== prev) fail(`queue ${q} has a broken back link at ${a}`)
        if (((this.#field(a, INFO) & QUEUE_BITS) >>> QUEUE_SHIFT) !== q) fail(`entry ${a} linked in queue ${q} but marked otherwise`)
        prev = a
        if (++n > this.#tableCount) fail(`queue ${q} has a cycle`)
      }
      if (prev !== this.#qTail[q]) fail(`queue ${q} tail is wrong`)
      if (n !== counts[q] || n !== this.#qCount[q]) fail(`queue ${q} count ${this.#qCount[q]}, linked ${n}, marked ${counts[q]}`)
      if (qbytes[q] !== this.#qBytes[q]) fail(`queue ${q} bytes ${this.#qBytes[q]}, recomputed ${qbytes[q]}`)
    }
    if (bytes !== this.#bytes) fail(`bytes ${this.#bytes}, recomputed ${bytes}`)
    if (live !== this.#live || tombs !== this.#tombstones || expiring !== this.#expiring) fail('entry counts are wrong')
    let cells = 0
    for (let i = 1; i < this.#table.length; i += 2) {
      const a = this.#table[i]
      if (a < 0) continue
      cells++
      if (this.#table[i - 1] !== this.#hashAt(a)) fail(`table cell ${i >> 1} holds a wrong hash`)
    }
    if (live + tombs !== this.#tableCount || cells !== this.#tableCount) fail(`table holds ${cells} (counted ${this.#tableCount}) keys for ${live + tombs} entries`)
    if (entryBytes !== this.#entries.liveBytes) fail(`entry arena live bytes ${this.#entries.liveBytes}, recomputed ${entryBytes}`)
    if (valueBytes !== this.#values.liveBytes) fail(`value arena live bytes ${this.#values.liveBytes}, recomputed ${valueBytes}`)
    if (this.#bytes > this.#maxBytes || live + tombs > this.#maxEntries) fail('over capacity')
  }

  // ---------------------------------------------------------------- internals: entry fields

  #field (a: number, field: number): number {
    return this.#entries.i32[a >>> OFFSET_BITS][((a & OFFSET_MASK) << 1) + field]
  }

  #setField (a: number, field: number, value: number): void {
    this.#entries.i32[a >>> OFFSET_BITS][((a & OFFSET_MASK) << 1) + field] = value
  }

  #time (a: number, field: number): number {
    return this.#entries.f64[a >>> OFFSET_BITS][(a & OFFSET_MASK) + field]
  }

  /** The key hash of the entry at `a`, recomputed from its stored key bytes. */
  #hashAt (a: number): number {
    const info = this.#field(a, INFO)
    const latin1 = (info & LATIN1) !== 0
    const bytes = info & KEY_BYTES
    return hashStoredKey(this.#entries.u8[a >>> OFFSET_BITS], ((a & OFFSET_MASK) << 3) + this.#metaBytes,
      latin1 ? bytes : bytes >>> 1, latin1, this.#seed)
  }

  /** Accounted bytes of the entry at `a` (key + value + overhead). */
  #weight (a: number): number {
    const r = this.#entries.i32[a >>> OFFSET_BITS]
    const ri = (a & OFFSET_MASK) << 1
    return (r[ri + INFO] & KEY_BYTES) + r[ri + VLEN] + ENTRY_OVERHEAD_BYTES
  }

  #valueView (a: number): Uint8Array {
    const r = this.#entries.i32[a >>> OFFSET_BITS]
    const ri = (a & OFFSET_MASK) << 1
    const v = r[ri + VALUE]
    r[ri + INFO] |= EXPOSED
    if (v < 0) return new Uint8Array(0)
    this.#values.exposed[v >>> OFFSET_BITS] = 1
    return new Uint8Array(this.#values.buffers[v >>> OFFSET_BITS], ((v & OFFSET_MASK) << 3) + VALUE_HEADER_BYTES, r[ri + VLEN])
  }

  #entryAt (a: number, key: string): StoreEntry {
    const info = this.#field(a, INFO)
    const ver = this.#field(a, VER)
    const entry: StoreEntry = {
      key,
      value: (info & TOMBSTONE) !== 0 ? null : this.#valueView(a),
      version: { physical: this.#time(a, PHYSICAL), logical: ver & MAX_LOGICAL, writerId: this.#writers[ver >>> 16] }
    }
    const expiresAt = this.#time(a, EXPIRES_AT)
    if ((info & TOMBSTONE) === 0 && expiresAt !== Infinity) entry.expiresAt = expiresAt
    return entry
  }

  // ---------------------------------------------------------------- internals: lookup

  /**
   * For a key to look up: throws `InvalidKeyError` unless it is a non-empty string; true when it is too
   * long to be stored, so absent (a stored key has at most maxKeyBytes UTF-8 bytes, so at most that many
   * code units); otherwise `#key.read` may read it.
   */
  #unstorable (key: string): boolean {
    if (typeof key !== 'string' || key.length === 0) throw invalidKey(key)
    return key.length > this.#maxKeyBytes
  }

  /** Address of the entry holding the key in `#key` (hash `h`): live, expired or tombstone; -1 when absent. */
  #find (h: number): number {
    const table = this.#table
    const mask = this.#tableMask
    const i32 = this.#entries.i32
    const u8 = this.#entries.u8
    const metaBytes = this.#metaBytes
    const key = this.#key
    const want = key.storedBytes | (key.latin1 ? LATIN1 : 0)
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const a = table[2 * i + 1]
      if (a < 0) return -1
      if (table[2 * i] !== h) continue
      const c = a >>> OFFSET_BITS
      const words = i32[c]
      // Same stored length and form (a key is stored Latin-1 exactly when all its code units are < 256).
      if ((words[((a & OFFSET_MASK) << 1) + INFO] & (KEY_BYTES | LATIN1)) !== want) continue
      if (key.equals(u8[c], words, ((a & OFFSET_MASK) << 3) + metaBytes)) return a
    }
  }

  /** Address of a live, unexpired value under `key` (removing it if expired), or -1. */
  #findLive (key: string): number {
    if (this.#unstorable(key)) return -1
    const a = this.#find(this.#key.read(key))
    if (a < 0) return -1
    const info = this.#field(a, INFO)
    if ((info & (TOMBSTONE | EXPIRES)) === 0) return a
    if (this.#aliveOnRead(a, info, false)) return a
    if (this.#pendingKeys.length > 0) this.#flush()
    return -1
  }

  /**
   * For an entry flagged tombstone or expiring: false for a tombstone; removes an expired entry and
   * returns false; otherwise true, refreshing the idle deadline when `use`.
   */
  #aliveOnRead (a: number, info: number, use: boolean): boolean {
    if ((info & TOMBSTONE) !== 0) return false
    const now = this.#clock.now()
    if (this.#isExpired(a, info, now)) {
      this.#remove(a, 'expire')
      return false
    }
    if (use && this.#maxIdleMs > 0) this.#entries.f64[a >>> OFFSET_BITS][(a & OFFSET_MASK) + IDLE_UNTIL] = now + this.#maxIdleMs
    return true
  }

  #isExpired (a: number, info: number, now: number): boolean {
    if ((info & (EXPIRES | TOMBSTONE)) !== EXPIRES) return false
    const f = this.#entries.f64[a >>> OFFSET_BITS]
    const fi = a & OFFSET_MASK
    return now >= f[fi + EXPIRES_AT] || (this.#maxIdleMs > 0 && now >= f[fi + IDLE_UNTIL])
  }

  /** The reason to report for a live entry displaced by `cause` (an expired one is reported as expired). */
  #removalReason (a: number, now: number, cause: RemovalReason): RemovalReason | null {
    const info = this.#field(a, INFO)
    if ((info & TOMBSTONE) !== 0) return null
    return this.#isExpired(a, info, now) ? 'expire' : cause
  }

  /** Held version of entry `a` compared with `v`: negative when `v` is newer. */
  #compareHeld (a: number, v: Version): number {
    const physical = this.#time(a, PHYSICAL)
    if (physical !== v.physical) return physical < v.physical ? -1 : 1
    const ver = this.#field(a, VER)
    const logical = ver & MAX_LOGICAL
    if (logical !== v.logical) return logical < v.logical ? -1 : 1
    return compareWriterIds(this.#writers[ver >>> 16], v.writerId)
  }

  // ---------------------------------------------------------------- internals: checks

  /** Validates a key for writing and reads it into `#key`; returns its hash. */
  #checkKey (key: string): number {
    if (typeof key !== 'string' || key.length === 0) throw invalidKey(key)
    // A UTF-8 character takes at most 3 bytes per UTF-16 code unit: short keys need no exact count.
    if (key.length * 3 > this.#maxKeyBytes) {
      const utf8 = utf8Length(key)
      if (utf8 > this.#maxKeyBytes) {
        this.#rejected++
        throw new InvalidKeyError(`key is ${utf8} bytes in UTF-8, over maxKeyBytes ${this.#maxKeyBytes}; use a shorter key or raise maxKeyBytes`)
      }
    }
    return this.#key.read(key) // at most maxKeyBytes code units: fits
  }

  /** Refuses an entry whose value is over `maxValueBytes` or whose accounted size is over `maxBytes`. */
  #checkSize (keyBytes: number, valueBytes: number): void {
    if (valueBytes > this.#maxValueBytes) {
      this.#rejected++
      throw new ValueTooLargeError('value', valueBytes, this.#maxValueBytes)
    }
    const weight = keyBytes + valueBytes + ENTRY_OVERHEAD_BYTES
    if (weight > this.#maxBytes) {
      this.#rejected++
      throw new ValueTooLargeError(`entry (key + value + ${ENTRY_OVERHEAD_BYTES} bytes overhead)`, weight, this.#maxBytes)
    }
  }

  // ---------------------------------------------------------------- internals: writing

  /**
   * Stores `value` (or a tombstone when null) for `key`: into the entry at `a` when the key is held, else
   * into a new entry. A displaced live value is reported with `cause`
   * (or as expired). Evicts to capacity; returns whether the entry is still stored.
   */
  #write (key: string, h: number, latin1: boolean, keyBytes: number, value: Uint8Array | null,
    physical: number, logical: number, writer: number, expiresAt: number, now: number, a: number,
    cause: RemovalReason): boolean {
    if (this.#readCount > 0) this.#drainReads()
    const tombstone = value === null
    const vlen = tombstone ? 0 : value.length // once (see set)
    this.#writerRefs[writer]++ // before the old version's writer is released: it may be the same one
    let queue: number
    let stayBytes = -1 // >= 0: the entry stays in its queue, where it weighed this much
    if (a < 0) {
      a = this.#newEntry(latin1, keyBytes, h)
      queue = tombstone ? Q_TOMBSTONES : this.#policy === POLICY_LRU ? Q_PROBATION : Q_WINDOW
    } else {
      const r = this.#entries.i32[a >>> OFFSET_BITS]
      const ri = (a & OFFSET_MASK) << 1
      const info = r[ri + INFO]
      const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
      let update = false // a live value overwritten by a value: a use, it keeps its standing
      if ((info & TOMBSTONE) === 0) {
        const reason = this.#isExpired(a, info, now) ? 'expire' : cause
        update = reason === cause && !tombstone
        this.#removals[reason]++
        if (this.#onRemove !== undefined) this.#notify(key, reason)
        this.#live--
        if ((info & EXPIRES) !== 0) this.#expiring--
      } else {
        this.#tombstones--
      }
      const oldWeight = (info & KEY_BYTES) + r[ri + VLEN] + ENTRY_OVERHEAD_BYTES
      this.#bytes -= oldWeight
      this.#releaseWriter(r[ri + VER] >>> 16)
      const v = r[ri + VALUE]
      if (update && v >= 0 && (info & EXPOSED) === 0 && align8(VALUE_HEADER_BYTES + vlen) === align8(VALUE_HEADER_BYTES + r[ri + VLEN])) {
        // Nobody has seen the old value: overwrite it in place.
        copyBytes(value!, vlen, this.#values.u8[v >>> OFFSET_BITS], ((v & OFFSET_MASK) << 3) + VALUE_HEADER_BYTES)
        r[ri + VLEN] = vlen
      } else {
        if (v >= 0) this.#killValue(v, r[ri + VLEN])
        r[ri + VALUE] = -1
        r[ri + VLEN] = 0
        if (vlen > 0) this.#appendValue(a, value!, vlen)
        r[ri + INFO] = info & ~EXPOSED
      }
      if (update && this.#policy === POLICY_WTINYLFU) {
        // An overwrite is a use: counted, and marked in the entry, which keeps its place (see #get).
        this.#countUse(h)
        queue = q
        stayBytes = oldWeight
      } else {
        this.#unlink(a, q, oldWeight)
        queue = tombstone ? Q_TOMBSTONES : this.#policy === POLICY_LRU ? Q_PROBATION : Q_WINDOW
      }
    }

    const c = a >>> OFFSET_BITS
    const r = this.#entries.i32[c]
    const f = this.#entries.f64[c]
    const ri = (a & OFFSET_MASK) << 1
    const fi = a & OFFSET_MASK
    if (tombstone) {
      if (r[ri + VALUE] >= 0) {
        this.#killValue(r[ri + VALUE], r[ri + VLEN])
        r[ri + VALUE] = -1
        r[ri + VLEN] = 0
      }
    } else if (r[ri + VALUE] < 0 && vlen > 0) {
      this.#appendValue(a, value, vlen)
    }
    r[ri + VLEN] = vlen
    r[ri + VER] = logical | (writer << 16)
    f[fi + PHYSICAL] = physical
    let info = r[ri + INFO] & ~(TOMBSTONE | EXPIRES | QUEUE_BITS | USED)
    if (stayBytes >= 0) info |= (queue << QUEUE_SHIFT) | USED
    if (tombstone) {
      info |= TOMBSTONE
      f[fi + EXPIRES_AT] = now + this.#graceMs
      this.#tombstones++
    } else {
      f[fi + EXPIRES_AT] = expiresAt
      if (this.#maxIdleMs > 0) {
        f[fi + IDLE_UNTIL] = now + this.#maxIdleMs
        info |= EXPIRES
      } else if (expiresAt !== Infinity) {
        info |= EXPIRES
      }
      if ((info & EXPIRES) !== 0) this.#expiring++
      this.#live++
      if (this.#policy === POLICY_WTINYLFU && this.#live > this.#sketch!.capacity && this.#maxEntries === Infinity) {
        if (this.#sketchCount > 0) this.#drainSketch() // growing discards the counts, these included
        this.#sketch!.ensureCapacity(this.#live)
      }
    }
    r[ri + INFO] = info
    const weight = keyBytes + vlen + ENTRY_OVERHEAD_BYTES
    this.#bytes += weight
    if (stayBytes >= 0) this.#qBytes[queue] += weight - stayBytes
    else this.#linkTail(a, queue, weight)
    if (queue === Q_PROTECTED) this.#demoteProtectedOverflow()

    if (this.#bytes > this.#maxBytes || this.#live + this.#tombstones > this.#maxEntries || this.#overWindow()) {
      if (this.#policy === POLICY_WTINYLFU) this.#evictWTinyLfu(now)
      else this.#evictLru(now, a)
    }
    return (this.#field(a, INFO) & QUEUE_BITS) !== 0
  }

  /** Appends an entry record for the key in `#key` (not linked in any queue yet) and indexes it. */
  #newEntry (latin1: boolean, keyBytes: number, h: number): number {
    if (this.#tableCount + 1 > (this.#tableMask + 1) * MAX_LOAD) this.#growTable()
    const a = this.#entries.allocate(align8(this.#metaBytes + keyBytes))
    const c = a >>> OFFSET_BITS
    const r = this.#entries.i32[c]
    const ri = (a & OFFSET_MASK) << 1
    r[ri + PREV] = -1
    r[ri + NEXT] = -1
    r[ri + VALUE] = -1
    r[ri + VLEN] = 0
    r[ri + INFO] = keyBytes | (latin1 ? LATIN1 : 0)
    r[ri + VER] = 0
    this.#key.copyTo(r, ((a & OFFSET_MASK) << 3) + this.#metaBytes) // the record is 8-aligned: room for the tail word
    this.#tableInsert(a, h)
    return a
  }

  /** Appends a value record owned by entry `a` and points the entry at it. */
  #appendValue (a: number, value: Uint8Array, vlen: number): void {
    const v = this.#values.allocate(align8(VALUE_HEADER_BYTES + vlen))
    const c = v >>> OFFSET_BITS
    const o = (v & OFFSET_MASK) << 3
    this.#values.i32[c][o >>> 2] = a
    copyBytes(value, vlen, this.#values.u8[c], o + VALUE_HEADER_BYTES)
    this.#setField(a, VALUE, v)
  }

  /** Marks the value record at `v` (holding `vlen` bytes) dead. */
  #killValue (v: number, vlen: number): void {
    const length = align8(VALUE_HEADER_BYTES + vlen)
    this.#values.i32[v >>> OFFSET_BITS][(v & OFFSET_MASK) << 1] = -length
    this.#values.kill(v, length)
  }

  /** Removes the entry at `a` entirely, reporting `reason` (null: a tombstone, not reported). */
  #remove (a: number, reason: RemovalReason | null): void {
    if (this.#readCount > 0) this.#drainReads()
    const info = this.#field(a, INFO)
    if (reason !== null) {
      this.#removals[reason]++
      if (this.#onRemove !== undefined) this.#notify(this.#decodeKey(a), reason)
    }
    const weight = this.#weight(a)
    this.#unlink(a, (info & QUEUE_BITS) >>> QUEUE_SHIFT, weight)
    this.#tableDelete(a, this.#hashAt(a))
    this.#releaseWriter(this.#field(a, VER) >>> 16)
    this.#bytes -= weight
    if ((info & TOMBSTONE) !== 0) {
      this.#tombstones--
    } else {
      this.#live--
      if ((info & EXPIRES) !== 0) this.#expiring--
    }
    const v = this.#field(a, VALUE)
    if (v >= 0) this.#killValue(v, this.#field(a, VLEN))
    this.#entries.kill(a, align8(this.#metaBytes + (info & KEY_BYTES))) // last: it may drop the chunk
  }

  /** Compaction copied the live entry at `from` to `to`: repoint the index, the queue and its value. */
  #entryMoved (from: number, to: number): void {
    const table = this.#table
    const mask = this.#tableMask
    let i = this.#hashAt(to) & mask
    while (table[2 * i + 1] !== from) i = (i + 1) & mask
    table[2 * i + 1] = to
    const info = this.#field(to, INFO)
    const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
    const prev = this.#field(to, PREV)
    const next = this.#field(to, NEXT)
    if (prev >= 0) this.#setField(prev, NEXT, to)
    else this.#qHead[q] = to
    if (next >= 0) this.#setField(next, PREV, to)
    else this.#qTail[q] = to
    const v = this.#field(to, VALUE)
    if (v >= 0) this.#values.i32[v >>> OFFSET_BITS][(v & OFFSET_MASK) << 1] = to
    this.#setField(from, INFO, info & ~QUEUE_BITS)
  }

  /** Compaction copied the live value record at `from` to `to`: repoint its entry, mark `from` dead. */
  #valueMoved (from: number, to: number): void {
    const a = this.#values.i32[to >>> OFFSET_BITS][(to & OFFSET_MASK) << 1]
    this.#setField(a, VALUE, to)
    // Views point at the old copy: the new one was never handed out.
    this.#setField(a, INFO, this.#field(a, INFO) & ~EXPOSED)
    this.#values.i32[from >>> OFFSET_BITS][(from & OFFSET_MASK) << 1] = -align8(VALUE_HEADER_BYTES + this.#field(a, VLEN))
  }

  // ---------------------------------------------------------------- internals: policies

  #overWindow (): boolean {
    return this.#policy === POLICY_WTINYLFU &&
      (this.#qBytes[Q_WINDOW] > this.#windowMaxBytes || this.#qCount[Q_WINDOW] > this.#windowMaxEntries)
  }

  #overCapacity (): boolean {
    return this.#bytes > this.#maxBytes || this.#live + this.#tombstones > this.#maxEntries
  }

  /** LRU: buffers the queue move of a `get` hit on entry `a`; drains when the buffer is full. */
  #recordHit (a: number): void {
    const n = this.#readCount
    this.#readBuffer[n] = a
    this.#readCount = n + 1
    if (n + 1 === READ_BUFFER_READS) this.#drainReads()
  }

  /**
   * LRU: does the buffered hits' queue moves, in read order (each entry moves to the MRU end). Called
   * before anything that reads or changes the queues, or moves or removes an entry (writes, removals,
   * compaction), so the outcome is exactly that of moving on each read; in a batch, the cache misses of
   * independent moves overlap (Caffeine buffers reads the same way).
   */
  #drainReads (): void {
    const n = this.#readCount
    const buffer = this.#readBuffer
    this.#readCount = 0
    const i32 = this.#entries.i32
    for (let i = 0; i < n; i++) {
      const a = buffer[i]
      const q = (i32[a >>> OFFSET_BITS][((a & OFFSET_MASK) << 1) + INFO] & QUEUE_BITS) >>> QUEUE_SHIFT
      if (this.#qTail[q] !== a) this.#moveToTail(a, q)
    }
  }

  /** Counts a use of the key hashing to `h` (a read, hit or miss, or an overwrite) in the sketch, buffered. */
  #countUse (h: number): void {
    if (this.#sketch === null) return
    const n = this.#sketchCount
    this.#sketchBuffer[n] = h
    this.#sketchCount = n + 1
    if (n + 1 === SKETCH_BUFFER_INCREMENTS) this.#drainSketch()
  }

  /**
   * Applies the buffered sketch increments, in order. Called before the sketch is read (admission) or
   * resized, so every estimate is exactly that of incrementing on each use; in a batch, the increments'
   * cache misses overlap.
   */
  #drainSketch (): void {
    const n = this.#sketchCount
    const buffer = this.#sketchBuffer
    const sketch = this.#sketch!
    this.#sketchCount = 0
    for (let i = 0; i < n; i++) sketch.increment(buffer[i])
  }

  /**
   * If the head of queue `q` was used since the queue last looked at it, clears its mark and returns
   * true; `moveToTail` then gives it a second chance (what moving it on every use would have done, in
   * CLOCK's approximation of LRU).
   */
  #consumeUse (a: number): boolean {
    const r = this.#entries.i32[a >>> OFFSET_BITS]
    const ri = ((a & OFFSET_MASK) << 1) + INFO
    const info = r[ri]
    if ((info & USED) === 0) return false
    r[ri] = info & ~USED
    return true
  }

  /** Moves the protected segment's overflow to probation's MRU end; a used head gets a second chance. */
  #demoteProtectedOverflow (): void {
    while (this.#qCount[Q_PROTECTED] > 0 &&
      (this.#qBytes[Q_PROTECTED] > this.#protectedMaxBytes || this.#qCount[Q_PROTECTED] > this.#protectedMaxEntries)) {
      const n = this.#qHead[Q_PROTECTED]
      if (this.#consumeUse(n)) {
        if (this.#qCount[Q_PROTECTED] > 1) this.#moveToTail(n, Q_PROTECTED)
        continue
      }
      const weight = this.#weight(n)
      this.#unlink(n, Q_PROTECTED, weight)
      this.#linkTail(n, Q_PROBATION, weight)
    }
  }

  /**
   * The probation entry to duel a candidate (its LRU end), or -1. A head used since it entered probation
   * is first promoted to the protected segment, as Caffeine promotes on the use itself.
   */
  #probationVictim (): number {
    for (;;) {
      const v = this.#qHead[Q_PROBATION]
      if (v < 0 || !this.#consumeUse(v)) return v
      const weight = this.#weight(v)
      this.#unlink(v, Q_PROBATION, weight)
      this.#linkTail(v, Q_PROTECTED, weight)
      this.#demoteProtectedOverflow()
    }
  }

  /**
   * Caffeine's eviction: the window's overflow moves to probation's MRU end as candidates (a used window
   * head gets a second chance in the window instead); while over capacity, each candidate (oldest first)
   * duels the probation victim and the less frequent one is evicted. Without candidates the window's LRU
   * entry is the candidate; with neither a candidate nor a probation entry the protected LRU goes.
   * Tombstones go only when the main space is empty.
   */
  #evictWTinyLfu (now: number): void {
    let candidate = -1
    let candidates = 0 // candidates moved from the window in this call and not dueled yet
    while (this.#qCount[Q_WINDOW] > 0 &&
      (this.#qBytes[Q_WINDOW] > this.#windowMaxBytes || this.#qCount[Q_WINDOW] > this.#windowMaxEntries)) {
      const n = this.#qHead[Q_WINDOW]
      if (this.#consumeUse(n) && this.#qCount[Q_WINDOW] > 1) {
        this.#moveToTail(n, Q_WINDOW)
        continue
      }
      const weight = this.#weight(n)
      this.#unlink(n, Q_WINDOW, weight)
      this.#linkTail(n, Q_PROBATION, weight)
      if (candidate < 0) candidate = n
      candidates++
    }
    while (this.#overCapacity()) {
      if (candidate < 0) {
        candidate = this.#qHead[Q_WINDOW]
        candidates = candidate < 0 ? 0 : 1
      }
      let victim = this.#probationVictim()
      if (candidate < 0 && victim < 0) victim = this.#qHead[Q_PROTECTED]
      if (victim < 0 && this.#qCount[Q_TOMBSTONES] > 0) {
        // The main space is empty: what is left is the window (about 1%) and tombstones.
        this.#dropOldestTombstone()
        continue
      }
      let evict: number
      if (candidate >= 0 && (victim < 0 || candidate === victim || !this.#admit(this.#hashAt(candidate), this.#hashAt(victim)))) {
        evict = candidate
        if (victim >= 0 && candidate !== victim) this.#admissionRejections++
        candidate = --candidates > 0 ? this.#field(evict, NEXT) : -1
      } else {
        evict = victim
      }
      if (evict < 0) throw new Error('meshcache invariant violated: LocalStore over capacity with nothing to evict')
      this.#remove(evict, this.#isExpired(evict, this.#field(evict, INFO), now) ? 'expire' : 'evict')
    }
  }

  /** TinyLFU admission: the candidate wins only if more frequent; warm losers win 1 in 128 (hash flooding). */
  #admit (candidateHash: number, victimHash: number): boolean {
    if (this.#sketchCount > 0) this.#drainSketch()
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
      if (victim < 0 || (victim === written && this.#qCount[Q_TOMBSTONES] > 0)) {
        this.#dropOldestTombstone()
        continue
      }
      this.#remove(victim, this.#isExpired(victim, this.#field(victim, INFO), now) ? 'expire' : 'evict')
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

  #linkTail (a: number, q: number, weight: number): void {
    const r = this.#entries.i32[a >>> OFFSET_BITS]
    const ri = (a & OFFSET_MASK) << 1
    const tail = this.#qTail[q]
    r[ri + PREV] = tail
    r[ri + NEXT] = -1
    r[ri + INFO] = (r[ri + INFO] & ~QUEUE_BITS) | (q << QUEUE_SHIFT)
    if (tail >= 0) this.#setField(tail, NEXT, a)
    else this.#qHead[q] = a
    this.#qTail[q] = a
    this.#qCount[q]++
    this.#qBytes[q] += weight
  }

  /** Takes `a` out of queue `q` (a no-op for a new entry in no queue); its queue bits become 0 (dead). */
  #unlink (a: number, q: number, weight: number): void {
    if (q === Q_DEAD) return
    const r = this.#entries.i32[a >>> OFFSET_BITS]
    const ri = (a & OFFSET_MASK) << 1
    const prev = r[ri + PREV]
    const next = r[ri + NEXT]
    if (prev >= 0) this.#setField(prev, NEXT, next)
    else this.#qHead[q] = next
    if (next >= 0) this.#setField(next, PREV, prev)
    else this.#qTail[q] = prev
    r[ri + INFO] &= ~QUEUE_BITS
    this.#qCount[q]--
    this.#qBytes[q] -= weight
  }

  /** Moves `a` (in queue `q`, not its tail) to the MRU end. */
  #moveToTail (a: number, q: number): void {
    const r = this.#entries.i32[a >>> OFFSET_BITS]
    const ri = (a & OFFSET_MASK) << 1
    const prev = r[ri + PREV]
    const next = r[ri + NEXT]
    if (prev >= 0) this.#setField(prev, NEXT, next)
    else this.#qHead[q] = next
    this.#setField(next, PREV, prev)
    const tail = this.#qTail[q]
    r[ri + PREV] = tail
    r[ri + NEXT] = -1
    this.#setField(tail, NEXT, a)
    this.#qTail[q] = a
  }

  // ---------------------------------------------------------------- internals: index

  #tableInsert (a: number, h: number): void {
    const table = this.#table
    const mask = this.#tableMask
    let i = h & mask
    while (table[2 * i + 1] >= 0) i = (i + 1) & mask
    table[2 * i] = h
    table[2 * i + 1] = a
    this.#tableCount++
  }

  /** Doubles the table (hashes are in the table: no entry is read). */
  #growTable (): void {
    const old = this.#table
    const cells = (this.#tableMask + 1) * 2
    const table = newTable(cells)
    const mask = cells - 1
    for (let k = 1; k < old.length; k += 2) {
      const a = old[k]
      if (a < 0) continue
      const h = old[k - 1]
      let i = h & mask
      while (table[2 * i + 1] >= 0) i = (i + 1) & mask
      table[2 * i] = h
      table[2 * i + 1] = a
    }
    this.#table = table
    this.#tableMask = mask
  }

  /** Linear-probing deletion by backward shift (no tombstones in the table). */
  #tableDelete (a: number, h: number): void {
    const table = this.#table
    const mask = this.#tableMask
    let i = h & mask
    while (table[2 * i + 1] !== a) i = (i + 1) & mask
    let j = i
    for (;;) {
      j = (j + 1) & mask
      const t = table[2 * j + 1]
      if (t < 0) break
      const home = table[2 * j] & mask
      // The cell at `j` may move back to the hole at `i` unless its home lies cyclically in (i, j].
      const stays = i <= j ? (home > i && home <= j) : (home > i || home <= j)
      if (!stays) {
        table[2 * i] = table[2 * j]
        table[2 * i + 1] = t
        i = j
      }
    }
    table[2 * i + 1] = -1
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
    if (this.#readCount > 0) this.#drainReads() // compaction moves entries: no buffered address may go stale
    const budget = Math.max(MIN_COMPACT_BUDGET, COMPACT_BUDGET_PER_WRITTEN_BYTE * (writtenBytes + this.#metaBytes))
    if (this.#values.needsCompaction()) this.#values.compact(budget)
    if (this.#entries.needsCompaction()) this.#entries.compact(budget)
  }

  #readMaintenance (): void {
    if (this.#qCount[Q_TOMBSTONES] > 0 || this.#expiring > 0) {
      this.#sweepSome(SWEEP_STEPS_PER_READ, this.#clock.now())
      if (this.#pendingKeys.length > 0) this.#flush()
    }
  }

  /**
   * Collects due tombstones (oldest first), then checks live entries for expiry from the sweep cursor;
   * `maxWork` entries in all. Returns how many it removed.
   */
  #sweepSome (maxWork: number, now: number): number {
    let removed = 0
    let work = 0
    while (work < maxWork) {
      const t = this.#qHead[Q_TOMBSTONES]
      if (t < 0 || this.#time(t, EXPIRES_AT) > now) break
      this.#remove(t, null)
      this.#tombstonesCollected++
      removed++
      work++
    }
    let restarted = false
    while (work < maxWork && this.#expiring > 0) {
      const a = this.#entries.next(this.#sweepCursor)
      if (a < 0) {
        if (restarted) break
        restarted = true
        this.#sweepCursor = newCursor()
        continue
      }
      work++
      if (this.#isExpired(a, this.#field(a, INFO), now)) {
        this.#remove(a, 'expire')
        removed++
      }
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

  #decodeKey (a: number): string {
    const info = this.#field(a, INFO)
    const bytes = info & KEY_BYTES
    const buf = this.#entries.u8[a >>> OFFSET_BITS]
    const start = ((a & OFFSET_MASK) << 3) + this.#metaBytes
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

  #keyStartsWith (a: number, prefix: string): boolean {
    const info = this.#field(a, INFO)
    const latin1 = (info & LATIN1) !== 0
    const chars = latin1 ? info & KEY_BYTES : (info & KEY_BYTES) >>> 1
    if (prefix.length > chars) return false
    const buf = this.#entries.u8[a >>> OFFSET_BITS]
    const start = ((a & OFFSET_MASK) << 3) + this.#metaBytes
    for (let i = 0; i < prefix.length; i++) {
      const code = latin1 ? buf[start + i] : buf[start + 2 * i] | (buf[start + 2 * i + 1] << 8)
      if (code !== prefix.charCodeAt(i)) return false
    }
    return true
  }
}

/** Copies all of `src` into `dst` at `at`; a plain loop beats `set()` for short values. */
function copyBytes (src: Uint8Array, n: number, dst: Uint8Array, at: number): void {
  if (n <= 32) for (let i = 0; i < n; i++) dst[at + i] = src[i]
  else dst.set(src, at)
}

function decodeCodes (codes: Uint8Array | Uint16Array): string {
  let out = ''
  for (let i = 0; i < codes.length; i += DECODE_CHUNK) {
    out += String.fromCharCode.apply(null, codes.subarray(i, i + DECODE_CHUNK) as unknown as number[])
  }
  return out
}

function newTable (cells: number): Int32Array {
  const table = new Int32Array(2 * cells)
  for (let i = 1; i < table.length; i += 2) table[i] = -1
  return table
}

function notBytes (): TypeError {
  return new TypeError('LocalStore: values must be Uint8Array (encode strings and JSON before storing)')
}

function invalidKey (key: unknown): InvalidKeyError {
  if (typeof key !== 'string') return new InvalidKeyError(`keys must be strings, got ${typeof key}`)
  return new InvalidKeyError('keys must not be empty')
}
