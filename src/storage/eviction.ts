/**
 * The local store's eviction queues and the policy acting on them: W-TinyLFU or plain LRU.
 *
 * W-TinyLFU as in Caffeine's BoundedLocalCache (Einziger, Friedman, Manes: "TinyLFU", 2017): a window LRU
 * of ~1% admits every new entry; entries leaving the window become candidates for the main space, a
 * segmented LRU (probation 20% / protected 80%); a candidate enters only if the frequency sketch
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
 * The queues are doubly linked lists through the entry records' PREV / NEXT fields, head = least recently
 * used; an entry's INFO names its queue (0: in none, a dead record). Tombstones have a queue of their own,
 * in deletion order, for the sweep; they are evicted only when nothing else is left.
 *
 * Invariants (checked by `check`): every live entry is linked in exactly the queue its INFO names, the
 * links agree both ways, and each queue's count and bytes are those of its entries; under LRU every value
 * is in probation. The policy chooses victims; its owner (`EvictionOwner`) removes and reports them.
 */
import { OFFSET_BITS, OFFSET_MASK, type Arena } from './arena.js'
import { FrequencySketch } from './frequency-sketch.js'
import { protectedMaximum, windowMaximum } from './options.js'
import { field, hashAt, INFO, NEXT, PREV, QUEUE_BITS, QUEUE_SHIFT, setField, USED, weight } from './record.js'

// Queues. 0 marks a dead record.
export const Q_DEAD = 0
export const Q_WINDOW = 1
export const Q_PROBATION = 2 // the only queue of the LRU policy
export const Q_PROTECTED = 3
export const Q_TOMBSTONES = 4 // in deletion order
export const QUEUES = 5

/** Candidate frequency from which W-TinyLFU admits 1 in 128 losers anyway (Caffeine's hash-flooding guard). */
const ADMIT_HASHDOS_THRESHOLD = 6
/** LRU: hits buffered before their queue moves are done in one batch (see `#drainReads`). */
const READ_BUFFER_READS = 128
/** Uses buffered before their frequency sketch increments are done in one batch (see `#drainSketch`). */
const SKETCH_BUFFER_INCREMENTS = 128

/** What the policy needs from the store that owns the entries. */
export interface EvictionOwner {
  /** True while the store holds more than `maxBytes` or `maxEntries`. */
  overCapacity (): boolean
  /** Removes the entry the policy chose (reported as evicted, or as expired if it has). */
  evict (a: number, now: number): void
  /** Removes the oldest tombstone (when nothing else is left to evict). */
  dropOldestTombstone (): void
}

export interface EvictionInit {
  lru: boolean
  maxBytes: number
  maxEntries: number
  metaBytes: number
  hashSeed: number
}

export class EvictionQueues {
  /** Per queue: LRU end, MRU end (-1: empty), entries and accounted bytes. */
  readonly head = new Int32Array(QUEUES).fill(-1)
  readonly tail = new Int32Array(QUEUES).fill(-1)
  readonly count = new Int32Array(QUEUES)
  readonly bytes = new Float64Array(QUEUES)
  /** Plain LRU (else W-TinyLFU). */
  readonly lru: boolean
  /** USED under W-TinyLFU (a use is marked in the entry), 0 under LRU (a use moves the entry). */
  readonly useMark: number
  /** The queue a new value enters. */
  readonly entryQueue: number
  /** New entries that W-TinyLFU refused to admit. */
  admissionRejections = 0

  readonly #entries: Arena
  readonly #owner: EvictionOwner
  readonly #metaBytes: number
  readonly #seed: number
  readonly #unboundedEntries: boolean
  readonly #windowMaxBytes: number
  readonly #windowMaxEntries: number
  readonly #protectedMaxBytes: number
  readonly #protectedMaxEntries: number
  readonly #sketch: FrequencySketch | null
  #random: number
  // Read buffer (LRU only): the entry of each `get` hit, in order, whose queue move is pending
  readonly #readBuffer = new Int32Array(READ_BUFFER_READS)
  #readCount = 0
  // Frequency sketch increments not applied yet (key hashes, in order)
  readonly #sketchBuffer = new Int32Array(SKETCH_BUFFER_INCREMENTS)
  #sketchCount = 0

