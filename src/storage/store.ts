/**
 * LocalStore: the local store of one namespace on one peer. Byte-bounded, TTL and max-idle expiry,
 * W-TinyLFU or LRU eviction, every entry versioned with a hybrid logical clock, deletes kept as tombstones.
 *
 * This file is the public class: validation, versions (the HLC for local writes, last-writer-wins for
 * replicated ones), counters, reads, iteration and scans. The mechanics live in `entry-table.ts` and the
 * files it uses: the record layout (`record.ts`), the key index (`key-index.ts`), the eviction queues and
 * W-TinyLFU / LRU (`eviction.ts`), expiry and the sweep (`expiry.ts`), writer ids (`writers.ts`) and the
 * hooks' reports (`notifications.ts`). The hottest path, a `get` hit, is written out here against the
 * table's arena views; V8 inlines the small functions it calls across modules.
 *
 * Invariants (checked by `assertInvariants()`):
 * - after every public call `bytes <= maxBytes` and entries <= `maxEntries` (`bytes`: Σ key bytes + value
 *   bytes + ENTRY_OVERHEAD_BYTES, tombstones included without a value);
 * - every value that leaves the store is reported once to `onRemove` with its reason and counted
 *   (tombstones hold no value and are not reported); every change of what is held for a key is reported
 *   to `onEntryChange`, so after each public call the last report for a key says what is held for it;
 * - a write refused for its size or key changes nothing;
 * - the version held for a key only grows (last-writer-wins on `(physical, logical, writerId)`); local
 *   writes use the HLC, which has merged every applied version, so they are always the newest. Only
 *   `forget`, `clear` and the collection of tombstones drop a key's version altogether.
 *
 * Time: `clock.now()` only, read lazily (a `get` of an entry without TTL or max-idle reads no clock). No
 * timers: expired entries are removed when touched and by an incremental sweep (`expiry.ts`).
 */
import { InvalidKeyError, InvalidOptionError, ValueTooLargeError } from '../errors.js'
import type { Clock } from '../env/clock.js'
import { newCursor, OFFSET_BITS, OFFSET_MASK } from './arena.js'
import { EntryTable } from './entry-table.js'
import { assertValidVersion, compareWriterIds, InvalidVersionError, MAX_LOGICAL, type Hlc, type Version } from './hlc.js'
import { utf8Length, type KeyBuffer } from './key.js'
import { ENTRY_OVERHEAD_BYTES, resolveInit, type EvictionPolicy, type LocalStoreInit, type RemovalReason } from './options.js'
import { EXPIRES, EXPOSED, field, INFO, PHYSICAL, time, TOMBSTONE, VALUE, VALUE_HEADER_BYTES, VER, VLEN } from './record.js'

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

export class LocalStore implements Iterable<[string, Uint8Array]> {
  readonly #clock: Clock
  readonly #hlc: Hlc
  readonly #eviction: EvictionPolicy
  readonly #maxValueBytes: number
  readonly #maxKeyBytes: number
  readonly #defaultTtlMs: number
  readonly #table: EntryTable
  /** The key of the current call, read once (hash, stored form); see `#unstorable` and `#checkKey`. */
  readonly #key: KeyBuffer
  #reads = 0

  // Counters
  #hits = 0
  #misses = 0
  #sets = 0
  #deletes = 0
  #applied = 0
  #applyStale = 0
  #rejected = 0

  constructor (init: LocalStoreInit) {
    const o = resolveInit(init)
    this.#clock = o.clock
    this.#hlc = o.hlc
    this.#eviction = o.eviction
    this.#maxValueBytes = o.maxValueBytes
    this.#maxKeyBytes = o.maxKeyBytes
    this.#defaultTtlMs = o.defaultTtlMs
    this.#table = new EntryTable(o)
    this.#key = this.#table.key
  }

