/**
 * Binary codec primitives: a bounds-checked Reader and a growable Writer.
 *
 * Every message on the network is `[version u8][type u8][body]`. Bodies are built from the primitives
 * below. The Reader is written for hostile input: every read checks the bytes that remain, every length
 * is checked against both the remaining bytes and a configured limit *before* anything is allocated, and
 * the only exception it throws is `DecodeError` (with a stable `reason`). Varints are unsigned LEB128 up
 * to 2^53 - 1, so a number always fits a JavaScript double exactly, and minimally encoded (no padding
 * 0x80 groups), so one message has exactly one encoding. Strings are well-formed UTF-16 on the way in
 * (a lone surrogate would silently become U+FFFD and alias another key) and exact UTF-8 on the way out.
 */
import { InvalidOptionError, MeshcacheError } from '../errors.js'

/** The protocol version this build speaks. A frame with another version is refused. */
export const WIRE_VERSION = 1

export interface WireLimits {
  /** Largest frame accepted or produced, in bytes. @default 4 MiB */
  maxFrameBytes: number
  /** Largest key, in bytes (UTF-8). @default 4096 */
  maxKeyBytes: number
  /** Largest value, in bytes. @default 1 MiB */
  maxValueBytes: number
  /** Largest element count of any list in a message. @default 65536 */
  maxListLength: number
}

export const DEFAULT_WIRE_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxFrameBytes: 4 * 1024 * 1024,
  maxKeyBytes: 4096,
  maxValueBytes: 1024 * 1024,
  maxListLength: 65536
})

export type DecodeErrorReason =
  | 'truncated' | 'frame-too-large' | 'key-too-large' | 'value-too-large' | 'list-too-long'
  | 'bad-varint' | 'bad-utf8' | 'unknown-version' | 'unknown-type' | 'trailing-bytes' | 'invalid-field'

/** Hostile or corrupt bytes: the only exception a decoder throws. */
export class DecodeError extends MeshcacheError {
  readonly reason: DecodeErrorReason
  constructor (reason: DecodeErrorReason, message: string) {
    super('ERR_DECODE', message)
    this.reason = reason
  }
}

/** A message to encode breaks a limit (too large a frame, key or value): refused before sending. */
export class EncodeError extends MeshcacheError {
  constructor (message: string) { super('ERR_ENCODE', message) }
}

// ignoreBOM: keep a leading U+FEFF in the string (the default strips it, so "\uFEFFk" would decode as "k").
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8Encoder = new TextEncoder()

export class Reader {
  readonly #buf: Uint8Array
  readonly #view: DataView
  #pos: number
  readonly limits: WireLimits

  constructor (buf: Uint8Array, limits: WireLimits = DEFAULT_WIRE_LIMITS, offset = 0) {
    if (buf.byteLength > limits.maxFrameBytes) {
      throw new DecodeError('frame-too-large', `frame of ${buf.byteLength} bytes is over the limit of ${limits.maxFrameBytes}`)
    }
    this.#buf = buf
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.#pos = offset
    this.limits = limits
  }

