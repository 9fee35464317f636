/**
 * Log-structured record arena (the layout of log-structured memory in RAMCloud, Rumble et al., FAST 2014,
 * and of log-structured file systems, Rosenblum & Ousterhout, 1992).
 *
 * Records are appended at the tail of large chunks (`ArrayBuffer`s with Uint8/Int32/Float64 views) and
 * named by a 31-bit *address*: chunk id (12 bits) and offset / 8 (19 bits); records are 8-byte aligned.
 * The arena does not know the record format: its owner tells it a record's length and liveness.
 *
 * Invariants:
 * - Bytes of a record that the owner hands out (a value) are never rewritten: a `Uint8Array` view keeps
 *   showing the same bytes forever (the view keeps its chunk alive; the arena only drops its own
 *   reference). Only the owner rewrites a record's metadata in place.
 * - `liveBytes` is the sum of the lengths of live records; per chunk likewise. A chunk whose live count
 *   reaches 0 is dropped at once unless it is the tail being appended to; dropped buffers are never reused.
 * - Compaction is incremental: when the bytes held exceed `liveBytes` by more than a quarter (and by more
 *   than two chunks, so small stores do not churn), `compact(budget)` copies the live records of the chunk
 *   with the fewest live bytes to the tail, scanning at most about `budget` bytes per call, and the chunk
 *   is dropped once empty. The owner is told of every move (`ArenaOwner.moved`).
 * - A record longer than a quarter of a chunk gets a chunk of its own, sized to it.
 * - A dropped chunk's buffer is reused for a new chunk only if no view of it was ever handed out (the
 *   owner calls `expose(chunk)` before making one): write-heavy stores then recycle memory instead of
 *   making the garbage collector free (and V8 count as external memory pressure) a chunk per few MiB.
 * - Chunks are numbered in creation order (`seq`); records are only ever appended to the newest chunk or
 *   to a fresh one. A bounded cursor (`cursor(true)`) walks chunks in creation order up to the append
 *   position at its creation, so it ends even while records keep being appended. While it is registered
 *   with `protect`, compaction leaves alone every chunk the cursor has not passed yet, so every record
 *   that stays live during the walk is seen exactly once (a record compacted out of a passed chunk lands
 *   beyond the bound).
 */

/** Offset bits of an address: offsets are in 8-byte units, up to 4 MiB per chunk. */
export const OFFSET_BITS = 19
export const OFFSET_MASK = (1 << OFFSET_BITS) - 1
/** Chunk ids fit the remaining 12 bits of a positive int32. */
export const MAX_CHUNKS = 1 << (31 - OFFSET_BITS)
export const MAX_CHUNK_BYTES = 8 << OFFSET_BITS
export const MIN_CHUNK_BYTES = 1024
/** Compaction starts when held bytes exceed live bytes by more than this fraction of the live bytes. */
export const MAX_GARBAGE_RATIO = 0.25
/** Unexposed chunk buffers kept for reuse. */
export const POOLED_CHUNKS = 2

/** What the arena needs from the owner of the records. */
export interface ArenaOwner {
  /** Length in bytes (a multiple of 8) of the record at byte `offset` of `chunk`, live or dead. */
  recordBytes(chunk: Int32Array, offset: number): number
  /** Whether the record at byte `offset` of `chunk` is live. */
  isLive(chunk: Int32Array, offset: number): boolean
  /** The live record at address `from` was copied to address `to`: repoint to it and mark `from` dead. */
  moved(from: number, to: number): void
}

/**
 * Position of a walk over the records, in chunk creation order, and where it stops: chunks created after
 * `endSeq` are not visited, nor the part of chunk `tailSeq` from `tailEnd` on.
 */
export interface ArenaCursor { chunk: number, seq: number, offset: number, endSeq: number, tailSeq: number, tailEnd: number }

/** An unbounded cursor: it also visits records appended after it was made. */
export function newCursor (): ArenaCursor {
  return { chunk: -1, seq: -1, offset: 0, endSeq: Infinity, tailSeq: -1, tailEnd: 0 }
}

export function addressOf (chunk: number, offset: number): number {
  return (chunk << OFFSET_BITS) | (offset >>> 3)
}

