import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError, DEFAULT_WIRE_LIMITS, EncodeError, WIRE_VERSION, Writer } from '../../src/wire/codec.js'
import type { DecodeErrorReason, WireLimits } from '../../src/wire/codec.js'
import {
  decodeMessage, encodeMessage, frameHeader, MESSAGE_LIMITS, messageFamily, MessageType, type Message, type ValueVersion
} from '../../src/wire/messages.js'

const SEED = 0x3e55a6e
const limits = (partial: Partial<WireLimits>): WireLimits => ({ ...DEFAULT_WIRE_LIMITS, ...partial })

function reasonOf (fn: () => unknown): DecodeErrorReason | 'no error' {
  try {
    fn()
  } catch (err) {
    if (err instanceof DecodeError) return err.reason
    throw err
  }
  return 'no error'
}

/** Decodes, requiring that the only possible failure is a DecodeError. */
function tryDecode (bytes: Uint8Array, l: WireLimits = DEFAULT_WIRE_LIMITS): Message | DecodeError {
  try {
    return decodeMessage(bytes, l)
  } catch (err) {
    if (err instanceof DecodeError) return err
    throw new Error(`decodeMessage threw something other than DecodeError: ${String(err)}`)
  }
}

// ---- arbitraries -----------------------------------------------------------------------------------

const id = fc.maxSafeNat()
const text = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength })
const version: fc.Arbitrary<ValueVersion> = fc.record({ physical: fc.maxSafeNat(), logical: fc.maxSafeNat(), writer: text(30) })
const value = fc.uint8Array({ maxLength: 64 })

const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), seq: id }),
  fc.record({ type: fc.constant('ack' as const), seq: id }),
  fc.record({ type: fc.constant('get' as const), requestId: id, ns: text(60), key: text(100) }),
  fc.record({ type: fc.constant('set' as const), requestId: id, ns: text(60), key: text(100), value, ttlMs: fc.maxSafeNat(), version }),
  fc.record({ type: fc.constant('reply' as const), requestId: id, status: fc.constantFrom('ok' as const, 'not-found' as const, 'stale' as const), value, version },
    { requiredKeys: ['type', 'requestId', 'status'] }),
  fc.record({ type: fc.constant('error' as const), requestId: id, code: text(16), message: text(250) })
)

const aSet: Message = {
  type: 'set', requestId: 9, ns: 'users', key: 'user:42', value: new Uint8Array([1, 2, 3]), ttlMs: 60_000,
  version: { physical: 1_700_000_000_000, logical: 3, writer: '12D3KooWpeer' }
}

// ---- tests -----------------------------------------------------------------------------------------

describe('encodeMessage / decodeMessage', () => {
  it('round-trips arbitrary messages, and every frame that decodes has exactly one encoding', () => {
    fc.assert(fc.property(messageArb, (msg) => {
      const frame = encodeMessage(msg)
      expect(decodeMessage(frame)).toEqual(msg)
      expect(encodeMessage(decodeMessage(frame))).toEqual(frame)
    }), { seed: SEED, numRuns: 1000 })
  })

  it.each<[string, Message, number[]]>([
    ['ping', { type: 'ping', seq: 300 }, [WIRE_VERSION, 0x01, 0xac, 0x02]],
    ['ack', { type: 'ack', seq: 0 }, [WIRE_VERSION, 0x02, 0x00]],
    ['get', { type: 'get', requestId: 7, ns: 'ns', key: 'k' }, [WIRE_VERSION, 0x30, 7, 2, 0x6e, 0x73, 1, 0x6b]],
    ['set', { type: 'set', requestId: 1, ns: '', key: 'k', value: new Uint8Array([9]), ttlMs: 128, version: { physical: 5, logical: 0, writer: 'p' } },
      [WIRE_VERSION, 0x31, 1, 0, 1, 0x6b, 1, 9, 0x80, 0x01, 5, 0, 1, 0x70]],
    ['reply without value', { type: 'reply', requestId: 2, status: 'not-found' }, [WIRE_VERSION, 0x32, 2, 1, 0]],
    ['reply with both', { type: 'reply', requestId: 2, status: 'ok', value: new Uint8Array([7]), version: { physical: 1, logical: 2, writer: '' } },
      [WIRE_VERSION, 0x32, 2, 0, 3, 1, 7, 1, 2, 0]],
    ['error', { type: 'error', requestId: 3, code: 'E', message: 'm' }, [WIRE_VERSION, 0x33, 3, 1, 0x45, 1, 0x6d]]
  ])('writes %s in the documented layout', (_name, msg, frame) => {
    expect([...encodeMessage(msg)]).toEqual(frame)
    expect(decodeMessage(new Uint8Array(frame))).toEqual(msg)
  })

  it('copies values out of the frame, so reusing the buffer does not change a decoded value', () => {
    const frame = encodeMessage(aSet)
    const decoded = decodeMessage(frame) as typeof aSet & { type: 'set' }
    frame.fill(0)
    expect([...decoded.value]).toEqual([1, 2, 3])
  })
})

