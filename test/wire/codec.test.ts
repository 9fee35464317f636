import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import { DecodeError, DEFAULT_WIRE_LIMITS, EncodeError, Reader, resolveWireLimits, varintLength, Writer } from '../../src/wire/codec.js'
import type { DecodeErrorReason, WireLimits } from '../../src/wire/codec.js'

const SEED = 0x0c0dec

function reasonOf (fn: () => unknown): DecodeErrorReason | 'no error' {
  try {
    fn()
  } catch (err) {
    if (err instanceof DecodeError) return err.reason
    throw err
  }
  return 'no error'
}

const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs)
const limits = (partial: Partial<WireLimits>): WireLimits => ({ ...DEFAULT_WIRE_LIMITS, ...partial })

describe('varint', () => {
  it.each([
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [16383, [0xff, 0x7f]],
    [16384, [0x80, 0x80, 0x01]],
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
    [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]]
  ])('%s encodes as %j and back', (value, encoded) => {
    expect([...new Writer().varint(value).finish()]).toEqual(encoded)
    expect(varintLength(value)).toBe(encoded.length)
    const r = new Reader(new Uint8Array(encoded))
    expect(r.varint()).toBe(value)
    r.end()
  })

  it.each([
    ['2^53 (one past the largest safe integer)', [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], 'bad-varint'],
    ['9 bytes', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'bad-varint'],
    ['0 padded to 2 bytes', [0x80, 0x00], 'bad-varint'],
    ['127 padded to 3 bytes', [0xff, 0x80, 0x00], 'bad-varint'],
    ['a continuation with nothing after it', [0x80], 'truncated'],
    ['nothing', [], 'truncated']
  ])('refuses %s', (_name, encoded, reason) => {
    expect(reasonOf(() => new Reader(new Uint8Array(encoded)).varint())).toBe(reason)
  })

  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, Infinity])('refuses to write %s', (value) => {
    expect(() => new Writer().varint(value)).toThrow(EncodeError)
  })

  it('round-trips every safe unsigned integer', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (v) => {
      const encoded = new Writer().varint(v).finish()
      expect(encoded.byteLength).toBe(varintLength(v))
      expect(new Reader(encoded).varint()).toBe(v)
    }), { seed: SEED, numRuns: 500 })
  })
})

describe('Writer', () => {
  it('fills a frame exactly up to its limit (a short varint near the end is not refused)', () => {
    const w = new Writer(limits({ maxFrameBytes: 3 }), 1)
    w.u8(1).u8(2).varint(5)
    expect([...w.finish()]).toEqual([1, 2, 5])
    expect(() => w.u8(0)).toThrow(EncodeError)
    expect(() => new Writer(limits({ maxFrameBytes: 3 })).u8(0).u8(0).varint(128)).toThrow(/over the limit of 3 bytes/)
  })

  it('grows from a zero-byte initial buffer', () => {
    const w = new Writer(DEFAULT_WIRE_LIMITS, 0)
    for (let i = 0; i < 1000; i++) w.u32(i)
    expect(w.length).toBe(4000)
    const r = new Reader(w.finish())
    for (let i = 0; i < 1000; i++) expect(r.u32()).toBe(i)
  })

  it('returns a copy that later writes do not change', () => {
    const w = new Writer().u8(7)
    const first = w.finish()
    w.u8(8)
    expect([...first]).toEqual([7])
  })

  it('refuses bytes and strings over their limit', () => {
    expect(() => new Writer().bytes(new Uint8Array(11), 10)).toThrow(EncodeError)
    expect(() => new Writer(limits({ maxKeyBytes: 4 })).key('héllo')).toThrow(/key of 6 bytes is over the limit of 4/)
    expect(() => new Writer(limits({ maxValueBytes: 4 })).value(new Uint8Array(5))).toThrow(EncodeError)
  })

  it('refuses a string with a lone surrogate instead of silently turning it into U+FFFD', () => {
    expect(() => new Writer().key('a\ud800')).toThrow(/lone surrogate/)
    expect(() => new Writer().key('\udc00b')).toThrow(EncodeError)
    expect(new Reader(new Writer().key('🔑').finish()).key()).toBe('🔑')
  })
})

