import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError, EncodeError, WIRE_VERSION } from '../../src/wire/codec.js'
import {
  datagramBaseBytes, decodeMembershipMessage, encodeDatagram, encodeMembershipMessage, encodePushPull, encodeUpdate,
  isMembershipFrame, MEMBERSHIP_LIMITS, MembershipType, metadataProblem, piggybackBytes, sharedUpdate, utf8Length
} from '../../src/wire/membership.js'
import type { MemberEntry, MemberUpdate, MembershipMessage, OutgoingDatagram } from '../../src/wire/membership.js'

const SEED = 0x5111e

/** Decodes, requiring that the only possible failure is a DecodeError. */
function tryDecode (bytes: Uint8Array): MembershipMessage | DecodeError {
  try {
    return decodeMembershipMessage(bytes)
  } catch (err) {
    if (err instanceof DecodeError) return err
    throw new Error(`decodeMembershipMessage threw something other than DecodeError: ${String(err)}`)
  }
}

// ---- arbitraries -----------------------------------------------------------------------------------

const id = fc.string({ unit: 'binary', minLength: 1, maxLength: 24 })
const address = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 })
const inc = fc.maxSafeNat()
const seq = fc.nat({ max: 2 ** 32 - 1 })
const checksum = fc.nat({ max: 2 ** 32 - 1 })
const meta = fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 30 }), { maxKeys: 4 })
  .filter((m) => metadataProblem(m) === undefined)

const update: fc.Arbitrary<MemberUpdate> = fc.oneof(
  fc.record({ kind: fc.constant('alive' as const), id, incarnation: inc, address, meta }),
  fc.record({ kind: fc.constant('suspect' as const), id, incarnation: inc, accusers: fc.array(id, { maxLength: MEMBERSHIP_LIMITS.maxAccusers }) }),
  fc.record({ kind: fc.constant('dead' as const), id, incarnation: inc, from: id }),
  fc.record({ kind: fc.constant('left' as const), id, incarnation: inc })
)
const updates = fc.array(update, { maxLength: 6 })
const entry: fc.Arbitrary<MemberEntry> = fc.record({
  id, address, incarnation: inc, state: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const), meta
})

const messageArb: fc.Arbitrary<MembershipMessage> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), seq, targetId: id, sourceId: id, viewChecksum: checksum, updates }),
  fc.record({
    type: fc.constant('ping-req' as const), seq, targetId: id, targetAddress: address, sourceId: id, wantNack: fc.boolean(),
    nackTimeoutMs: fc.nat({ max: 100_000 }), updates
  }),
  fc.record({ type: fc.constant('ack' as const), seq, viewChecksum: checksum, updates }),
  fc.record({ type: fc.constant('nack' as const), seq, updates }),
  fc.record({ type: fc.constant('gossip' as const), sourceId: id, updates }),
  fc.record({ type: fc.constant('push-pull-request' as const), sourceId: id, join: fc.boolean(), members: fc.array(entry, { maxLength: 6 }) }),
  fc.record({ type: fc.constant('push-pull-reply' as const), members: fc.array(entry, { maxLength: 6 }) })
)

const aPing: MembershipMessage = {
  type: 'ping',
  seq: 7,
  targetId: 'p0002',
  sourceId: 'p0001',
  viewChecksum: 0xdeadbeef,
  updates: [
    { kind: 'alive', id: 'p0003', incarnation: 2, address: '10.0.0.3:7946', meta: { zone: 'eu-1' } },
    { kind: 'suspect', id: 'p0004', incarnation: 0, accusers: ['p0001', 'p0005'] }
  ]
}

// ---- tests -----------------------------------------------------------------------------------------