describe('decodeMessage on hostile input', () => {
  it.each<[string, number[], DecodeErrorReason]>([
    ['an empty frame', [], 'truncated'],
    ['a lone version byte', [WIRE_VERSION], 'truncated'],
    ['another protocol version', [2, 0x01, 0], 'unknown-version'],
    ['version 0 (a zeroed buffer)', [0, 0, 0], 'unknown-version'],
    ['type 0', [WIRE_VERSION, 0x00], 'unknown-type'],
    ['an unassigned base type', [WIRE_VERSION, 0x03, 0], 'unknown-type'],
    ['a membership frame', [WIRE_VERSION, 0x10, 0], 'unknown-type'],
    ['a reserved type', [WIRE_VERSION, 0xff], 'unknown-type'],
    ['a byte after a ping', [WIRE_VERSION, 0x01, 5, 0], 'trailing-bytes'],
    ['an unknown reply status', [WIRE_VERSION, 0x32, 1, 9, 0], 'invalid-field'],
    ['unknown reply flags', [WIRE_VERSION, 0x32, 1, 0, 4], 'invalid-field'],
    ['a padded varint', [WIRE_VERSION, 0x01, 0x80, 0x00], 'bad-varint'],
    ['invalid UTF-8 in a key', [WIRE_VERSION, 0x30, 1, 0, 1, 0xff], 'bad-utf8']
  ])('refuses %s', (_name, frame, reason) => {
    expect(reasonOf(() => decodeMessage(new Uint8Array(frame)))).toBe(reason)
  })

  it('points a membership frame to its own decoder', () => {
    expect(() => decodeMessage(new Uint8Array([WIRE_VERSION, 0x10]))).toThrow(/decodeMembershipMessage/)
  })

  it('throws nothing but DecodeError on random bytes', () => {
    const frames = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      // A valid header with a random body reaches deeper into the decoders.
      fc.tuple(fc.constantFrom(...Object.values(MessageType)), fc.uint8Array({ maxLength: 64 }))
        .map(([type, body]) => new Uint8Array([WIRE_VERSION, type, ...body]))
    )
    fc.assert(fc.property(frames, (frame) => {
      const result = tryDecode(frame)
      // Whatever decodes is a real message with exactly this encoding.
      if (!(result instanceof DecodeError)) expect(encodeMessage(result)).toEqual(frame)
    }), { seed: SEED, numRuns: 3000 })
  })

  it('refuses every truncation of a valid frame as truncated, and any extra byte as trailing', () => {
    fc.assert(fc.property(messageArb, fc.integer({ min: 0, max: 255 }), (msg, extra) => {
      const frame = encodeMessage(msg)
      for (let n = 0; n < frame.byteLength; n++) expect(reasonOf(() => decodeMessage(frame.subarray(0, n)))).toBe('truncated')
      expect(reasonOf(() => decodeMessage(new Uint8Array([...frame, extra])))).toBe('trailing-bytes')
    }), { seed: SEED, numRuns: 300 })
  })

  it('throws nothing but DecodeError on bit-flipped frames', () => {
    fc.assert(fc.property(messageArb, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (msg, flips) => {
      const frame = encodeMessage(msg)
      for (const f of flips) frame[(f >>> 3) % frame.byteLength] ^= 1 << (f & 7)
      const result = tryDecode(frame)
      if (!(result instanceof DecodeError)) expect(encodeMessage(result)).toEqual(frame)
    }), { seed: SEED, numRuns: 2000 })
  })

  it('throws nothing but DecodeError when a length field anywhere is inflated to 2^40', () => {
    const inflated = new Writer().varint(2 ** 40).finish()
    fc.assert(fc.property(messageArb, fc.nat(), fc.boolean(), (msg, at, replace) => {
      const frame = encodeMessage(msg)
      const i = 2 + (at % Math.max(1, frame.byteLength - 2))
      const forged = new Uint8Array([...frame.subarray(0, i), ...inflated, ...frame.subarray(replace ? i + 1 : i)])
      tryDecode(forged)
      tryDecode(forged, limits({ maxKeyBytes: 2 ** 50, maxValueBytes: 2 ** 50 }))
    }), { seed: SEED, numRuns: 2000 })
  })

  /** A set frame written field by field, so that one length can be forged. */
  function setFrame (forge: 'ns' | 'key' | 'value' | 'writer'): Uint8Array {
    const w = new Writer(limits({ maxKeyBytes: 2 ** 50, maxValueBytes: 2 ** 50 }))
    const len = (field: typeof forge, n: number): void => { w.varint(field === forge ? 2 ** 40 : n) }
    w.u8(WIRE_VERSION).u8(MessageType.set).varint(1)
    len('ns', 2); w.u8(0x6e).u8(0x73)
    len('key', 1); w.u8(0x6b)
    len('value', 3); w.u8(1).u8(2).u8(3)
    w.varint(0).varint(5).varint(0)
    len('writer', 1); w.u8(0x70)
    return w.finish()
  }

  it.each<['ns' | 'key' | 'value' | 'writer', DecodeErrorReason]>([
    ['ns', 'invalid-field'], ['key', 'key-too-large'], ['value', 'value-too-large'], ['writer', 'invalid-field']
  ])('refuses a forged 2^40 %s length by its limit', (field, reason) => {
    expect(reasonOf(() => decodeMessage(setFrame(field)))).toBe(reason)
  })

  it.each(['ns', 'key', 'value', 'writer'] as const)('refuses a forged %s length past the frame before allocating, even under huge limits', (field) => {
    expect(decodeMessage(encodeMessage(aSet))).toEqual(aSet)
    // With limits that allow 2^40, only the bytes left in the frame stand between the length and an
    // allocation: the decoder must say 'truncated' (a RangeError from allocating would fail tryDecode).
    const huge = limits({ maxKeyBytes: 2 ** 50, maxValueBytes: 2 ** 50 })
    const result = tryDecode(setFrame(field), huge)
    expect(result).toBeInstanceOf(DecodeError)
    expect((result as DecodeError).reason).toBe(field === 'key' || field === 'value' ? 'truncated' : 'invalid-field')
  })
})