export function chunkOf (address: number): number {
  return address >>> OFFSET_BITS
}

export function offsetOf (address: number): number {
  return (address & OFFSET_MASK) << 3
}

/** Rounds a length up to the 8-byte record alignment. */
export function align8 (bytes: number): number {
  return (bytes + 7) & ~7
}

/** True when an arena holding `heldBytes` with `liveBytes` live should compact (see the invariants). */
export function shouldCompact (heldBytes: number, liveBytes: number, chunkBytes: number): boolean {
  const garbage = heldBytes - liveBytes
  return garbage > MAX_GARBAGE_RATIO * liveBytes && garbage > 2 * chunkBytes
}

/**
 * Most chunks an arena with this chunk size may need for `maxLiveBytes` of records: normal chunks at the
 * garbage bound, plus one chunk per record when every record is just over a quarter chunk.
 */
export function chunksNeeded (maxLiveBytes: number, chunkBytes: number): number {
  return Math.ceil(((1 + MAX_GARBAGE_RATIO) * maxLiveBytes) / chunkBytes) + Math.ceil((4 * maxLiveBytes) / chunkBytes) + 4
}

const EMPTY_BUFFER = new ArrayBuffer(0)
const EMPTY_U8 = new Uint8Array(EMPTY_BUFFER)
const EMPTY_I32 = new Int32Array(EMPTY_BUFFER)
const EMPTY_F64 = new Float64Array(EMPTY_BUFFER)

export class Arena {
  /**
   * Views of each chunk by chunk id, and its buffer (a dropped chunk's are empty). Read by the owner's hot
   * paths; `buffers` saves a `.buffer` call (a slow C++ getter) when the owner makes a view of a record.
   */
  readonly buffers: ArrayBuffer[] = []
  readonly u8: Uint8Array[] = []
  readonly i32: Int32Array[] = []
  readonly f64: Float64Array[] = []
  /** 1 for a chunk from which a view was handed out (its buffer must never be reused). */
  readonly exposed = new Uint8Array(MAX_CHUNKS)
  readonly chunkBytes: number
  readonly #largeRecordBytes: number
  readonly #owner: ArenaOwner
  readonly #used: number[] = []
  readonly #live: number[] = []
  readonly #seq: number[] = []
  readonly #freeIds: number[] = []
  readonly #pool: ArrayBuffer[] = []
  readonly #protected: ArenaCursor[] = []
  #nextSeq = 0
  #tail = -1
  #heldBytes = 0
  #liveBytes = 0
  #movedBytes = 0
  #victim = -1
  #victimOffset = 0

  constructor (chunkBytes: number, owner: ArenaOwner) {
    if (!(chunkBytes >= MIN_CHUNK_BYTES && chunkBytes <= MAX_CHUNK_BYTES && chunkBytes % 8 === 0)) {
      throw new RangeError(`Arena: chunkBytes must be a multiple of 8 in [${MIN_CHUNK_BYTES}, ${MAX_CHUNK_BYTES}], got ${chunkBytes}`)
    }
    this.chunkBytes = chunkBytes
    this.#largeRecordBytes = chunkBytes >>> 2
    this.#owner = owner
  }