describe('membership wire messages', () => {
  it('round-trips arbitrary messages, and a frame that decodes has exactly one encoding', () => {
    fc.assert(fc.property(messageArb, (msg) => {
      const frame = encodeMembershipMessage(msg)
      const back = decodeMembershipMessage(frame)
      expect(back).toEqual(msg)
      expect(encodeMembershipMessage(back)).toEqual(frame)
    }), { seed: SEED, numRuns: 500 })
  })

  it('frames start with the wire version and a type of the membership family (0x10-0x2f)', () => {
    const frame = encodeMembershipMessage(aPing)
    expect(frame[0]).toBe(WIRE_VERSION)
    expect(frame[1]).toBe(MembershipType.ping)
    expect(isMembershipFrame(frame)).toBe(true)
    expect(isMembershipFrame(new Uint8Array([WIRE_VERSION, 0x30]))).toBe(false)
  })

  it('knows the exact size of a datagram before writing it (base + each piggybacked update)', () => {
    fc.assert(fc.property(messageArb, (msg) => {
      if (msg.type === 'push-pull-request' || msg.type === 'push-pull-reply') return
      const encoded = msg.updates.map(encodeUpdate)
      const out = { ...msg, updates: encoded } as OutgoingDatagram
      const expected = datagramBaseBytes(out) + encoded.reduce((n, u) => n + piggybackBytes(u), 0)
      expect(encodeDatagram(out).byteLength).toBe(expected)
    }), { seed: SEED, numRuns: 300 })
  })

  it('refuses to encode a datagram over the size limit, too many updates, or an oversized id', () => {
    const big = encodeUpdate({ kind: 'alive', id: 'x'.repeat(100), incarnation: 1, address: 'a'.repeat(200), meta: {} })
    const msg: OutgoingDatagram = { type: 'gossip', sourceId: 'me', updates: Array.from({ length: 6 }, () => big) }
    expect(() => encodeDatagram(msg, 1400)).toThrow(EncodeError)
    const many: OutgoingDatagram = { type: 'gossip', sourceId: 'me', updates: Array.from({ length: 128 }, () => encodeUpdate({ kind: 'left', id: 'a', incarnation: 0 })) }
    expect(() => encodeDatagram(many)).toThrow(EncodeError)
    expect(() => encodeUpdate({ kind: 'left', id: 'x'.repeat(MEMBERSHIP_LIMITS.maxIdBytes + 1), incarnation: 0 })).toThrow(EncodeError)
    expect(() => encodePushPull({ type: 'push-pull-reply', members: [{ id: 'a', address: 'b', incarnation: 0, state: 'alive', meta: { k: 'v'.repeat(300) } }] })).toThrow(EncodeError)
  })

  it('decodes random bytes and mutated frames with nothing but DecodeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => { tryDecode(bytes) }), { seed: SEED, numRuns: 2000 })
    fc.assert(fc.property(fc.integer({ min: 0x10, max: 0x17 }), fc.uint8Array({ maxLength: 200 }), (type, body) => {
      tryDecode(Uint8Array.of(WIRE_VERSION, type, ...body))
    }), { seed: SEED, numRuns: 2000 })
    fc.assert(fc.property(messageArb, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (msg, flips, cut) => {
      const frame = encodeMembershipMessage(msg).slice()
      for (const [at, v] of flips) frame[at % frame.length] = v
      tryDecode(frame)
      tryDecode(frame.subarray(0, cut % (frame.length + 1)))
    }), { seed: SEED, numRuns: 2000 })
  })

  it('refuses hostile frames with a precise reason', () => {
    const reason = (bytes: Uint8Array): string => { const r = tryDecode(bytes); return r instanceof DecodeError ? r.reason : 'decoded' }
    expect(reason(Uint8Array.of(WIRE_VERSION + 1, MembershipType.ping))).toBe('unknown-version')
    expect(reason(Uint8Array.of(WIRE_VERSION, 0x2f))).toBe('unknown-type')
    expect(reason(encodeMembershipMessage(aPing).subarray(0, 12))).toBe('truncated')
    expect(reason(Uint8Array.of(...encodeMembershipMessage(aPing), 0))).toBe('trailing-bytes')
    // an ack claiming 200 piggybacked updates
    expect(reason(Uint8Array.of(WIRE_VERSION, MembershipType.ack, 1, 0, 0, 0, 0, 200))).toBe('list-too-long')
    // a push-pull reply claiming a million members in ten bytes
    expect(reason(Uint8Array.of(WIRE_VERSION, MembershipType.pushPullReply, 0xc0, 0x84, 0x3d, 1, 2, 3, 4))).toBe('list-too-long')
    // a member id over the limit
    const longId = new Uint8Array(MEMBERSHIP_LIMITS.maxIdBytes + 1).fill(0x61)
    expect(reason(Uint8Array.of(WIRE_VERSION, MembershipType.gossip, longId.length & 0x7f | 0x80, longId.length >> 7, ...longId, 0))).toBe('invalid-field')
    // an update whose length prefix disagrees with its content
    const upd = encodeUpdate({ kind: 'left', id: 'a', incarnation: 0 })
    expect(reason(Uint8Array.of(WIRE_VERSION, MembershipType.nack, 1, 1, upd.length + 1, ...upd, 0))).toBe('invalid-field')
    // metadata keys out of order (not canonical)
    const entryBytes = [1, 0x61, 1, 0x62, 0, 0, 2, 1, 0x7a, 0, 1, 0x61, 0]
    expect(reason(Uint8Array.of(WIRE_VERSION, MembershipType.pushPullReply, 1, ...entryBytes))).toBe('invalid-field')
  })

  it('measures UTF-8 length without encoding', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (s) => {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).byteLength)
    }), { seed: SEED, numRuns: 500 })
  })

  it('names what is wrong with metadata', () => {
    expect(metadataProblem({ zone: 'eu' })).toBeUndefined()
    expect(metadataProblem({ n: 1 })).toMatch(/must be a string/)
    expect(metadataProblem(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])))).toMatch(/17 entries/)
    expect(metadataProblem({ k: 'v'.repeat(200), j: 'w'.repeat(200) }, 256)).toMatch(/over the limit of 256/)
    expect(metadataProblem([])).toMatch(/plain object/)
  })

  it('sharedUpdate gives the same bytes as encodeUpdate and an equal update, shared between equal updates and never between different ones', () => {
    fc.assert(fc.property(fc.array(update, { minLength: 1, maxLength: 40 }), (list) => {
      for (const u of list) {
        const shared = sharedUpdate(u)
        expect(shared.bytes).toEqual(encodeUpdate(u))
        expect(shared.update).toEqual(u.kind === 'alive' && Object.keys(u.meta).length === 0 ? { ...u, meta: {} } : u)
      }
    }), { seed: SEED, numRuns: 200 })
    const a = sharedUpdate({ kind: 'alive', id: 'p0001', incarnation: 3, address: 'p0001', meta: {} })
    expect(sharedUpdate({ kind: 'alive', id: 'p0001', incarnation: 3, address: 'p0001', meta: {} })).toBe(a)
    expect(sharedUpdate({ kind: 'alive', id: 'p0001', incarnation: 4, address: 'p0001', meta: {} }).bytes).not.toEqual(a.bytes)
    expect(sharedUpdate({ kind: 'alive', id: 'p0001', incarnation: 3, address: 'p0001b', meta: {} }).bytes).not.toEqual(a.bytes)
    expect(sharedUpdate({ kind: 'alive', id: 'p0001', incarnation: 3, address: 'p0001', meta: { zone: 'a' } }).bytes).toEqual(
      encodeUpdate({ kind: 'alive', id: 'p0001', incarnation: 3, address: 'p0001', meta: { zone: 'a' } }))
    const d = sharedUpdate({ kind: 'dead', id: 'p0001', incarnation: 3, from: 'p0002' })
    expect(sharedUpdate({ kind: 'dead', id: 'p0001', incarnation: 3, from: 'p0003' })).not.toBe(d)
  })
})