describe('limits', () => {
  it.each<[string, Message, Partial<WireLimits>, RegExp]>([
    ['a key over maxKeyBytes', { type: 'get', requestId: 1, ns: 'n', key: 'abcde' }, { maxKeyBytes: 4 }, /key of 5 bytes is over the limit of 4/],
    ['a value over maxValueBytes', { ...aSet, value: new Uint8Array(11) }, { maxValueBytes: 10 }, /value of 11 bytes/],
    ['a frame over maxFrameBytes', { ...aSet, value: new Uint8Array(90) }, { maxFrameBytes: 100, maxValueBytes: 90, maxKeyBytes: 10 }, /frame would be over the limit of 100/],
    ['a reply value over maxValueBytes', { type: 'reply', requestId: 1, status: 'ok', value: new Uint8Array(11) }, { maxValueBytes: 10 }, /value of 11 bytes/]
  ])('refuses to encode %s', (_name, msg, partial, message) => {
    expect(() => encodeMessage(msg, limits(partial))).toThrow(EncodeError)
    expect(() => encodeMessage(msg, limits(partial))).toThrow(message)
  })

  it.each<[string, Message]>([
    ['a namespace over its limit', { type: 'get', requestId: 1, ns: 'n'.repeat(MESSAGE_LIMITS.maxNamespaceBytes + 1), key: 'k' }],
    ['a writer id over its limit', { ...aSet, version: { ...aSet.version as ValueVersion, writer: 'w'.repeat(MESSAGE_LIMITS.maxWriterBytes + 1) } }],
    ['an error message over its limit', { type: 'error', requestId: 1, code: 'E', message: 'm'.repeat(MESSAGE_LIMITS.maxErrorMessageBytes + 1) }],
    ['a negative request id', { type: 'get', requestId: -1, ns: 'n', key: 'k' }],
    ['a fractional ttl', { ...aSet, ttlMs: 1.5 }],
    ['an unknown reply status', { type: 'reply', requestId: 1, status: 'maybe' as 'ok' }],
    ['a key with a lone surrogate', { type: 'get', requestId: 1, ns: 'n', key: 'k\ud800' }],
    ['an unknown message type', { type: 'nope' } as unknown as Message]
  ])('refuses to encode %s', (_name, msg) => {
    expect(() => encodeMessage(msg)).toThrow(EncodeError)
  })

  it('enforces the receiver\'s limits on decode', () => {
    const frame = encodeMessage({ ...aSet, key: 'k'.repeat(20), value: new Uint8Array(50) })
    expect(reasonOf(() => decodeMessage(frame, limits({ maxKeyBytes: 19 })))).toBe('key-too-large')
    expect(reasonOf(() => decodeMessage(frame, limits({ maxValueBytes: 49 })))).toBe('value-too-large')
    expect(reasonOf(() => decodeMessage(frame, limits({ maxFrameBytes: frame.byteLength - 1 })))).toBe('frame-too-large')
    expect(reasonOf(() => decodeMessage(frame, limits({ maxKeyBytes: 20, maxValueBytes: 50, maxFrameBytes: frame.byteLength })))).toBe('no error')
  })
})

describe('routing', () => {
  it.each([
    [0x00, 'reserved'], [0x01, 'base'], [0x0f, 'base'], [0x10, 'membership'], [0x2f, 'membership'],
    [0x30, 'kv'], [0x4f, 'kv'], [0x50, 'reserved'], [0xff, 'reserved']
  ])('type %d is in the %s family', (type, family) => {
    expect(messageFamily(type)).toBe(family)
  })

  it('puts every message type of this file in its documented family', () => {
    expect(messageFamily(MessageType.ping)).toBe('base')
    expect(messageFamily(MessageType.ack)).toBe('base')
    for (const t of [MessageType.get, MessageType.set, MessageType.reply, MessageType.error]) expect(messageFamily(t)).toBe('kv')
  })

  it('reads the header of a frame for routing', () => {
    expect(frameHeader(encodeMessage(aSet))).toEqual({ version: WIRE_VERSION, type: MessageType.set, family: 'kv' })
    expect(reasonOf(() => frameHeader(new Uint8Array([WIRE_VERSION])))).toBe('truncated')
    expect(reasonOf(() => frameHeader(new Uint8Array([9, 0x01])))).toBe('unknown-version')
  })
})
