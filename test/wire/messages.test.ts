import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError, DEFAULT_WIRE_LIMITS, EncodeError, WIRE_VERSION, Writer } from '../../src/wire/codec.js'
import type { DecodeErrorReason, WireLimits } from '../../src/wire/codec.js'
import { decodeMessage, encodeMessage, frameHeader, MESSAGE_FAMILY_RANGES, messageFamily, MessageType, type Message } from '../../src/wire/messages.js'
import { encodeBatch, ReplicationFrame } from '../../src/wire/replication.js'

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

const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), seq: fc.maxSafeNat() }),
  fc.record({ type: fc.constant('ack' as const), seq: fc.maxSafeNat() })
)

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
    ['the largest seq', { type: 'ping', seq: Number.MAX_SAFE_INTEGER }, [WIRE_VERSION, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]]
  ])('writes %s in the documented layout', (_name, msg, frame) => {
    expect([...encodeMessage(msg)]).toEqual(frame)
    expect(decodeMessage(new Uint8Array(frame))).toEqual(msg)
  })
})

describe('decodeMessage on hostile input', () => {
  it.each<[string, number[], DecodeErrorReason]>([
    ['an empty frame', [], 'truncated'],
    ['a lone version byte', [WIRE_VERSION], 'truncated'],
    ['a ping without its seq', [WIRE_VERSION, 0x01], 'truncated'],
    ['another protocol version', [2, 0x01, 0], 'unknown-version'],
    ['version 0 (a zeroed buffer)', [0, 0, 0], 'unknown-version'],
    ['type 0', [WIRE_VERSION, 0x00], 'unknown-type'],
    ['an unassigned base type', [WIRE_VERSION, 0x03, 0], 'unknown-type'],
    ['a membership frame', [WIRE_VERSION, 0x10, 0], 'unknown-type'],
    ['a replication batch frame', [WIRE_VERSION, 0x30, 0], 'unknown-type'],
    ['a former placeholder type (0x33)', [WIRE_VERSION, 0x33, 1, 1, 0x45, 1, 0x6d], 'unknown-type'],
    ['a reserved type', [WIRE_VERSION, 0xff], 'unknown-type'],
    ['a byte after a ping', [WIRE_VERSION, 0x01, 5, 0], 'trailing-bytes'],
    ['a padded varint', [WIRE_VERSION, 0x01, 0x80, 0x00], 'bad-varint'],
    ['a varint over 53 bits', [WIRE_VERSION, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10], 'bad-varint'],
    ['a varint that never ends', [WIRE_VERSION, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'bad-varint']
  ])('refuses %s', (_name, frame, reason) => {
    expect(reasonOf(() => decodeMessage(new Uint8Array(frame)))).toBe(reason)
  })

  it('points a frame of another family to its own decoder', () => {
    expect(() => decodeMessage(new Uint8Array([WIRE_VERSION, 0x10]))).toThrow(/decodeMembershipMessage/)
    expect(() => decodeMessage(encodeBatch('batch', []))).toThrow(/decodeBatch/)
  })

  it('throws nothing but DecodeError on random bytes', () => {
    const frames = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      // A valid header with a random body reaches deeper into the decoder.
      fc.tuple(fc.constantFrom(...Object.values(MessageType)), fc.uint8Array({ maxLength: 16 }))
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

  it('refuses a frame over the receiver\'s maxFrameBytes before reading it', () => {
    const frame = encodeMessage({ type: 'ping', seq: 2 ** 40 })
    expect(reasonOf(() => decodeMessage(frame, limits({ maxFrameBytes: frame.byteLength - 1 })))).toBe('frame-too-large')
    expect(reasonOf(() => decodeMessage(frame, limits({ maxFrameBytes: frame.byteLength })))).toBe('no error')
  })

  it('reads a seq of 2^40 written by any writer as the same number', () => {
    const frame = new Writer().u8(WIRE_VERSION).u8(MessageType.ack).varint(2 ** 40).finish()
    expect(decodeMessage(frame)).toEqual({ type: 'ack', seq: 2 ** 40 })
  })
})

describe('encodeMessage refuses', () => {
  it.each<[string, Message]>([
    ['a negative seq', { type: 'ping', seq: -1 }],
    ['a fractional seq', { type: 'ack', seq: 1.5 }],
    ['a seq over 2^53 - 1', { type: 'ping', seq: 2 ** 53 }],
    ['a NaN seq', { type: 'ping', seq: Number.NaN }],
    ['a former placeholder type', { type: 'get', requestId: 1, ns: 'n', key: 'k' } as unknown as Message],
    ['an unknown message type', { type: 'nope' } as unknown as Message]
  ])('%s', (_name, msg) => {
    expect(() => encodeMessage(msg)).toThrow(EncodeError)
  })

  it('a frame over maxFrameBytes', () => {
    expect(() => encodeMessage({ type: 'ping', seq: 2 ** 40 }, limits({ maxFrameBytes: 4 }))).toThrow(/frame would be over the limit of 4/)
  })
})

describe('routing', () => {
  it.each([
    [0x00, 'reserved'], [0x01, 'base'], [0x0f, 'base'], [0x10, 'membership'], [0x2f, 'membership'],
    [0x30, 'kv'], [0x31, 'kv'], [0x32, 'kv'], [0x4f, 'kv'], [0x50, 'reserved'], [0x6f, 'reserved'], [0x70, 'reserved'], [0xff, 'reserved']
  ])('type %d is in the %s family', (type, family) => {
    expect(messageFamily(type)).toBe(family)
  })

  it('assigns every type byte to exactly one family, with the ranges in the header table', () => {
    expect(MESSAGE_FAMILY_RANGES).toEqual({ base: [0x01, 0x0f], membership: [0x10, 0x2f], kv: [0x30, 0x4f] })
    const counts: Record<string, number> = {}
    for (let t = 0; t <= 0xff; t++) counts[messageFamily(t)] = (counts[messageFamily(t)] ?? 0) + 1
    expect(counts).toEqual({ reserved: 1 + (0xff - 0x4f), base: 15, membership: 32, kv: 32 })
  })

  it('puts every message type of this file, and every replication batch frame, in its documented family', () => {
    expect(MessageType).toEqual({ ping: 0x01, ack: 0x02 })
    for (const t of Object.values(MessageType)) expect(messageFamily(t)).toBe('base')
    for (const t of Object.values(ReplicationFrame)) expect(messageFamily(t)).toBe('kv')
  })

  it('reads the header of a frame for routing', () => {
    expect(frameHeader(encodeMessage({ type: 'ack', seq: 1 }))).toEqual({ version: WIRE_VERSION, type: MessageType.ack, family: 'base' })
    expect(frameHeader(encodeBatch('batch-reply', []))).toEqual({ version: WIRE_VERSION, type: ReplicationFrame.batchReply, family: 'kv' })
    expect(frameHeader(new Uint8Array([WIRE_VERSION, 0x10]))).toEqual({ version: WIRE_VERSION, type: 0x10, family: 'membership' })
    expect(reasonOf(() => frameHeader(new Uint8Array([])))).toBe('truncated')
    expect(reasonOf(() => frameHeader(new Uint8Array([WIRE_VERSION])))).toBe('truncated')
    expect(reasonOf(() => frameHeader(new Uint8Array([9, 0x01])))).toBe('unknown-version')
  })

  it('throws nothing but DecodeError from frameHeader on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
      const result = reasonOf(() => frameHeader(bytes))
      expect(['no error', 'truncated', 'unknown-version']).toContain(result)
    }), { seed: SEED, numRuns: 1000 })
  })
})