  constructor (entries: Arena, init: EvictionInit, owner: EvictionOwner) {
    this.#entries = entries
    this.#owner = owner
    this.lru = init.lru
    this.useMark = init.lru ? 0 : USED
    this.entryQueue = init.lru ? Q_PROBATION : Q_WINDOW
    this.#metaBytes = init.metaBytes
    this.#seed = init.hashSeed
    this.#random = (init.hashSeed ^ 0x5bd1e995) | 1
    this.#unboundedEntries = init.maxEntries === Infinity
    this.#windowMaxBytes = windowMaximum(init.maxBytes, false)
    this.#windowMaxEntries = windowMaximum(init.maxEntries, true)
    this.#protectedMaxBytes = protectedMaximum(init.maxBytes, this.#windowMaxBytes)
    this.#protectedMaxEntries = protectedMaximum(init.maxEntries, this.#windowMaxEntries)
    this.#sketch = init.lru ? null : new FrequencySketch(this.#unboundedEntries ? 0 : init.maxEntries)
  }

  // ---------------------------------------------------------------- uses

  /** Counts a use of the key hashing to `h` (a read, hit or miss, or an overwrite) in the sketch, buffered. */
  countUse (h: number): void {
    if (this.#sketch === null) return
    const n = this.#sketchCount
    this.#sketchBuffer[n] = h
    this.#sketchCount = n + 1
    if (n + 1 === SKETCH_BUFFER_INCREMENTS) this.#drainSketch()
  }

  /** LRU: buffers the queue move of a `get` hit on entry `a`; drains when the buffer is full. */
  recordHit (a: number): void {
    const n = this.#readCount
    this.#readBuffer[n] = a
    this.#readCount = n + 1
    if (n + 1 === READ_BUFFER_READS) this.#drainReads()
  }

  /** Does the buffered hits' queue moves: before anything reads or changes the queues, or moves an entry. */
  flushReads (): void {
    if (this.#readCount > 0) this.#drainReads()
  }

  /** W-TinyLFU with no entry bound: grows the sketch to `live` entries (values held) if it is smaller. */
  fitSketch (live: number): void {
    const sketch = this.#sketch
    if (sketch !== null && live > sketch.capacity && this.#unboundedEntries) {
      if (this.#sketchCount > 0) this.#drainSketch() // growing discards the counts, these included
      sketch.ensureCapacity(live)
    }
  }

  // ---------------------------------------------------------------- eviction

  /** True when the W-TinyLFU window holds more than its share, so a write must let candidates out. */
  overWindow (): boolean {
    return !this.lru && (this.bytes[Q_WINDOW] > this.#windowMaxBytes || this.count[Q_WINDOW] > this.#windowMaxEntries)
  }

  /** Evicts to capacity after a write of entry `written` (and lets the window's overflow out). */
  evict (now: number, written: number): void {
    if (this.lru) this.#evictLru(now, written)
    else this.#evictWTinyLfu(now)
  }

  /** Moves the protected segment's overflow to probation's MRU end; a used head gets a second chance. */
  demoteProtectedOverflow (): void {
    while (this.count[Q_PROTECTED] > 0 &&
      (this.bytes[Q_PROTECTED] > this.#protectedMaxBytes || this.count[Q_PROTECTED] > this.#protectedMaxEntries)) {
      const n = this.head[Q_PROTECTED]
      if (this.#consumeUse(n)) {
        if (this.count[Q_PROTECTED] > 1) this.moveToTail(n, Q_PROTECTED)
        continue
      }
      const w = weight(this.#entries, n)
      this.unlink(n, Q_PROTECTED, w)
      this.linkTail(n, Q_PROBATION, w)
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
    const owner = this.#owner
    let candidate = -1
    let candidates = 0 // candidates moved from the window in this call and not dueled yet
    while (this.count[Q_WINDOW] > 0 &&
      (this.bytes[Q_WINDOW] > this.#windowMaxBytes || this.count[Q_WINDOW] > this.#windowMaxEntries)) {
      const n = this.head[Q_WINDOW]
      if (this.#consumeUse(n) && this.count[Q_WINDOW] > 1) {
        this.moveToTail(n, Q_WINDOW)
        continue
      }
      const w = weight(this.#entries, n)
      this.unlink(n, Q_WINDOW, w)
      this.linkTail(n, Q_PROBATION, w)
      if (candidate < 0) candidate = n
      candidates++
    }
    while (owner.overCapacity()) {
      if (candidate < 0) {
        candidate = this.head[Q_WINDOW]
        candidates = candidate < 0 ? 0 : 1
      }
      let victim = this.#probationVictim()
      if (candidate < 0 && victim < 0) victim = this.head[Q_PROTECTED]
      if (victim < 0 && this.count[Q_TOMBSTONES] > 0) {
        // The main space is empty: what is left is the window (about 1%) and tombstones.
        owner.dropOldestTombstone()
        continue
      }
      let evict: number
      if (candidate >= 0 && (victim < 0 || candidate === victim || !this.#admit(this.#hashAt(candidate), this.#hashAt(victim)))) {
        evict = candidate
        if (victim >= 0 && candidate !== victim) this.admissionRejections++
        candidate = --candidates > 0 ? field(this.#entries, evict, NEXT) : -1
      } else {
        evict = victim
      }
      if (evict < 0) throw new Error('meshcache invariant violated: LocalStore over capacity with nothing to evict')
      owner.evict(evict, now)
    }
  }

  /**
   * The probation entry to duel a candidate (its LRU end), or -1. A head used since it entered probation
   * is first promoted to the protected segment, as Caffeine promotes on the use itself.
   */
  #probationVictim (): number {
    for (;;) {
      const v = this.head[Q_PROBATION]
      if (v < 0 || !this.#consumeUse(v)) return v
      const w = weight(this.#entries, v)
      this.unlink(v, Q_PROBATION, w)
      this.linkTail(v, Q_PROTECTED, w)
      this.demoteProtectedOverflow()
    }
  }

  /**
   * If entry `a` was used since its queue last looked at it, clears its mark and returns true; the caller
   * then gives it a second chance (what moving it on every use would have done, in CLOCK's approximation).
   */
  #consumeUse (a: number): boolean {
    const r = this.#entries.i32[a >>> OFFSET_BITS]
    const ri = ((a & OFFSET_MASK) << 1) + INFO
    const info = r[ri]
    if ((info & USED) === 0) return false
    r[ri] = info & ~USED
    return true
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
    const owner = this.#owner
    while (owner.overCapacity()) {
      const victim = this.head[Q_PROBATION]
      if (victim < 0 || (victim === written && this.count[Q_TOMBSTONES] > 0)) {
        owner.dropOldestTombstone()
        continue
      }
      owner.evict(victim, now)
    }
  }

  #hashAt (a: number): number {
    return hashAt(this.#entries, a, this.#metaBytes, this.#seed)
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

  /**
   * LRU: does the buffered hits' queue moves, in read order (each entry moves to the MRU end), so the
   * outcome is exactly that of moving on each read; in a batch, the cache misses of independent moves
   * overlap (Caffeine buffers reads the same way).
   */
  #drainReads (): void {
    const n = this.#readCount
    const buffer = this.#readBuffer
    this.#readCount = 0
    const i32 = this.#entries.i32
    for (let i = 0; i < n; i++) {
      const a = buffer[i]
      const q = (i32[a >>> OFFSET_BITS][((a & OFFSET_MASK) << 1) + INFO] & QUEUE_BITS) >>> QUEUE_SHIFT
      if (this.tail[q] !== a) this.moveToTail(a, q)
    }
  }

  /**
   * Applies the buffered sketch increments, in order. Called before the sketch is read (admission) or
   * resized, so every estimate is exactly that of incrementing on each use.
   */
  #drainSketch (): void {
    const n = this.#sketchCount
    const buffer = this.#sketchBuffer
    const sketch = this.#sketch!
    this.#sketchCount = 0
    for (let i = 0; i < n; i++) sketch.increment(buffer[i])
  }

  // ---------------------------------------------------------------- lists

  /** Links `a` (weighing `w` bytes) at the MRU end of queue `q` and marks it as in `q`. */
  linkTail (a: number, q: number, w: number): void {
    const r = this.#entries.i32[a >>> OFFSET_BITS]
    const ri = (a & OFFSET_MASK) << 1
    const tail = this.tail[q]
    r[ri + PREV] = tail
    r[ri + NEXT] = -1
    r[ri + INFO] = (r[ri + INFO] & ~QUEUE_BITS) | (q << QUEUE_SHIFT)
    if (tail >= 0) setField(this.#entries, tail, NEXT, a)
    else this.head[q] = a
    this.tail[q] = a
    this.count[q]++
    this.bytes[q] += w
  }

  /** Takes `a` out of queue `q` (a no-op for a new entry in no queue); its queue bits become 0 (dead). */
  unlink (a: number, q: number, w: number): void {
    if (q === Q_DEAD) return
    const entries = this.#entries
    const r = entries.i32[a >>> OFFSET_BITS]
    const ri = (a & OFFSET_MASK) << 1
    const prev = r[ri + PREV]
    const next = r[ri + NEXT]
    if (prev >= 0) setField(entries, prev, NEXT, next)
    else this.head[q] = next
    if (next >= 0) setField(entries, next, PREV, prev)
    else this.tail[q] = prev
    r[ri + INFO] &= ~QUEUE_BITS
    this.count[q]--
    this.bytes[q] -= w
  }

  /** Moves `a` (in queue `q`, not its tail) to the MRU end. */
  moveToTail (a: number, q: number): void {
    const entries = this.#entries
    const r = entries.i32[a >>> OFFSET_BITS]
    const ri = (a & OFFSET_MASK) << 1
    const prev = r[ri + PREV]
    const next = r[ri + NEXT]
    if (prev >= 0) setField(entries, prev, NEXT, next)
    else this.head[q] = next
    setField(entries, next, PREV, prev)
    const tail = this.tail[q]
    r[ri + PREV] = tail
    r[ri + NEXT] = -1
    setField(entries, tail, NEXT, a)
    this.tail[q] = a
  }

  /** Entry `to` is a copy of a linked entry (same links): its neighbours and queue ends now point at it. */
  repoint (to: number, q: number): void {
    const entries = this.#entries
    const prev = field(entries, to, PREV)
    const next = field(entries, to, NEXT)
    if (prev >= 0) setField(entries, prev, NEXT, to)
    else this.head[q] = to
    if (next >= 0) setField(entries, next, PREV, to)
    else this.tail[q] = to
  }

  /** Forgets every entry (the arena was cleared): empty queues, no buffered reads, a fresh sketch. */
  clear (): void {
    this.head.fill(-1)
    this.tail.fill(-1)
    this.count.fill(0)
    this.bytes.fill(0)
    this.#readCount = 0
    this.#sketchCount = 0
    this.#sketch?.clear()
  }

  /**
   * Checks every queue's links against `linked` / `bytesIn` (entries and bytes per queue, recounted from
   * the arena); at most `limit` entries in all. Returns an error or null.
   */
  check (linked: readonly number[], bytesIn: readonly number[], limit: number): string | null {
    const entries = this.#entries
    for (let q = 1; q < QUEUES; q++) {
      let n = 0
      let prev = -1
      for (let a = this.head[q]; a >= 0; a = field(entries, a, NEXT)) {
        if (field(entries, a, PREV) !== prev) return `queue ${q} has a broken back link at ${a}`
        if (((field(entries, a, INFO) & QUEUE_BITS) >>> QUEUE_SHIFT) !== q) return `entry ${a} linked in queue ${q} but marked otherwise`
        prev = a
        if (++n > limit) return `queue ${q} has a cycle`
      }
      if (prev !== this.tail[q]) return `queue ${q} tail is wrong`
      if (n !== linked[q] || n !== this.count[q]) return `queue ${q} count ${this.count[q]}, linked ${n}, marked ${linked[q]}`
      if (bytesIn[q] !== this.bytes[q]) return `queue ${q} bytes ${this.bytes[q]}, recomputed ${bytesIn[q]}`
    }
    if (this.lru && (linked[Q_WINDOW] > 0 || linked[Q_PROTECTED] > 0)) return 'LRU entry outside probation'
    return null
  }
}
