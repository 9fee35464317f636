/**
 * The entry table: the mechanics under `LocalStore`. It holds the entry and value records in two arenas
 * (`record.ts`, `arena.ts`), indexes them (`key-index.ts`), queues and evicts them (`eviction.ts`),
 * expires and sweeps them (`expiry.ts`), and queues the reports of every change for the hooks
 * (`notifications.ts`). `LocalStore` decides what to write (validation, versions, last-writer-wins); the
 * table writes it, keeps the accounting, and removes what no longer fits or has expired. Internal to
 * src/storage: its fields are read directly by `LocalStore`'s hot paths.
 *
 * Layout (chosen for memory and for few cache misses per `get`; a Map of objects costs 200+ bytes per
 * entry, this about 70 beyond the key and value): a `get` touches the index and one entry record, in a
 * dense arena, then makes a view of the value record. Values are written in place only while no view of
 * them was handed out; otherwise a write appends a new value record and the old one dies. Compaction
 * copies live records out of mostly-dead chunks and repoints whatever names them.
 *
 * Invariants (checked by `check`, through `LocalStore.assertInvariants()`):
 * - `bytes` = Σ over entries of key bytes + value bytes + ENTRY_OVERHEAD_BYTES (tombstones: no value), and
 *   after every write `bytes <= maxBytes` and entries <= `maxEntries`;
 * - `live`, `tombstones` and `expiring` count the entries of each kind; every entry is indexed once and
 *   linked in the queue its record names;
 * - every value that leaves is reported once to `onRemove` with its reason and counted in `removals`
 *   (tombstones hold no value and are not reported there); every change of what is held for a key is
 *   reported to `onEntryChange` as (held before → held after), in order.
 */
import type { Clock } from '../env/clock.js'
import { Arena, newCursor, OFFSET_BITS, OFFSET_MASK } from './arena.js'
import { EvictionQueues, Q_PROTECTED, Q_TOMBSTONES, QUEUES, type EvictionOwner } from './eviction.js'
import { isExpired, Sweeper, SWEEP_STEPS_PER_READ, SWEEP_STEPS_PER_WRITE, type SweepOwner } from './expiry.js'
import { MAX_LOGICAL } from './hlc.js'
import { KeyBuffer } from './key.js'
import { KeyIndex } from './key-index.js'
import { Notifier } from './notifications.js'
import { ENTRY_OVERHEAD_BYTES, type EntryVersion, type RemovalReason, type ResolvedInit } from './options.js'
import {
  appendValue, copyBytes, decodeKey, entryRecordBytes, entryRecordOwner, EXPIRES, EXPIRES_AT, EXPOSED, field,
  hashAt, IDLE_UNTIL, INFO, KEY_BYTES, keyStartsWith, killValue, LATIN1, META_BYTES, META_BYTES_IDLE, PHYSICAL,
  QUEUE_BITS, QUEUE_SHIFT, setField, time, TOMBSTONE, USED, VALUE, VALUE_HEADER_BYTES, valueRecordBytes,
  valueRecordOwner, valueView, VER, VLEN, weight, NEXT, PREV
} from './record.js'
import type { StoreEntry } from './store.js'
import { WriterTable } from './writers.js'

const MIN_COMPACT_BUDGET = 1024
const COMPACT_BUDGET_PER_WRITTEN_BYTE = 8

export class EntryTable implements EvictionOwner, SweepOwner {
  readonly clock: Clock
  readonly maxBytes: number
  readonly maxEntries: number
  readonly maxIdleMs: number
  readonly graceMs: number
  /** Entry record bytes before the key (see `record.ts`). */
  readonly metaBytes: number
  readonly seed: number
  /** Entry records (metadata + key) and value records. */
  readonly entries: Arena
  readonly values: Arena
  /** The key of the current call, read once (hash, stored form). */
  readonly key: KeyBuffer
  readonly index: KeyIndex
  readonly queues: EvictionQueues
  readonly writers: WriterTable
  readonly notifier: Notifier
  readonly #sweeper: Sweeper