  /** Bytes of all chunks held (what the arena costs in memory). */
  get heldBytes (): number { return this.#heldBytes }
  /** Bytes of live records. */
  get liveBytes (): number { return this.#liveBytes }
  /** Bytes copied by compaction so far. */
  get movedBytes (): number { return this.#movedBytes }
  /** Number of chunks held. */
  get chunkCount (): number { return this.u8.length - this.#freeIds.length }
  /** Bytes of unexposed chunk buffers kept for reuse. */
  get pooledBytes (): number { return this.#pool.length * this.chunkBytes }

  /** Records that a view of `chunk` is being handed out: its buffer will never be reused. */
  expose (chunk: number): void {
    this.exposed[chunk] = 1
  }

  /**
   * Reserves `length` bytes (a multiple of 8) for a new live record and returns its address; the caller
   * writes the record there.
   */
  allocate (length: number): number {
    const c = this.#reserve(length)
    const o = this.#used[c]
    this.#used[c] = o + length
    this.#live[c] += length
    this.#liveBytes += length
    return addressOf(c, o)
  }

  /** The record at `address` (of `length` bytes) died; drops its chunk if nothing live is left in it. */
  kill (address: number, length: number): void {
    const c = address >>> OFFSET_BITS
    this.#live[c] -= length
    this.#liveBytes -= length
    if (this.#live[c] === 0 && c !== this.#tail) this.#drop(c)
  }

  /** A cursor bounded at the current append position (see the invariants). */
  cursor (): ArenaCursor {
    const t = this.#tail
    return {
      chunk: -1,
      seq: -1,
      offset: 0,
      endSeq: this.#nextSeq - 1,
      tailSeq: t >= 0 ? this.#seq[t] : -1,
      tailEnd: t >= 0 ? this.#used[t] : 0
    }
  }

  /** Keeps compaction away from the chunks `cursor` has not passed, until `release(cursor)`. */
  protect (cursor: ArenaCursor): void {
    this.#protected.push(cursor)
  }

  release (cursor: ArenaCursor): void {
    const i = this.#protected.indexOf(cursor)
    if (i >= 0) this.#protected.splice(i, 1)
  }

  /** True when the garbage bound is exceeded (or a compaction is under way). */
  needsCompaction (): boolean {
    return this.#victim >= 0 || shouldCompact(this.#heldBytes, this.#liveBytes, this.chunkBytes)
  }

  /** Does about `budgetBytes` of compaction work (bytes scanned in victim chunks); returns the bytes copied. */
  compact (budgetBytes: number): number {
    let moved = 0
    const owner = this.#owner
    while (budgetBytes > 0) {
      if (this.#victim < 0) {
        if (!shouldCompact(this.#heldBytes, this.#liveBytes, this.chunkBytes)) break
        this.#victim = this.#pickVictim()
        this.#victimOffset = 0
        if (this.#victim < 0) break
      }
      const v = this.#victim
      if (this.#seq[v] >= this.#firstProtectedSeq()) {
        // A walk that has not reached this chunk yet started meanwhile: leave it alone.
        this.#victim = -1
        break
      }
      const src = this.u8[v]
      const srcI32 = this.i32[v]
      const end = this.#used[v]
      while (budgetBytes > 0 && this.#victim === v && this.#victimOffset < end) {
        const o = this.#victimOffset
        const length = owner.recordBytes(srcI32, o)
        this.#victimOffset = o + length
        if (!owner.isLive(srcI32, o)) {
          budgetBytes -= 16
          continue
        }
        const to = this.allocate(length)
        const dst = this.u8[to >>> OFFSET_BITS]
        const at = (to & OFFSET_MASK) << 3
        dst.set(src.subarray(o, o + length), at)
        owner.moved(addressOf(v, o), to)
        moved += length
        budgetBytes -= length
        this.kill(addressOf(v, o), length)
      }
      if (this.#victim === v && this.#victimOffset >= end) {
        // Everything before `end` was dead or moved, so `kill` must have dropped the chunk.
        throw new Error(`meshcache invariant violated: arena chunk ${v} keeps ${this.#live[v]} live bytes after compaction`)
      }
    }
    this.#movedBytes += moved
    return moved
  }

  /**
   * Advances `cursor` to the next live record in chunk creation order and returns its address, or -1 when
   * there is none yet (the cursor then stays at the end; records appended later are found by later calls).
   */
  next (cursor: ArenaCursor): number {
    const owner = this.#owner
    for (;;) {
      let c = cursor.chunk
      if (c < 0 || this.#seq[c] !== cursor.seq) {
        c = this.#chunkAfter(cursor.seq)
        if (c < 0 || this.#seq[c] > cursor.endSeq) return -1
        cursor.chunk = c
        cursor.seq = this.#seq[c]
        cursor.offset = 0
      }
      const i32 = this.i32[c]
      const end = cursor.seq === cursor.tailSeq ? Math.min(cursor.tailEnd, this.#used[c]) : this.#used[c]
      let o = cursor.offset
      while (o < end) {
        const at = o
        o += owner.recordBytes(i32, at)
        if (owner.isLive(i32, at)) {
          cursor.offset = o
          return addressOf(c, at)
        }
      }
      cursor.offset = o
      const after = this.#chunkAfter(cursor.seq)
      if (after < 0 || this.#seq[after] > cursor.endSeq) return -1
      cursor.chunk = after
      cursor.seq = this.#seq[after]
      cursor.offset = 0
    }
  }

  /** Drops every chunk (views already handed out stay valid). */
  clear (): void {
    this.buffers.length = 0
    this.u8.length = 0
    this.i32.length = 0
    this.f64.length = 0
    this.#used.length = 0
    this.#live.length = 0
    this.#seq.length = 0
    this.#freeIds.length = 0
    this.#tail = -1
    this.#pool.length = 0
    this.#heldBytes = 0
    this.#liveBytes = 0
    this.#victim = -1
    this.#victimOffset = 0
  }

  /** Returns a chunk id with room for `length` bytes at its tail, allocating a chunk if needed. */
  #reserve (length: number): number {
    if (length > this.#largeRecordBytes) return this.#newChunk(length)
    const t = this.#tail
    if (t >= 0 && this.#used[t] + length <= this.chunkBytes) return t
    if (t >= 0) {
      this.#tail = -1
      if (this.#live[t] === 0) this.#drop(t)
    }
    this.#tail = this.#newChunk(this.chunkBytes)
    return this.#tail
  }

  #newChunk (bytes: number): number {
    let id: number
    if (this.#freeIds.length > 0) {
      id = this.#freeIds.pop()!
    } else {
      id = this.u8.length
      if (id >= MAX_CHUNKS) throw new Error(`meshcache invariant violated: arena needs more than ${MAX_CHUNKS} chunks`)
      this.buffers.push(EMPTY_BUFFER)
      this.u8.push(EMPTY_U8)
      this.i32.push(EMPTY_I32)
      this.f64.push(EMPTY_F64)
      this.#used.push(0)
      this.#live.push(0)
      this.#seq.push(0)
    }
    const buffer = bytes === this.chunkBytes && this.#pool.length > 0 ? this.#pool.pop()! : new ArrayBuffer(bytes)
    this.exposed[id] = 0
    this.buffers[id] = buffer
    this.u8[id] = new Uint8Array(buffer)
    this.i32[id] = new Int32Array(buffer)
    this.f64[id] = new Float64Array(buffer)
    this.#used[id] = 0
    this.#live[id] = 0
    this.#seq[id] = this.#nextSeq++
    this.#heldBytes += bytes
    return id
  }

  #drop (chunk: number): void {
    const buffer = this.buffers[chunk]
    if (this.exposed[chunk] === 0 && buffer.byteLength === this.chunkBytes && this.#pool.length < POOLED_CHUNKS) {
      this.#pool.push(buffer)
    }
    this.#heldBytes -= buffer.byteLength
    this.buffers[chunk] = EMPTY_BUFFER
    this.u8[chunk] = EMPTY_U8
    this.i32[chunk] = EMPTY_I32
    this.f64[chunk] = EMPTY_F64
    this.#used[chunk] = 0
    this.#seq[chunk] = -1
    this.#freeIds.push(chunk)
    if (chunk === this.#victim) this.#victim = -1
  }

  /** The chunk created first after `seq`, or -1. */
  #chunkAfter (seq: number): number {
    let best = -1
    let bestSeq = Infinity
    for (let c = 0; c < this.#seq.length; c++) {
      const s = this.#seq[c]
      if (s > seq && s < bestSeq) { best = c; bestSeq = s }
    }
    return best
  }

  /** Smallest chunk seq a protected cursor may still visit (Infinity when none is registered). */
  #firstProtectedSeq (): number {
    let min = Infinity
    for (const cursor of this.#protected) min = Math.min(min, cursor.seq)
    return min
  }

  /** The non-tail, unprotected chunk with the fewest live bytes that holds any garbage, or -1. */
  #pickVictim (): number {
    let best = -1
    let bestLive = Infinity
    const protectedFrom = this.#firstProtectedSeq()
    for (let c = 0; c < this.u8.length; c++) {
      if (c === this.#tail || this.#seq[c] < 0 || this.#seq[c] >= protectedFrom) continue
      const live = this.#live[c]
      if (live < bestLive && live < this.#used[c]) { best = c; bestLive = live }
    }
    return best
  }
}