describe('Reader', () => {
  it('round-trips fixed-size fields', () => {
    const w = new Writer().u8(255).u16(65535).u32(2 ** 32 - 1).f64(-1.5).bool(true).bool(false)
    const r = new Reader(w.finish())
    expect([r.u8(), r.u16(), r.u32(), r.f64(), r.bool(), r.bool()]).toEqual([255, 65535, 2 ** 32 - 1, -1.5, true, false])
    r.end()
  })

  it.each([
    ['a u16 with one byte', () => new Reader(bytes(1)).u16(), 'truncated'],
    ['a u32 with three bytes', () => new Reader(bytes(1, 2, 3)).u32(), 'truncated'],
    ['an f64 with seven bytes', () => new Reader(new Uint8Array(7)).f64(), 'truncated'],
    ['a boolean byte of 2', () => new Reader(bytes(2)).bool(), 'invalid-field'],
    ['invalid UTF-8', () => new Reader(bytes(2, 0xc3, 0x28)).string(10), 'bad-utf8'],
    ['a string longer than its limit', () => new Reader(bytes(3, 0x61, 0x62, 0x63)).string(2), 'invalid-field'],
    ['a key longer than maxKeyBytes', () => new Reader(bytes(3, 0x61, 0x62, 0x63), limits({ maxKeyBytes: 2 })).key(), 'key-too-large'],
    ['a value longer than maxValueBytes', () => new Reader(bytes(3, 1, 2, 3), limits({ maxValueBytes: 2 })).value(), 'value-too-large'],
    ['a length past the end of the frame', () => new Reader(bytes(5, 1, 2)).value(), 'truncated'],
    ['a list longer than maxListLength', () => new Reader(bytes(4, 0, 0, 0, 0), limits({ maxListLength: 3 })).listLength(), 'list-too-long'],
    ['a list that cannot fit in the bytes left', () => new Reader(bytes(3, 0, 0, 0, 0, 0)).listLength(2), 'truncated'],
    ['a frame over maxFrameBytes', () => new Reader(new Uint8Array(5), limits({ maxFrameBytes: 4 })), 'frame-too-large'],
    ['unread bytes at the end', () => { const r = new Reader(bytes(1, 2)); r.u8(); r.end() }, 'trailing-bytes']
  ])('refuses %s', (_name, fn, reason) => {
    expect(reasonOf(fn)).toBe(reason)
  })

  it('refuses a forged 2^40-byte length by its limit, before looking for the bytes', () => {
    const forged = new Writer().varint(2 ** 40).u8(1).finish()
    expect(reasonOf(() => new Reader(forged).value())).toBe('value-too-large')
    expect(reasonOf(() => new Reader(forged).key())).toBe('key-too-large')
    expect(reasonOf(() => new Reader(forged).listLength())).toBe('list-too-long')
    // Even with limits that would allow it, the bytes left are checked before anything is allocated.
    const huge = limits({ maxValueBytes: 2 ** 50, maxListLength: 2 ** 50 })
    expect(reasonOf(() => new Reader(forged, huge).value())).toBe('truncated')
    expect(reasonOf(() => new Reader(forged, huge).listLength())).toBe('truncated')
  })

  it('keeps a leading byte-order mark in a string', () => {
    expect(new Reader(new Writer().key('\ufeffk').finish()).key()).toBe('\ufeffk')
  })

  it('reads back any sequence of fields that was written', () => {
    const field = fc.oneof(
      fc.record({ kind: fc.constant('u8' as const), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('varint' as const), v: fc.maxSafeNat() }),
      fc.record({ kind: fc.constant('f64' as const), v: fc.double({ noNaN: true }) }),
      fc.record({ kind: fc.constant('string' as const), v: fc.string({ unit: 'binary', maxLength: 50 }) }),
      fc.record({ kind: fc.constant('bytes' as const), v: fc.uint8Array({ maxLength: 50 }) })
    )
    fc.assert(fc.property(fc.array(field, { maxLength: 30 }), (fields) => {
      const w = new Writer(DEFAULT_WIRE_LIMITS, 1)
      for (const f of fields) {
        if (f.kind === 'u8') w.u8(f.v)
        else if (f.kind === 'varint') w.varint(f.v)
        else if (f.kind === 'f64') w.f64(f.v)
        else if (f.kind === 'string') w.string(f.v, 1000)
        else w.bytes(f.v)
      }
      const r = new Reader(w.finish())
      for (const f of fields) {
        if (f.kind === 'u8') expect(r.u8()).toBe(f.v)
        else if (f.kind === 'varint') expect(r.varint()).toBe(f.v)
        else if (f.kind === 'f64') expect(Object.is(r.f64(), f.v)).toBe(true)
        else if (f.kind === 'string') expect(r.string(1000)).toBe(f.v)
        else expect(r.value()).toEqual(f.v)
      }
      r.end()
    }), { seed: SEED, numRuns: 150 })
  })
})

describe('resolveWireLimits', () => {
  it('fills defaults and keeps what is given', () => {
    expect(resolveWireLimits()).toEqual(DEFAULT_WIRE_LIMITS)
    expect(resolveWireLimits({ maxKeyBytes: 100 }).maxKeyBytes).toBe(100)
  })

  it.each([
    [{ maxKeyBytes: 0 }, /maxKeyBytes must be a positive integer/],
    [{ maxFrameBytes: 1.5 }, /maxFrameBytes must be a positive integer/],
    [{ maxValueBytes: 4 * 1024 * 1024 }, /must fit in maxFrameBytes/]
  ])('refuses %j with InvalidOptionError', (partial, message) => {
    expect(() => resolveWireLimits(partial)).toThrow(InvalidOptionError)
    expect(() => resolveWireLimits(partial)).toThrow(message)
  })
})
