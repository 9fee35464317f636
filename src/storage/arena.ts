/**
 * Log-structured byte arena for keys and values (the layout of log-structured memory in RAMCloud,
 * Rumble et al., FAST 2014, and of log-structured file systems, Rosenblum & Ousterhout, 1992).
 *
 * Records are appended at the tail of large chunks (`ArrayBuffer`s). A record is
 * `[header: int32 LE][key bytes][value bytes]`; the header holds the owning slot id while the record is
 * live and `-(record length)` once it is dead, so the compactor can walk a chunk record by record.
 *
 * Invariants:
 * - Key and value bytes are written once and never rewritten: a `Uint8Array` view handed to a caller keeps
 *   showing the same bytes forever (the view keeps its chunk alive; the arena only drops its own
 *   reference). Only headers, which no view covers, are rewritten (live -> dead).
 * - `liveBytes` is the sum of the lengths of live records; `chunkLive[c]` the same per chunk. A chunk whose
 *   live count reaches 0 is dropped at once (unless it is the tail being appended to).
 * - Dropped chunks are never reused: a fresh chunk is allocated instead.
 * - Compaction is incremental: when the bytes held exceed `liveBytes` by more than a quarter (and by more
 *   than two chunks, so small stores do not churn), `compact(budget)` relocates the live records of the
 *   chunk with the fewest live bytes to the tail, scanning at most `budget` bytes per call, and drops the
 *   chunk once it is empty. The owner is told of every move through `ArenaOwner.moved`.
 * - A record longer than a quarter of a chunk gets a chunk of its own, sized to it.
 */

/** What the arena needs from the store that owns the records. */
export interface ArenaOwner {
  /** Total length (header + key + value) of the live record owned by `slot`. */
  recordBytes(slot: number): number
  /** The live record of `slot` now starts at `offset` in chunk `chunk`. */
  moved(slot: number, chunk: number, offset: number): void
}

/** Bytes of the per-record header (the owner's slot id, or minus the record's length once dead). */
export const RECORD_HEADER_BYTES = 4
/** Compaction starts when held bytes exceed live bytes by more than this fraction of the live bytes. */
export const MAX_GARBAGE_RATIO = 0.25

const EMPTY = new Uint8Array(0)

/** True when an arena holding `heldBytes` with `liveBytes` live should compact (see the invariants). */
export function shouldCompact (heldBytes: number, liveBytes: number, chunkBytes: number): boolean {
  const garbage = heldBytes - liveBytes
  return garbage > MAX_GARBAGE_RATIO * liveBytes && garbage > 2 * chunkBytes
}

export class Arena {
  /** Chunk bytes by chunk id; a dropped chunk's entry is an empty array. Read by the store's hot paths. */
  readonly chunks: Uint8Array[] = []
  /** Where the last `append` wrote: chunk id and the record's offset. */
  chunk = 0
  offset = 0
  readonly chunkBytes: number
  readonly #largeRecordBytes: number
  readonly #owner: ArenaOwner
  readonly #used: number[] = []
  readonly #live: number[] = []
  readonly #freeIds: number[] = []
  #tail = -1
  #heldBytes = 0
  #liveBytes = 0
  #movedBytes = 0
  #victim = -1
  #victimPos = 0

  constructor (chunkBytes: number, owner: ArenaOwner) {
    this.chunkBytes = chunkBytes
    this.#largeRecordBytes = chunkBytes >>> 2
    this.#owner = owner
  }