  // Gauges
  bytes = 0
  live = 0
  tombstones = 0
  expiring = 0
  // Counters
  readonly removals: Record<RemovalReason, number> = { evict: 0, expire: 0, delete: 0, set: 0, moved: 0 }
  tombstonesCollected = 0
  tombstonesDropped = 0

  constructor (o: ResolvedInit) {
    this.clock = o.clock
    this.maxBytes = o.maxBytes
    this.maxEntries = o.maxEntries
    this.maxIdleMs = o.maxIdleMs
    this.graceMs = o.tombstoneGraceMs
    this.metaBytes = o.maxIdleMs > 0 ? META_BYTES_IDLE : META_BYTES
    this.seed = o.hashSeed
    this.entries = new Arena(o.arenaChunkBytes, entryRecordOwner(this.metaBytes, (from, to) => { this.#entryMoved(from, to) }))
    this.values = new Arena(o.arenaChunkBytes, valueRecordOwner(this.entries, (from, to) => { this.#valueMoved(from, to) }))
    this.key = new KeyBuffer(o.maxKeyBytes, o.hashSeed)
    this.index = new KeyIndex(this.entries, this.key, this.metaBytes)
    this.queues = new EvictionQueues(this.entries, {
      lru: o.eviction === 'lru', maxBytes: o.maxBytes, maxEntries: o.maxEntries, metaBytes: this.metaBytes, hashSeed: o.hashSeed
    }, this)
    this.writers = new WriterTable(o.writerId)
    this.notifier = new Notifier(o.onRemove, o.onEntryChange)
    this.#sweeper = new Sweeper(this.entries, o.maxIdleMs, this)
  }

  // ---------------------------------------------------------------- reading records

  isExpired (a: number, info: number, now: number): boolean {
    return isExpired(this.entries, a, info, now, this.maxIdleMs)
  }

  /**
   * For an entry flagged tombstone or expiring: false for a tombstone; removes an expired entry and
   * returns false; otherwise true, refreshing the idle deadline when `use`.
   */
  aliveOnRead (a: number, info: number, use: boolean): boolean {
    if ((info & TOMBSTONE) !== 0) return false
    const now = this.clock.now()
    if (this.isExpired(a, info, now)) {
      this.remove(a, 'expire')
      return false
    }
    if (use && this.maxIdleMs > 0) this.entries.f64[a >>> OFFSET_BITS][(a & OFFSET_MASK) + IDLE_UNTIL] = now + this.maxIdleMs
    return true
  }

  /** The reason to report for a live entry displaced by `cause` (an expired one is reported as expired). */
  removalReason (a: number, now: number, cause: RemovalReason): RemovalReason | null {
    const info = field(this.entries, a, INFO)
    if ((info & TOMBSTONE) !== 0) return null
    return this.isExpired(a, info, now) ? 'expire' : cause
  }

  decodeKey (a: number): string {
    return decodeKey(this.entries, a, this.metaBytes)
  }

  keyStartsWith (a: number, prefix: string): boolean {
    return keyStartsWith(this.entries, a, this.metaBytes, prefix)
  }

  valueView (a: number): Uint8Array {
    return valueView(this.entries, this.values, a)
  }

  entryAt (a: number, key: string): StoreEntry {
    const info = field(this.entries, a, INFO)
    const ver = field(this.entries, a, VER)
    const entry: StoreEntry = {
      key,
      value: (info & TOMBSTONE) !== 0 ? null : this.valueView(a),
      version: { physical: time(this.entries, a, PHYSICAL), logical: ver & MAX_LOGICAL, writerId: this.writers.idOf(ver >>> 16) }
    }
    const expiresAt = time(this.entries, a, EXPIRES_AT)
    if ((info & TOMBSTONE) === 0 && expiresAt !== Infinity) entry.expiresAt = expiresAt
    return entry
  }

  /** The version entry `a` holds, for the change hook. */
  versionAt (a: number): EntryVersion {
    const ver = field(this.entries, a, VER)
    return {
      physical: time(this.entries, a, PHYSICAL),
      logical: ver & MAX_LOGICAL,
      writerId: this.writers.idOf(ver >>> 16),
      tombstone: (field(this.entries, a, INFO) & TOMBSTONE) !== 0
    }
  }

  // ---------------------------------------------------------------- writing

  /**
   * Stores `value` (or a tombstone when null) for `key` (read into `key`, hash `h`), with the version
   * (`physical`, `logical`, interned `writer`): into the entry at `a` when the key is held, else into a
   * new entry. A displaced live value is reported with `cause` (or as expired). Evicts to capacity;
   * returns whether the entry is still stored.
   */
  write (key: string, h: number, latin1: boolean, keyBytes: number, value: Uint8Array | null,
    physical: number, logical: number, writer: number, expiresAt: number, now: number, a: number,
    cause: RemovalReason): boolean {
    const queues = this.queues
    queues.flushReads()
    const tombstone = value === null
    const vlen = tombstone ? 0 : value.length // once (see LocalStore.set)
    if (this.notifier.changes) {
      this.notifier.changed(key, a >= 0 ? this.versionAt(a) : null, { physical, logical, writerId: this.writers.idOf(writer), tombstone })
    }
    this.writers.retain(writer) // before the old version's writer is released: it may be the same one
    let queue: number
    let stayBytes = -1 // >= 0: the entry stays in its queue, where it weighed this much
    if (a < 0) {
      a = this.#newEntry(latin1, keyBytes, h)
      queue = tombstone ? Q_TOMBSTONES : queues.entryQueue
    } else {
      const r = this.entries.i32[a >>> OFFSET_BITS]
      const ri = (a & OFFSET_MASK) << 1
      const info = r[ri + INFO]
      const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
      let update = false // a live value overwritten by a value: a use, it keeps its standing
      if ((info & TOMBSTONE) === 0) {
        const reason = this.isExpired(a, info, now) ? 'expire' : cause
        update = reason === cause && !tombstone
        this.removals[reason]++
        this.notifier.removed(key, reason)
        this.live--
        if ((info & EXPIRES) !== 0) this.expiring--
      } else {
        this.tombstones--
      }
      const oldWeight = (info & KEY_BYTES) + r[ri + VLEN] + ENTRY_OVERHEAD_BYTES
      this.bytes -= oldWeight
      this.writers.release(r[ri + VER] >>> 16)
      const v = r[ri + VALUE]
      if (update && v >= 0 && (info & EXPOSED) === 0 && valueRecordBytes(vlen) === valueRecordBytes(r[ri + VLEN])) {
        // Nobody has seen the old value: overwrite it in place.
        copyBytes(value!, vlen, this.values.u8[v >>> OFFSET_BITS], ((v & OFFSET_MASK) << 3) + VALUE_HEADER_BYTES)
        r[ri + VLEN] = vlen
      } else {
        if (v >= 0) killValue(this.values, v, r[ri + VLEN])
        r[ri + VALUE] = -1
        r[ri + VLEN] = 0
        if (vlen > 0) appendValue(this.entries, this.values, a, value!, vlen)
        r[ri + INFO] = info & ~EXPOSED
      }
      if (update && !queues.lru) {
        // An overwrite is a use: counted, and marked in the entry, which keeps its place (see LocalStore.get).
        queues.countUse(h)
        queue = q
        stayBytes = oldWeight
      } else {
        queues.unlink(a, q, oldWeight)
        queue = tombstone ? Q_TOMBSTONES : queues.entryQueue
      }
    }

    const c = a >>> OFFSET_BITS
    const r = this.entries.i32[c]
    const f = this.entries.f64[c]
    const ri = (a & OFFSET_MASK) << 1
    const fi = a & OFFSET_MASK
    if (tombstone) {
      if (r[ri + VALUE] >= 0) {
        killValue(this.values, r[ri + VALUE], r[ri + VLEN])
        r[ri + VALUE] = -1
        r[ri + VLEN] = 0
      }
    } else if (r[ri + VALUE] < 0 && vlen > 0) {
      appendValue(this.entries, this.values, a, value, vlen)
    }
    r[ri + VLEN] = vlen
    r[ri + VER] = logical | (writer << 16)
    f[fi + PHYSICAL] = physical
    let info = r[ri + INFO] & ~(TOMBSTONE | EXPIRES | QUEUE_BITS | USED)
    if (stayBytes >= 0) info |= (queue << QUEUE_SHIFT) | USED
    if (tombstone) {
      info |= TOMBSTONE
      f[fi + EXPIRES_AT] = now + this.graceMs
      this.tombstones++
    } else {
      f[fi + EXPIRES_AT] = expiresAt
      if (this.maxIdleMs > 0) {
        f[fi + IDLE_UNTIL] = now + this.maxIdleMs
        info |= EXPIRES
      } else if (expiresAt !== Infinity) {
        info |= EXPIRES
      }
      if ((info & EXPIRES) !== 0) this.expiring++
      this.live++
      queues.fitSketch(this.live)
    }
    r[ri + INFO] = info
    const w = keyBytes + vlen + ENTRY_OVERHEAD_BYTES
    this.bytes += w
    if (stayBytes >= 0) queues.bytes[queue] += w - stayBytes
    else queues.linkTail(a, queue, w)
    if (queue === Q_PROTECTED) queues.demoteProtectedOverflow()

    if (this.overCapacity() || queues.overWindow()) queues.evict(now, a)
    return (field(this.entries, a, INFO) & QUEUE_BITS) !== 0
  }

  /** Removes the entry at `a` entirely, reporting `reason` (null: a tombstone, not reported to onRemove). */
  remove (a: number, reason: RemovalReason | null): void {
    this.queues.flushReads()
    const entries = this.entries
    const info = field(entries, a, INFO)
    const notifier = this.notifier
    if (reason !== null) this.removals[reason]++
    if ((reason !== null && notifier.removals) || notifier.changes) {
      const key = this.decodeKey(a)
      if (reason !== null) notifier.removed(key, reason)
      if (notifier.changes) notifier.changed(key, this.versionAt(a), null)
    }
    const w = weight(entries, a)
    this.queues.unlink(a, (info & QUEUE_BITS) >>> QUEUE_SHIFT, w)
    this.index.delete(a, hashAt(entries, a, this.metaBytes, this.seed))
    this.writers.release(field(entries, a, VER) >>> 16)
    this.bytes -= w
    if ((info & TOMBSTONE) !== 0) {
      this.tombstones--
    } else {
      this.live--
      if ((info & EXPIRES) !== 0) this.expiring--
    }
    const v = field(entries, a, VALUE)
    if (v >= 0) killValue(this.values, v, field(entries, a, VLEN))
    entries.kill(a, entryRecordBytes(this.metaBytes, info & KEY_BYTES)) // last: it may drop the chunk
  }

  /** Removes every entry and tombstone, reporting each (live values as `'delete'`). */
  clear (): void {
    const cursor = newCursor()
    const notifier = this.notifier
    for (let a = this.entries.next(cursor); a >= 0; a = this.entries.next(cursor)) {
      const tombstone = (field(this.entries, a, INFO) & TOMBSTONE) !== 0
      if (!tombstone) this.removals.delete++
      if ((!tombstone && notifier.removals) || notifier.changes) {
        const key = this.decodeKey(a)
        if (!tombstone) notifier.removed(key, 'delete')
        if (notifier.changes) notifier.changed(key, this.versionAt(a), null)
      }
    }
    this.entries.clear()
    this.values.clear()
    this.index.clear()
    this.queues.clear() // buffered reads and sketch increments have nothing left to update
    this.#sweeper.reset()
    this.writers.clear()
    this.bytes = 0
    this.live = 0
    this.tombstones = 0
    this.expiring = 0
  }

  /** Appends an entry record for the key in `key` (not linked in any queue yet) and indexes it. */
  #newEntry (latin1: boolean, keyBytes: number, h: number): number {
    const a = this.entries.allocate(entryRecordBytes(this.metaBytes, keyBytes))
    const r = this.entries.i32[a >>> OFFSET_BITS]
    const ri = (a & OFFSET_MASK) << 1
    r[ri + PREV] = -1
    r[ri + NEXT] = -1
    r[ri + VALUE] = -1
    r[ri + VLEN] = 0
    r[ri + INFO] = keyBytes | (latin1 ? LATIN1 : 0)
    r[ri + VER] = 0
    this.key.copyTo(r, ((a & OFFSET_MASK) << 3) + this.metaBytes) // the record is 8-aligned: room for the tail word
    this.index.insert(a, h)
    return a
  }

  /** Compaction copied the live entry at `from` to `to`: repoint the index, the queue and its value. */
  #entryMoved (from: number, to: number): void {
    this.index.repoint(from, to, hashAt(this.entries, to, this.metaBytes, this.seed))
    const info = field(this.entries, to, INFO)
    this.queues.repoint(to, (info & QUEUE_BITS) >>> QUEUE_SHIFT)
    const v = field(this.entries, to, VALUE)
    if (v >= 0) this.values.i32[v >>> OFFSET_BITS][(v & OFFSET_MASK) << 1] = to
    setField(this.entries, from, INFO, info & ~QUEUE_BITS)
  }

  /** Compaction copied the live value record at `from` to `to`: repoint its entry, mark `from` dead. */
  #valueMoved (from: number, to: number): void {
    const a = this.values.i32[to >>> OFFSET_BITS][(to & OFFSET_MASK) << 1]
    setField(this.entries, a, VALUE, to)
    // Views point at the old copy: the new one was never handed out.
    setField(this.entries, a, INFO, field(this.entries, a, INFO) & ~EXPOSED)
    this.values.i32[from >>> OFFSET_BITS][(from & OFFSET_MASK) << 1] = -valueRecordBytes(field(this.entries, a, VLEN))
  }

  // ---------------------------------------------------------------- owner of the policy and the sweep

  overCapacity (): boolean {
    return this.bytes > this.maxBytes || this.live + this.tombstones > this.maxEntries
  }

  evict (a: number, now: number): void {
    this.remove(a, this.isExpired(a, field(this.entries, a, INFO), now) ? 'expire' : 'evict')
  }

  dropOldestTombstone (): void {
    const t = this.queues.head[Q_TOMBSTONES]
    if (t < 0) throw new Error('meshcache invariant violated: LocalStore over capacity with nothing to evict')
    this.remove(t, null)
    this.tombstonesDropped++
  }

  oldestTombstone (): number {
    return this.queues.head[Q_TOMBSTONES]
  }

  collectTombstone (t: number): void {
    this.remove(t, null)
    this.tombstonesCollected++
  }

  expire (a: number): void {
    this.remove(a, 'expire')
  }

  // ---------------------------------------------------------------- background work

  /** After a write of `writtenBytes`: a few sweep steps, and compaction in proportion to the bytes written. */
  writeMaintenance (now: number, writtenBytes: number): void {
    if (this.queues.count[Q_TOMBSTONES] > 0 || this.expiring > 0) this.#sweeper.sweep(SWEEP_STEPS_PER_WRITE, now)
    this.queues.flushReads() // compaction moves entries: no buffered address may go stale
    const budget = Math.max(MIN_COMPACT_BUDGET, COMPACT_BUDGET_PER_WRITTEN_BYTE * (writtenBytes + this.metaBytes))
    if (this.values.needsCompaction()) this.values.compact(budget)
    if (this.entries.needsCompaction()) this.entries.compact(budget)
  }

  /** Every 32nd read: a few sweep steps, when anything may be due. */
  readMaintenance (): void {
    if (this.queues.count[Q_TOMBSTONES] > 0 || this.expiring > 0) {
      this.#sweeper.sweep(SWEEP_STEPS_PER_READ, this.clock.now())
      if (this.notifier.pending) this.notifier.flush()
    }
  }

  /** `LocalStore.sweep`: up to `maxWork` sweep steps and compaction in proportion; returns entries removed. */
  sweep (maxWork: number): number {
    const removed = this.#sweeper.sweep(maxWork, this.clock.now())
    this.queues.flushReads() // before compaction moves entries
    if (this.values.needsCompaction()) this.values.compact(maxWork * 128)
    if (this.entries.needsCompaction()) this.entries.compact(maxWork * 64)
    return removed
  }

  // ---------------------------------------------------------------- invariants

  /** Recomputes every gauge from the arena and checks the index and the queues; throws on the first error. */
  check (): void {
    const fail = (msg: string): never => { throw new Error(`meshcache invariant violated: LocalStore ${msg}`) }
    const entries = this.entries
    let bytes = 0
    let live = 0
    let tombs = 0
    let expiring = 0
    let entryBytes = 0
    let valueBytes = 0
    const counts = new Array<number>(QUEUES).fill(0)
    const qbytes = new Array<number>(QUEUES).fill(0)
    const cursor = newCursor()
    for (let a = entries.next(cursor); a >= 0; a = entries.next(cursor)) {
      const info = field(entries, a, INFO)
      const q = (info & QUEUE_BITS) >>> QUEUE_SHIFT
      const w = weight(entries, a)
      bytes += w
      counts[q]++
      qbytes[q] += w
      entryBytes += entryRecordBytes(this.metaBytes, info & KEY_BYTES)
      const v = field(entries, a, VALUE)
      if (v >= 0) {
        valueBytes += valueRecordBytes(field(entries, a, VLEN))
        if (this.values.i32[v >>> OFFSET_BITS][(v & OFFSET_MASK) << 1] !== a) fail(`value record of ${a} names another owner`)
      } else if (field(entries, a, VLEN) !== 0) {
        fail(`entry ${a} has value bytes but no value record`)
      }
      if ((info & TOMBSTONE) !== 0) {
        tombs++
        if (q !== Q_TOMBSTONES) fail(`tombstone in queue ${q}`)
      } else {
        live++
        if ((info & EXPIRES) !== 0) expiring++
        if (q === Q_TOMBSTONES) fail('live entry in the tombstone queue')
      }
      const h = this.key.read(this.decodeKey(a))
      if (h !== hashAt(entries, a, this.metaBytes, this.seed)) fail(`entry ${a}: its key bytes and its decoded key hash differently`)
      if (this.index.find(h) !== a) fail(`entry ${a} not found by its key`)
    }
    const queueError = this.queues.check(counts, qbytes, this.index.size)
    if (queueError !== null) fail(queueError)
    if (bytes !== this.bytes) fail(`bytes ${this.bytes}, recomputed ${bytes}`)
    if (live !== this.live || tombs !== this.tombstones || expiring !== this.expiring) fail('entry counts are wrong')
    const indexError = this.index.check((a) => hashAt(entries, a, this.metaBytes, this.seed))
    if (indexError !== null) fail(indexError)
    if (live + tombs !== this.index.size) fail(`table holds ${this.index.size} keys for ${live + tombs} entries`)
    if (entryBytes !== entries.liveBytes) fail(`entry arena live bytes ${entries.liveBytes}, recomputed ${entryBytes}`)
    if (valueBytes !== this.values.liveBytes) fail(`value arena live bytes ${this.values.liveBytes}, recomputed ${valueBytes}`)
    if (this.bytes > this.maxBytes || live + tombs > this.maxEntries) fail('over capacity')
  }
}