  get offset (): number { return this.#pos }
  get remaining (): number { return this.#buf.byteLength - this.#pos }
  /** The frame being read (for decoders that walk a run of fields with their own cursor, then `skip`). */
  get frame (): Uint8Array { return this.#buf }

  /** Moves past `n` bytes another cursor has read (checked like any read). */
  skip (n: number, what = 'bytes'): void {
    this.#need(n, what)
    this.#pos += n
  }

  #need (n: number, what: string): void {
    if (n > this.#buf.byteLength - this.#pos) {
      throw new DecodeError('truncated', `truncated ${what}: need ${n} bytes at offset ${this.#pos}, have ${this.remaining}`)
    }
  }

  u8 (): number { this.#need(1, 'u8'); return this.#buf[this.#pos++] }
  u16 (): number { this.#need(2, 'u16'); const v = this.#view.getUint16(this.#pos); this.#pos += 2; return v }
  u32 (): number { this.#need(4, 'u32'); const v = this.#view.getUint32(this.#pos); this.#pos += 4; return v }
  f64 (): number { this.#need(8, 'f64'); const v = this.#view.getFloat64(this.#pos); this.#pos += 8; return v }
  bool (): boolean {
    const v = this.u8()
    if (v > 1) throw new DecodeError('invalid-field', `boolean byte must be 0 or 1, got ${v}`)
    return v === 1
  }

  /**
   * Unsigned LEB128, at most 2^53 - 1 (8 bytes of 7 bits would overflow; we stop at 53 bits), minimally
   * encoded: a last byte of 0 after other bytes (e.g. 0x80 0x00 for 0) is padding and is refused.
   */
  varint (): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      this.#need(1, 'varint')
      const b = this.#buf[this.#pos++]
      result += (b & 0x7f) * scale
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) break
        if (b === 0 && i > 0) throw new DecodeError('bad-varint', 'varint is not minimally encoded (padded with a zero group)')
        return result
      }
      scale *= 128
    }
    throw new DecodeError('bad-varint', 'varint is longer than 53 bits')
  }

  /** Bytes with a varint length prefix, at most `max` long; returns a view (no copy). */
  bytes (max: number, reason: DecodeErrorReason = 'value-too-large'): Uint8Array {
    const n = this.varint()
    if (n > max) throw new DecodeError(reason, `field of ${n} bytes is over the limit of ${max}`)
    this.#need(n, 'bytes')
    const out = this.#buf.subarray(this.#pos, this.#pos + n)
    this.#pos += n
    return out
  }

  /** UTF-8 string with a varint length prefix, at most `maxBytes` bytes. */
  string (maxBytes: number, reason: DecodeErrorReason = 'invalid-field'): string {
    const raw = this.bytes(maxBytes, reason)
    try {
      return utf8Decoder.decode(raw)
    } catch {
      throw new DecodeError('bad-utf8', 'string is not valid UTF-8')
    }
  }

  key (): string { return this.string(this.limits.maxKeyBytes, 'key-too-large') }
  value (): Uint8Array { return this.bytes(this.limits.maxValueBytes, 'value-too-large') }

  /**
   * A list length, checked against the list limit and against the bytes left (every element takes at
   * least `minElementBytes`), so a forged count can never make us allocate.
   */
  listLength (minElementBytes = 1): number {
    const n = this.varint()
    if (n > this.limits.maxListLength) throw new DecodeError('list-too-long', `list of ${n} elements is over the limit of ${this.limits.maxListLength}`)
    if (n * minElementBytes > this.remaining) throw new DecodeError('truncated', `list of ${n} elements cannot fit in ${this.remaining} bytes`)
    return n
  }

  /** Every byte must have been read. */
  end (): void {
    if (this.remaining !== 0) throw new DecodeError('trailing-bytes', `${this.remaining} unread bytes after the message`)
  }
}

export class Writer {
  #buf: Uint8Array
  #view: DataView
  #pos = 0
  readonly limits: WireLimits

  constructor (limits: WireLimits = DEFAULT_WIRE_LIMITS, initialBytes = 256) {
    this.limits = limits
    this.#buf = new Uint8Array(initialBytes)
    this.#view = new DataView(this.#buf.buffer)
  }

  get length (): number { return this.#pos }

  /** Empties the writer, keeping its buffer (a scratch writer reused for many small messages). */
  reset (): this {
    this.#pos = 0
    return this
  }

  #ensure (n: number): void {
    const need = this.#pos + n
    if (need > this.limits.maxFrameBytes) throw new EncodeError(`frame would be over the limit of ${this.limits.maxFrameBytes} bytes`)
    if (need <= this.#buf.byteLength) return
    let size = Math.max(64, this.#buf.byteLength * 2)
    while (size < need) size *= 2
    const next = new Uint8Array(Math.min(size, Math.max(need, this.limits.maxFrameBytes)))
    next.set(this.#buf.subarray(0, this.#pos))
    this.#buf = next
    this.#view = new DataView(next.buffer)
  }

  u8 (v: number): this { this.#ensure(1); this.#buf[this.#pos++] = v; return this }
  u16 (v: number): this { this.#ensure(2); this.#view.setUint16(this.#pos, v); this.#pos += 2; return this }
  u32 (v: number): this { this.#ensure(4); this.#view.setUint32(this.#pos, v); this.#pos += 4; return this }
  f64 (v: number): this { this.#ensure(8); this.#view.setFloat64(this.#pos, v); this.#pos += 8; return this }
  bool (v: boolean): this { return this.u8(v ? 1 : 0) }

  varint (v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new EncodeError(`varint must be a safe unsigned integer, got ${v}`)
    // Reserve the exact length: reserving a fixed 8 bytes refused a short varint near the frame limit.
    this.#ensure(varintLength(v))
    while (v >= 0x80) {
      this.#buf[this.#pos++] = (v % 128) | 0x80
      v = Math.floor(v / 128)
    }
    this.#buf[this.#pos++] = v
    return this
  }

  bytes (b: Uint8Array, max = this.limits.maxValueBytes, what = 'value'): this {
    if (b.byteLength > max) throw new EncodeError(`${what} of ${b.byteLength} bytes is over the limit of ${max}`)
    this.varint(b.byteLength)
    this.#ensure(b.byteLength)
    this.#buf.set(b, this.#pos)
    this.#pos += b.byteLength
    return this
  }

  string (s: string, maxBytes: number, what = 'string'): this {
    const n = s.length
    if (n <= 128) {
      // Fast path for short ASCII strings (keys, ids, names): bytes written straight from the code units.
      let ascii = true
      for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) { ascii = false; break }
      if (ascii) {
        if (n > maxBytes) throw new EncodeError(`${what} of ${n} bytes is over the limit of ${maxBytes}`)
        this.varint(n)
        this.#ensure(n)
        const buf = this.#buf
        let pos = this.#pos
        for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i)
        this.#pos = pos
        return this
      }
    }
    if (!s.isWellFormed()) throw new EncodeError(`${what} is not well-formed UTF-16 (it has a lone surrogate)`)
    return this.bytes(utf8Encoder.encode(s), maxBytes, what)
  }

  key (k: string): this { return this.string(k, this.limits.maxKeyBytes, 'key') }
  value (v: Uint8Array): this { return this.bytes(v, this.limits.maxValueBytes, 'value') }

  /** The encoded bytes (a copy sized exactly, safe to keep). */
  finish (): Uint8Array { return this.#buf.slice(0, this.#pos) }
}

/** Bytes the minimal LEB128 encoding of a safe unsigned integer takes (1 to 8). */
export function varintLength (v: number): number {
  let n = 1
  while (v >= 0x80) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

/** Checks a partial limits object and fills in defaults; throws InvalidOptionError on a bad value. */
export function resolveWireLimits (partial: Partial<WireLimits> = {}): WireLimits {
  const out = { ...DEFAULT_WIRE_LIMITS, ...partial }
  for (const [name, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new InvalidOptionError(`wire limit ${name} must be a positive integer, got ${String(v)}`)
  }
  if (out.maxKeyBytes + out.maxValueBytes > out.maxFrameBytes) {
    throw new InvalidOptionError(`wire limits: maxKeyBytes + maxValueBytes (${out.maxKeyBytes + out.maxValueBytes}) must fit in maxFrameBytes (${out.maxFrameBytes})`)
  }
  return out
}
