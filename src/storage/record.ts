/**
 * Entry and value records: how the local store lays out one entry in its two arenas (`arena.ts`), and the
 * small functions that read and write their fields. The other storage files touch records only through
 * these constants and functions (the hottest paths index the arena's views directly, with the same
 * constants).
 *
 * - An entry record is 40 bytes of metadata (48 with `maxIdleMs`) followed by the key's stored bytes
 *   (Latin-1, or UTF-16LE; see `key.ts`), 8-byte aligned, named by a 31-bit arena address. Int32 fields
 *   are read at the record's int32 index (`(address & OFFSET_MASK) << 1`), float64 fields at its float64
 *   index (`address & OFFSET_MASK`). No view of an entry record is ever handed out, so it is updated in
 *   place; it moves only when its arena compacts.
 * - A value record is `[int32 owner entry address][value bytes]`, 8-byte aligned. Once a view of it was
 *   handed out (the entry's EXPOSED flag) its bytes are never rewritten; a dead one holds minus its
 *   length in the owner word, so the compactor can step over it.
 *
 * Invariants: an entry record is live exactly when its queue bits are not 0, a value record exactly when
 * its owner word is >= 0; a live entry's VALUE names a value record whose owner word names the entry
 * back, or is -1 with VLEN 0 (a tombstone, an empty value); the key bytes never change.
 */
import { align8, Arena, OFFSET_BITS, OFFSET_MASK, type ArenaOwner } from './arena.js'
import { hashStoredKey } from './key.js'
import { ENTRY_OVERHEAD_BYTES } from './options.js'

// Int32 fields, from the record's int32 index:
export const PREV = 0 // previous entry in the queue (towards LRU), or -1
export const NEXT = 1 // next entry in the queue (towards MRU), or -1
export const VALUE = 2 // address of the value record, or -1 (tombstone, empty value)
export const VLEN = 3 // value bytes
export const INFO = 4 // key bytes (16 bits) | flags | queue (0 = dead)
export const VER = 5 // HLC logical (16 bits) | writer index (16 bits)
// Float64 fields, from the record's float64 index:
export const EXPIRES_AT = 3 // TTL deadline (Infinity: none); for a tombstone, the end of its grace
export const PHYSICAL = 4 // HLC physical time
export const IDLE_UNTIL = 5 // max-idle deadline; present only when the store has maxIdleMs
/** Metadata bytes before the key: 40, or 48 with the max-idle deadline. */
export const META_BYTES = 40
export const META_BYTES_IDLE = 48
/** Value records start with the address of their entry (or minus their length once dead). */
export const VALUE_HEADER_BYTES = 4

// INFO bits
export const KEY_BYTES = 0xffff
export const LATIN1 = 1 << 16
export const TOMBSTONE = 1 << 17
export const EXPIRES = 1 << 18 // has a finite TTL or idle deadline
export const EXPOSED = 1 << 19 // a view of the current value record was handed out: never rewrite it in place
export const QUEUE_SHIFT = 20
export const QUEUE_BITS = 7 << QUEUE_SHIFT // the queue the entry is linked in (`eviction.ts`), 0 = dead
export const USED = 1 << 23 // W-TinyLFU: used (read or overwritten) since its queue last looked at it

const DECODE_CHUNK = 8192

export function field (entries: Arena, a: number, f: number): number {
  return entries.i32[a >>> OFFSET_BITS][((a & OFFSET_MASK) << 1) + f]
}

export function setField (entries: Arena, a: number, f: number, value: number): void {
  entries.i32[a >>> OFFSET_BITS][((a & OFFSET_MASK) << 1) + f] = value
}

export function time (entries: Arena, a: number, f: number): number {
  return entries.f64[a >>> OFFSET_BITS][(a & OFFSET_MASK) + f]
}

/** The queue entry `a` is linked in (0: none, a dead record). */
export function queueOf (entries: Arena, a: number): number {
  return (field(entries, a, INFO) & QUEUE_BITS) >>> QUEUE_SHIFT
}

/** Accounted bytes of the entry at `a` (key + value + overhead). */
export function weight (entries: Arena, a: number): number {
  const r = entries.i32[a >>> OFFSET_BITS]
  const ri = (a & OFFSET_MASK) << 1
  return (r[ri + INFO] & KEY_BYTES) + r[ri + VLEN] + ENTRY_OVERHEAD_BYTES
}

/** Bytes of an entry record holding `keyBytes` of key. */
export function entryRecordBytes (metaBytes: number, keyBytes: number): number {
  return align8(metaBytes + keyBytes)
}