  /** Bytes of all chunks held (what the arena costs in memory). */
  get heldBytes (): number { return this.#heldBytes }
  /** Bytes of live records. */
  get liveBytes (): number { return this.#liveBytes }
  /** Bytes relocated by compaction so far. */
  get movedBytes (): number { return this.#movedBytes }
  /** Number of chunks held. */
  get chunkCount (): number { return this.chunks.length - this.#freeIds.length }

  /**
   * Appends a record for `slot`: the key (Latin-1 when `latin1`, else UTF-16LE) and then `value` (or no
   * value for a tombstone). Sets `this.chunk` / `this.offset` to where it went.
   */
  append (slot: number, key: string, latin1: boolean, value: Uint8Array | null): void {
    const keyBytes = latin1 ? key.length : key.length * 2
    const length = RECORD_HEADER_BYTES + keyBytes + (value === null ? 0 : value.byteLength)
    const c = this.#reserve(length)
    const buf = this.chunks[c]
    const o = this.#used[c]
    this.#used[c] = o + length
    this.#live[c] += length
    this.#liveBytes += length
    writeInt32(buf, o, slot)
    let p = o + RECORD_HEADER_BYTES
    if (latin1) {
      for (let i = 0; i < key.length; i++) buf[p++] = key.charCodeAt(i)
    } else {
      for (let i = 0; i < key.length; i++) {
        const code = key.charCodeAt(i)
        buf[p++] = code & 0xff
        buf[p++] = code >>> 8
      }
    }
    if (value !== null) copyBytes(value, 0, value.byteLength, buf, p)
    this.chunk = c
    this.offset = o
  }

  /** Marks the record at (`chunk`, `offset`) of `length` bytes dead; drops its chunk if nothing live is left. */
  kill (chunk: number, offset: number, length: number): void {
    writeInt32(this.chunks[chunk], offset, -length)
    this.#live[chunk] -= length
    this.#liveBytes -= length
    if (this.#live[chunk] === 0 && chunk !== this.#tail) this.#drop(chunk)
  }

  /** True when the garbage bound is exceeded (or a compaction is under way). */
  needsCompaction (): boolean {
    return this.#victim >= 0 || shouldCompact(this.#heldBytes, this.#liveBytes, this.chunkBytes)
  }

  /**
   * Does at most about `budgetBytes` of compaction work (bytes scanned in the victim chunk) and returns
   * the bytes it relocated.
   */
  compact (budgetBytes: number): number {
    let moved = 0
    while (budgetBytes > 0) {
      if (this.#victim < 0) {
        if (!shouldCompact(this.#heldBytes, this.#liveBytes, this.chunkBytes)) break
        this.#victim = this.#pickVictim()
        this.#victimPos = 0
        if (this.#victim < 0) break
      }
      const v = this.#victim
      const src = this.chunks[v]
      const end = this.#used[v]
      while (budgetBytes > 0 && this.#victim === v && this.#victimPos < end) {
        const pos = this.#victimPos
        const header = readInt32(src, pos)
        if (header < 0) {
          this.#victimPos = pos - header
          budgetBytes -= 16
          continue
        }
        const length = this.#owner.recordBytes(header)
        const c = this.#reserve(length)
        const dst = this.chunks[c]
        const o = this.#used[c]
        copyBytes(src, pos, length, dst, o)
        this.#used[c] = o + length
        this.#live[c] += length
        this.#liveBytes += length
        this.#victimPos = pos + length
        this.#owner.moved(header, c, o)
        moved += length
        budgetBytes -= length
        this.kill(v, pos, length)
      }
      if (this.#victim === v && this.#victimPos >= end) {
        // Everything before `end` was dead or moved, so the chunk must have been dropped by `kill`.
        throw new Error(`meshcache invariant violated: arena chunk ${v} still has ${this.#live[v]} live bytes after compaction`)
      }
    }
    this.#movedBytes += moved
    return moved
  }

  /** Drops every chunk (views already handed out stay valid). */
  clear (): void {
    this.chunks.length = 0
    this.#used.length = 0
    this.#live.length = 0
    this.#freeIds.length = 0
    this.#tail = -1
    this.#heldBytes = 0
    this.#liveBytes = 0
    this.#victim = -1
    this.#victimPos = 0
  }

  /** Returns a chunk id with room for `length` bytes at its tail, allocating a chunk if needed. */
  #reserve (length: number): number {
    if (length > this.#largeRecordBytes) return this.#allocate(length)
    const t = this.#tail
    if (t >= 0 && this.#used[t] + length <= this.chunks[t].byteLength) return t
    if (t >= 0) {
      this.#tail = -1
      if (this.#live[t] === 0) this.#drop(t)
    }
    this.#tail = this.#allocate(this.chunkBytes)
    return this.#tail
  }

  #allocate (bytes: number): number {
    const id = this.#freeIds.length > 0 ? this.#freeIds.pop()! : this.chunks.length
    const buf = new Uint8Array(bytes)
    if (id === this.chunks.length) {
      this.chunks.push(buf)
      this.#used.push(0)
      this.#live.push(0)
    } else {
      this.chunks[id] = buf
      this.#used[id] = 0
      this.#live[id] = 0
    }
    this.#heldBytes += bytes
    return id
  }

  #drop (chunk: number): void {
    this.#heldBytes -= this.chunks[chunk].byteLength
    this.chunks[chunk] = EMPTY
    this.#used[chunk] = 0
    this.#freeIds.push(chunk)
    if (chunk === this.#victim) this.#victim = -1
  }

  /** The non-tail chunk with the fewest live bytes that has any garbage, or -1. */
  #pickVictim (): number {
    let best = -1
    let bestLive = Infinity
    for (let c = 0; c < this.chunks.length; c++) {
      if (c === this.#tail || this.chunks[c] === EMPTY) continue
      const live = this.#live[c]
      if (live < bestLive && live < this.#used[c]) { best = c; bestLive = live }
    }
    return best
  }
}

/** Copies `length` bytes; a plain loop beats `set(subarray())` for short records. */
export function copyBytes (src: Uint8Array, from: number, length: number, dst: Uint8Array, to: number): void {
  if (length <= 64) {
    for (let i = 0; i < length; i++) dst[to + i] = src[from + i]
  } else {
    dst.set(from === 0 && length === src.length ? src : src.subarray(from, from + length), to)
  }
}

export function writeInt32 (buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value
  buf[offset + 1] = value >>> 8
  buf[offset + 2] = value >>> 16
  buf[offset + 3] = value >>> 24
}

export function readInt32 (buf: Uint8Array, offset: number): number {
  return buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)
}