  /** Number of live entries (tombstones not included; expired entries not yet swept included). */
  get size (): number { return this.#table.live }

  /** Accounted bytes in use (see `ENTRY_OVERHEAD_BYTES`). */
  get bytes (): number { return this.#table.bytes }

  get maxBytes (): number { return this.#table.maxBytes }

  // ---------------------------------------------------------------- reads

  /** The value stored under `key`, or undefined. Counts as a use (recency, frequency, idle time). */
  get (key: string): Uint8Array | undefined {
    if (this.#unstorable(key)) {
      this.#misses++
      return undefined
    }
    const t = this.#table
    const h = this.#key.read(key)
    const a = t.index.find(h)
    if (a >= 0) {
      const r = t.entries.i32[a >>> OFFSET_BITS]
      const ri = (a & OFFSET_MASK) << 1
      const info = r[ri + INFO]
      if ((info & (TOMBSTONE | EXPIRES)) === 0 || t.aliveOnRead(a, info, true)) {
        this.#hits++
        const v = r[ri + VALUE]
        const queues = t.queues
        // W-TinyLFU marks the use in the entry (its queues act on it later); LRU moves the entry, buffered.
        const marked = info | EXPOSED | queues.useMark
        if (marked !== info) {
          r[ri + INFO] = marked
          if ((info & EXPOSED) === 0 && v >= 0) t.values.exposed[v >>> OFFSET_BITS] = 1
        }
        queues.countUse(h)
        if (queues.useMark === 0) queues.recordHit(a)
        if ((++this.#reads & 31) === 0) t.readMaintenance()
        if (v < 0) return new Uint8Array(0)
        return new Uint8Array(t.values.buffers[v >>> OFFSET_BITS], ((v & OFFSET_MASK) << 3) + VALUE_HEADER_BYTES, r[ri + VLEN])
      }
    }
    this.#misses++
    t.queues.countUse(h)
    if ((++this.#reads & 31) === 0) t.readMaintenance()
    if (t.notifier.pending) t.notifier.flush()
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
    return a < 0 ? undefined : this.#table.valueView(a)
  }

  /** True when a live value is stored under `key` (does not count as a use). */
  has (key: string): boolean {
    return this.#findLive(key) >= 0
  }

  /** The stored entry, tombstones included, with its version and expiry (does not count as a use). */
  getEntry (key: string): StoreEntry | undefined {
    if (this.#unstorable(key)) return undefined
    const t = this.#table
    const a = t.index.find(this.#key.read(key))
    if (a < 0) return undefined
    const info = field(t.entries, a, INFO)
    if ((info & TOMBSTONE) === 0 && (info & EXPIRES) !== 0 && !t.aliveOnRead(a, info, false)) {
      t.notifier.flush()
      return undefined
    }
    return t.entryAt(a, key)
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
    const t = this.#table
    const stored = t.write(key, h, this.#key.latin1, keyBytes, value, hlc.lastPhysical, hlc.lastLogical, 0,
      ttl > 0 ? now + ttl : Infinity, now, t.index.find(h), 'set')
    this.#sets++
    t.writeMaintenance(now, keyBytes + vlen)
    if (t.notifier.pending) t.notifier.flush()
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
        // Only a hook can throw here: keep storing, report its first error at the end.
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
    const t = this.#table
    const now = this.#clock.now()
    const a = t.index.find(h)
    const keyBytes = this.#key.storedBytes
    let removed = false
    if (a >= 0) {
      const info = field(t.entries, a, INFO)
      removed = (info & TOMBSTONE) === 0 && !t.isExpired(a, info, now)
    }
    if (t.graceMs === 0) {
      if (a >= 0) t.remove(a, t.removalReason(a, now, 'delete'))
    } else {
      const hlc = this.#hlc
      hlc.tickAt(now)
      t.write(key, h, this.#key.latin1, keyBytes, null, hlc.lastPhysical, hlc.lastLogical, 0, Infinity, now, a, 'delete')
    }
    if (removed) this.#deletes++
    t.writeMaintenance(now, keyBytes)
    t.notifier.flush()
    return removed
  }

  /** `delete` for each key; returns how many live values were removed. */
  deleteMany (keys: Iterable<string>): number {
    let n = 0
    for (const key of keys) if (this.delete(key)) n++
    return n
  }

  /**
   * Drops whatever is held for `key`, a value or a tombstone, and leaves no tombstone: for rebalancing,
   * when the key's range has moved to other peers (so replication may bring the key back). A value is
   * reported to `onRemove` as `'moved'` (`'expire'` if it had expired). Returns true when an entry was
   * removed (a value, expired or not, or a tombstone).
   */
  forget (key: string): boolean {
    if (this.#unstorable(key)) return false
    const t = this.#table
    const a = t.index.find(this.#key.read(key))
    if (a < 0) return false
    const now = this.#clock.now()
    t.remove(a, t.removalReason(a, now, 'moved'))
    t.writeMaintenance(now, 0)
    t.notifier.flush()
    return true
  }

  /**
   * Removes every entry and tombstone (each live value is reported as `'delete'`). Local only: no
   * tombstones are left, so replication may bring values back.
   */
  clear (): void {
    this.#table.clear()
    this.#table.notifier.flush()
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
    const t = this.#table
    let a = t.index.find(h)
    if (a >= 0) {
      const info = field(t.entries, a, INFO)
      if ((info & TOMBSTONE) === 0 && t.isExpired(a, info, now)) {
        t.remove(a, 'expire')
        a = -1
      } else if (this.#compareHeld(a, version) >= 0) {
        this.#applyStale++
        t.notifier.flush()
        return false
      }
    }
    const dead = value === null || expiresAt <= now
    const reason: RemovalReason = value === null ? 'delete' : 'set'
    if (dead && t.graceMs === 0) {
      if (a >= 0) t.remove(a, (field(t.entries, a, INFO) & TOMBSTONE) !== 0 ? null : reason)
    } else {
      const writer = t.writers.intern(version.writerId)
      t.write(key, h, latin1, keyBytes, dead ? null : value, version.physical, version.logical, writer,
        dead ? Infinity : expiresAt, now, a, reason)
    }
    this.#applied++
    t.writeMaintenance(now, keyBytes + (value === null ? 0 : value.length))
    t.notifier.flush()
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
    const t = this.#table
    const cursor = t.entries.cursor()
    t.entries.protect(cursor)
    try {
      for (let a = t.entries.next(cursor); a >= 0; a = t.entries.next(cursor)) {
        const info = field(t.entries, a, INFO)
        if ((info & EXPIRES) !== 0 && t.isExpired(a, info, this.#clock.now())) continue
        yield t.entryAt(a, t.decodeKey(a))
      }
    } finally {
      t.entries.release(cursor)
    }
  }

  /** Live `[key, value]` pairs (no tombstones), with the guarantees of `entries()`. */
  * [Symbol.iterator] (): Generator<[string, Uint8Array], void, undefined> {
    const t = this.#table
    const cursor = t.entries.cursor()
    t.entries.protect(cursor)
    try {
      for (let a = t.entries.next(cursor); a >= 0; a = t.entries.next(cursor)) {
        const info = field(t.entries, a, INFO)
        if ((info & TOMBSTONE) !== 0) continue
        if ((info & EXPIRES) !== 0 && t.isExpired(a, info, this.#clock.now())) continue
        yield [t.decodeKey(a), t.valueView(a)]
      }
    } finally {
      t.entries.release(cursor)
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
    const t = this.#table
    const now = this.#clock.now()
    const matches: Array<{ key: string, address: number }> = []
    const cursor = newCursor()
    for (let a = t.entries.next(cursor); a >= 0; a = t.entries.next(cursor)) {
      const info = field(t.entries, a, INFO)
      if ((info & TOMBSTONE) !== 0 || t.isExpired(a, info, now)) continue
      if (prefix !== undefined && !t.keyStartsWith(a, prefix)) continue
      const key = t.decodeKey(a)
      if (pattern !== undefined) {
        pattern.lastIndex = 0
        if (!pattern.test(key)) continue
      }
      matches.push({ key, address: a })
    }
    matches.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    const page = matches.slice(offset, limit === Infinity ? undefined : offset + limit)
    return { items: page.map((m) => ({ key: m.key, value: t.valueView(m.address) })), total: matches.length }
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Does up to `maxWork` steps of background work now: collects tombstones whose grace has passed,
   * removes expired entries (reported as `'expire'`) and advances compaction. Returns how many entries
   * and tombstones it removed.
   */
  sweep (maxWork = 1024): number {
    if (!Number.isSafeInteger(maxWork) || maxWork < 1) throw new InvalidOptionError(`sweep: maxWork must be a positive integer, got ${String(maxWork)}`)
    const removed = this.#table.sweep(maxWork)
    this.#table.notifier.flush()
    return removed
  }

  /** Counters and gauges (a fresh object). */
  stats (): StoreStats {
    const t = this.#table
    return {
      hits: this.#hits,
      misses: this.#misses,
      sets: this.#sets,
      deletes: this.#deletes,
      applied: this.#applied,
      applyStale: this.#applyStale,
      rejected: this.#rejected,
      evictions: { ...t.removals },
      expirations: t.removals.expire,
      admissionRejections: t.queues.admissionRejections,
      tombstonesCollected: t.tombstonesCollected,
      tombstonesDropped: t.tombstonesDropped,
      entries: t.live,
      tombstones: t.tombstones,
      bytes: t.bytes,
      maxBytes: t.maxBytes,
      maxEntries: t.maxEntries === Infinity ? null : t.maxEntries,
      arenaBytes: t.entries.heldBytes + t.values.heldBytes,
      arenaLiveBytes: t.entries.liveBytes + t.values.liveBytes,
      compactedBytes: t.entries.movedBytes + t.values.movedBytes,
      eviction: this.#eviction
    }
  }

  /**
   * Recomputes every gauge from scratch and checks the store's internal structure (index, queues,
   * arenas); throws on the first inconsistency. O(entries): for tests and debugging.
   */
  assertInvariants (): void {
    this.#table.check()
  }

  // ---------------------------------------------------------------- internals

  /**
   * For a key to look up: throws `InvalidKeyError` unless it is a non-empty string; true when it is too
   * long to be stored, so absent (a stored key has at most maxKeyBytes UTF-8 bytes, so at most that many
   * code units); otherwise `#key.read` may read it.
   */
  #unstorable (key: string): boolean {
    if (typeof key !== 'string' || key.length === 0) throw invalidKey(key)
    return key.length > this.#maxKeyBytes
  }

  /** Address of a live, unexpired value under `key` (removing it if expired), or -1. */
  #findLive (key: string): number {
    if (this.#unstorable(key)) return -1
    const t = this.#table
    const a = t.index.find(this.#key.read(key))
    if (a < 0) return -1
    const info = field(t.entries, a, INFO)
    if ((info & (TOMBSTONE | EXPIRES)) === 0) return a
    if (t.aliveOnRead(a, info, false)) return a
    if (t.notifier.pending) t.notifier.flush()
    return -1
  }

  /** Held version of entry `a` compared with `v`: negative when `v` is newer. */
  #compareHeld (a: number, v: Version): number {
    const entries = this.#table.entries
    const physical = time(entries, a, PHYSICAL)
    if (physical !== v.physical) return physical < v.physical ? -1 : 1
    const ver = field(entries, a, VER)
    const logical = ver & MAX_LOGICAL
    if (logical !== v.logical) return logical < v.logical ? -1 : 1
    return compareWriterIds(this.#table.writers.idOf(ver >>> 16), v.writerId)
  }

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
    if (weight > this.#table.maxBytes) {
      this.#rejected++
      throw new ValueTooLargeError(`entry (key + value + ${ENTRY_OVERHEAD_BYTES} bytes overhead)`, weight, this.#table.maxBytes)
    }
  }
}

function notBytes (): TypeError {
  return new TypeError('LocalStore: values must be Uint8Array (encode strings and JSON before storing)')
}

function invalidKey (key: unknown): InvalidKeyError {
  if (typeof key !== 'string') return new InvalidKeyError(`keys must be strings, got ${typeof key}`)
  return new InvalidKeyError('keys must not be empty')
}