/** Bytes of a value record holding `vlen` bytes of value. */
export function valueRecordBytes (vlen: number): number {
  return align8(VALUE_HEADER_BYTES + vlen)
}

/** The key hash of the entry at `a`, recomputed from its stored key bytes (entries do not store it). */
export function hashAt (entries: Arena, a: number, metaBytes: number, seed: number): number {
  const info = field(entries, a, INFO)
  const latin1 = (info & LATIN1) !== 0
  const bytes = info & KEY_BYTES
  return hashStoredKey(entries.u8[a >>> OFFSET_BITS], ((a & OFFSET_MASK) << 3) + metaBytes,
    latin1 ? bytes : bytes >>> 1, latin1, seed)
}

export function decodeKey (entries: Arena, a: number, metaBytes: number): string {
  const info = field(entries, a, INFO)
  const bytes = info & KEY_BYTES
  const buf = entries.u8[a >>> OFFSET_BITS]
  const start = ((a & OFFSET_MASK) << 3) + metaBytes
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

export function keyStartsWith (entries: Arena, a: number, metaBytes: number, prefix: string): boolean {
  const info = field(entries, a, INFO)
  const latin1 = (info & LATIN1) !== 0
  const chars = latin1 ? info & KEY_BYTES : (info & KEY_BYTES) >>> 1
  if (prefix.length > chars) return false
  const buf = entries.u8[a >>> OFFSET_BITS]
  const start = ((a & OFFSET_MASK) << 3) + metaBytes
  for (let i = 0; i < prefix.length; i++) {
    const code = latin1 ? buf[start + i] : buf[start + 2 * i] | (buf[start + 2 * i + 1] << 8)
    if (code !== prefix.charCodeAt(i)) return false
  }
  return true
}

/** A view of the value of entry `a`; marks it EXPOSED (never rewritten in place from now on). */
export function valueView (entries: Arena, values: Arena, a: number): Uint8Array {
  const r = entries.i32[a >>> OFFSET_BITS]
  const ri = (a & OFFSET_MASK) << 1
  const v = r[ri + VALUE]
  r[ri + INFO] |= EXPOSED
  if (v < 0) return new Uint8Array(0)
  values.exposed[v >>> OFFSET_BITS] = 1
  return new Uint8Array(values.buffers[v >>> OFFSET_BITS], ((v & OFFSET_MASK) << 3) + VALUE_HEADER_BYTES, r[ri + VLEN])
}

/** Appends a value record owned by entry `a` and points the entry at it. */
export function appendValue (entries: Arena, values: Arena, a: number, value: Uint8Array, vlen: number): void {
  const v = values.allocate(valueRecordBytes(vlen))
  const c = v >>> OFFSET_BITS
  const o = (v & OFFSET_MASK) << 3
  values.i32[c][o >>> 2] = a
  copyBytes(value, vlen, values.u8[c], o + VALUE_HEADER_BYTES)
  setField(entries, a, VALUE, v)
}

/** Marks the value record at `v` (holding `vlen` bytes) dead. */
export function killValue (values: Arena, v: number, vlen: number): void {
  const length = valueRecordBytes(vlen)
  values.i32[v >>> OFFSET_BITS][(v & OFFSET_MASK) << 1] = -length
  values.kill(v, length)
}

/** What the entry arena needs to know of entry records; `moved` repoints whatever names the entry. */
export function entryRecordOwner (metaBytes: number, moved: (from: number, to: number) => void): ArenaOwner {
  return {
    recordBytes: (chunk, offset) => align8(metaBytes + (chunk[(offset >>> 2) + INFO] & KEY_BYTES)),
    isLive: (chunk, offset) => (chunk[(offset >>> 2) + INFO] & QUEUE_BITS) !== 0,
    moved
  }
}

/** What the value arena needs to know of value records, whose length is in their owner entry. */
export function valueRecordOwner (entries: Arena, moved: (from: number, to: number) => void): ArenaOwner {
  return {
    recordBytes: (chunk, offset) => {
      const owner = chunk[offset >>> 2]
      return owner < 0 ? -owner : valueRecordBytes(field(entries, owner, VLEN))
    },
    isLive: (chunk, offset) => chunk[offset >>> 2] >= 0,
    moved
  }
}

/** Copies all of `src` into `dst` at `at`; a plain loop beats `set()` for short values. */
export function copyBytes (src: Uint8Array, n: number, dst: Uint8Array, at: number): void {
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
