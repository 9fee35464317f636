import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError, DEFAULT_WIRE_LIMITS, EncodeError, WIRE_VERSION, Writer } from '../../src/wire/codec.js'
import type { DecodeErrorReason, WireLimits } from '../../src/wire/codec.js'
import { MESSAGE_LIMITS } from '../../src/wire/messages.js'
import {
  decodeBatch, decodeReplyItem, decodeRequestItem, encodeBatch, encodeBatchError, encodeReplyItem, encodeRequestItem,
  isReplicationFrame, REPLICATION_LIMITS, ReplicationFrame
} from '../../src/wire/replication.js'
import type {
  ClientResult, RangeCursor, ReplyItem, RequestItem, WireArc, WireCatalogEntry, WireNamespace
} from '../../src/wire/replication.js'
import type { Version } from '../../src/storage/hlc.js'
import type { StoreEntry } from '../../src/storage/store.js'

const SEED = 0x7e91ca
const limits = (partial: Partial<WireLimits>): WireLimits => ({ ...DEFAULT_WIRE_LIMITS, ...partial })
const HUGE = limits({ maxKeyBytes: 2 ** 50, maxValueBytes: 2 ** 50 })

/** Runs a decoder, requiring that the only possible failure is a DecodeError. */
function tryDecode<T> (decode: () => T): T | DecodeError {
  try {
    return decode()
  } catch (err) {
    if (err instanceof DecodeError) return err
    throw new Error(`a decoder threw something other than DecodeError: ${String(err)}`)
  }
}

function reasonOf (decode: () => unknown): DecodeErrorReason | 'no error' {
  const result = tryDecode(decode)
  return result instanceof DecodeError ? result.reason : 'no error'
}

/** Item bytes from hand-written fields. */
const bytesOf = (write: (w: Writer) => void): Uint8Array => { const w = new Writer(HUGE); write(w); return w.finish() }

// ---- arbitraries -----------------------------------------------------------------------------------

const text = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength })
const ns = text(60)
const key = text(60)
const value = fc.uint8Array({ maxLength: 32 })
const u32 = fc.nat({ max: 0xffffffff })
const point = fc.nat({ max: 2 ** 52 - 1 })
/** Member ids up to the 128-byte limit: ASCII up to 128 characters, or up to 32 code points of any width. */
const peerId = (minLength: number): fc.Arbitrary<string> => fc.oneof(
  fc.string({ unit: 'binary-ascii', minLength, maxLength: REPLICATION_LIMITS.maxIdBytes }),
  fc.string({ unit: 'binary', minLength, maxLength: 32 })
)
const version: fc.Arbitrary<Version> = fc.record({ physical: fc.maxSafeNat(), logical: fc.nat({ max: 0xffff }), writerId: peerId(1) })
const entry: fc.Arbitrary<StoreEntry> = fc.record(
  { key, value: fc.option(value, { nil: null }), version, expiresAt: fc.maxSafeNat() },
  { requiredKeys: ['key', 'value', 'version'] }
)
const entries = fc.array(entry, { maxLength: 4 })
/** Arcs never wrap: `start < end`, and a start of -1 holds point 0. */
const arc: fc.Arbitrary<WireArc> = fc.oneof(
  fc.record({ start: fc.constant(-1), end: point }),
  fc.tuple(fc.integer({ min: -1, max: 2 ** 52 - 1 }), fc.integer({ min: -1, max: 2 ** 52 - 1 }))
    .filter(([a, b]) => a !== b)
    .map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) }))
)
const cursor: fc.Arbitrary<RangeCursor> = fc.record({ point, key })
const namespace: fc.Arbitrary<WireNamespace> = fc.record({
  name: ns,
  replication: fc.constantFrom('async' as const, 'sync' as const, 'strong' as const),
  replicas: fc.nat({ max: 16 }),
  writeQuorum: fc.nat({ max: 16 }),
  readQuorum: fc.nat({ max: 16 }),
  ttlMs: fc.maxSafeNat(),
  maxBytes: fc.maxSafeNat(),
  eviction: fc.constantFrom('w-tinylfu' as const, 'lru' as const),
  readMode: fc.constantFrom('local' as const, 'primary' as const, 'quorum' as const)
})
const catalogEntry: fc.Arbitrary<WireCatalogEntry> = fc.record({
  definition: namespace, declaredAt: fc.record({ physical: fc.maxSafeNat(), logical: fc.nat({ max: 0xffff }) }), origin: peerId(0)
})
const readMode = fc.constantFrom('local' as const, 'primary' as const, 'quorum' as const)

const requestItem: fc.Arbitrary<RequestItem> = fc.oneof(
  fc.record({ type: fc.constant('read' as const), ns, key, noProxy: fc.boolean() }),
  fc.record({
    type: fc.constant('write' as const), ns, entry,
    purpose: fc.constantFrom('replicate' as const, 'hint' as const, 'handoff' as const, 'repair' as const, 'coordinate' as const)
  }),
  fc.record({
    type: fc.constant('client' as const),
    op: fc.constantFrom('get' as const, 'has' as const, 'set' as const, 'delete' as const, 'incr' as const),
    ns, key, readMode, value, ttlMs: fc.maxSafeNat(), delta: fc.maxSafeInteger()
  }, { requiredKeys: ['type', 'op', 'ns', 'key', 'readMode', 'ttlMs', 'delta'] }),
  fc.record({ type: fc.constant('fetch' as const), ns, key, waitMs: fc.maxSafeNat(), staleBefore: fc.oneof(fc.constant(0), fc.maxSafeNat()) }),
  fc.record({
    type: fc.constant('fill' as const), ns, key, leaseId: fc.maxSafeNat(), outcome: fc.constant('value' as const), value,
    ttlMs: fc.maxSafeNat(), notFoundTtlMs: fc.maxSafeNat()
  }),
  fc.record({
    type: fc.constant('fill' as const), ns, key, leaseId: fc.maxSafeNat(), outcome: fc.constantFrom('not-found' as const, 'failed' as const),
    ttlMs: fc.maxSafeNat(), notFoundTtlMs: fc.maxSafeNat()
  }),
  fc.record({
    type: fc.constant('scan' as const), ns, prefix: key,
    pattern: fc.record({ source: text(200), flags: fc.string({ unit: 'binary', maxLength: 4 }) }),
    limit: fc.maxSafeNat()
  }, { requiredKeys: ['type', 'ns', 'limit'] }),
  fc.record({ type: fc.constant('catalog' as const), entries: fc.array(catalogEntry, { maxLength: 3 }) }),
  fc.record({
    type: fc.constant('range-pull' as const), ns, arcs: fc.array(arc, { maxLength: 5 }), after: cursor, maxEntries: fc.maxSafeNat()
  }, { requiredKeys: ['type', 'ns', 'arcs', 'maxEntries'] }),
  fc.record({
    type: fc.constant('ae-roots' as const), ns, ring: fc.string({ unit: 'binary-ascii', maxLength: 64 }),
    roots: fc.array(fc.record({ end: point, hi: u32, lo: u32 }), { maxLength: 5 })
  }),
  fc.record({
    type: fc.constant('ae-sync' as const), ns, ring: fc.string({ unit: 'binary-ascii', maxLength: 64 }),
    buckets: fc.array(fc.record({ end: point, leaf: fc.nat({ max: 1023 }) }), { maxLength: 5 }),
    digests: fc.array(fc.record({ key, version, tombstone: fc.boolean() }), { maxLength: 4 })
  })
)

const OWNERLESS_STATUSES = ['ok', 'stale', 'not-found', 'unknown-namespace', 'ring-mismatch', 'overloaded', 'stopped', 'replaced'] as const
const clientResult: fc.Arbitrary<ClientResult> = fc.record(
  { value, version, number: fc.maxSafeInteger(), flag: fc.boolean() },
  { requiredKeys: [] }
)
const lanes = fc.integer({ min: 1, max: 8 }).chain((leaves) => fc.uint32Array({ minLength: leaves * 2, maxLength: leaves * 2 }))

const replyItem: fc.Arbitrary<ReplyItem> = fc.oneof(
  fc.record({ type: fc.constant('status' as const), status: fc.constantFrom(...OWNERLESS_STATUSES) }),
  fc.record({ type: fc.constant('status' as const), status: fc.constant('not-owner' as const), owners: fc.array(peerId(0), { maxLength: 4 }) }),
  fc.record({ type: fc.constant('error' as const), code: fc.string({ unit: 'binary-ascii', maxLength: 64 }), message: text(200) }),
  fc.record({ type: fc.constant('entry' as const), entry }),
  fc.record({ type: fc.constant('client-result' as const), result: clientResult }),
  fc.record({ type: fc.constant('fetch-result' as const), outcome: fc.constant('value' as const), entry }),
  fc.record({ type: fc.constant('fetch-result' as const), outcome: fc.constant('granted' as const), leaseId: fc.maxSafeNat() }),
  fc.record({ type: fc.constant('fetch-result' as const), outcome: fc.constantFrom('not-found' as const, 'wait-timeout' as const, 'refused' as const) }),
  fc.record({ type: fc.constant('scan-result' as const), primaryMatches: fc.maxSafeNat(), items: entries }),
  fc.record({ type: fc.constant('catalog' as const), entries: fc.array(catalogEntry, { maxLength: 3 }) }),
  fc.record({ type: fc.constant('range-chunk' as const), entries, next: cursor }, { requiredKeys: ['type', 'entries'] }),
  fc.record({ type: fc.constant('ae-leaves' as const), arcs: fc.array(fc.record({ end: point, lanes }), { maxLength: 3 }) }),
  fc.record({ type: fc.constant('ae-sync-reply' as const), entries, wants: fc.array(key, { maxLength: 4 }) })
)

/** An item of either direction with its encoder and decoder, for the tests that treat both alike. */
type AnyItem = { dir: 'request', item: RequestItem } | { dir: 'reply', item: ReplyItem }
const anyItem: fc.Arbitrary<AnyItem> = fc.oneof(
  requestItem.map((item) => ({ dir: 'request' as const, item })),
  replyItem.map((item) => ({ dir: 'reply' as const, item }))
)
const encodeAny = (a: AnyItem, l?: WireLimits): Uint8Array => a.dir === 'request' ? encodeRequestItem(a.item, l) : encodeReplyItem(a.item, l)
const decoderOf = (dir: AnyItem['dir']) => (bytes: Uint8Array, l?: WireLimits): RequestItem | ReplyItem =>
  dir === 'request' ? decodeRequestItem(bytes, l) : decodeReplyItem(bytes, l)
const reencode = (dir: AnyItem['dir'], item: RequestItem | ReplyItem): Uint8Array =>
  dir === 'request' ? encodeRequestItem(item as RequestItem) : encodeReplyItem(item as ReplyItem)

const REQUEST_CODES = Array.from({ length: 10 }, (_, i) => 0x01 + i)
const REPLY_CODES = Array.from({ length: 10 }, (_, i) => 0x41 + i)

const aVersion: Version = { physical: 1_700_000_000_000, logical: 3, writerId: 'p0001' }
const anEntry: StoreEntry = { key: 'user:42', value: new Uint8Array([1, 2, 3]), version: aVersion, expiresAt: 1_700_000_060_000 }
const aWrite: RequestItem = { type: 'write', ns: 'users', entry: anEntry, purpose: 'replicate' }

// ---- round trips -----------------------------------------------------------------------------------

describe('request and reply items', () => {
  it('round-trip item -> bytes -> item, and bytes -> item -> bytes gives the same bytes (one encoding per item)', () => {
    fc.assert(fc.property(requestItem, (item) => {
      const bytes = encodeRequestItem(item)
      const back = decodeRequestItem(bytes)
      expect(back).toEqual(item)
      expect(encodeRequestItem(back)).toEqual(bytes)
    }), { seed: SEED, numRuns: 2000 })
    fc.assert(fc.property(replyItem, (item) => {
      const bytes = encodeReplyItem(item)
      const back = decodeReplyItem(bytes)
      expect(back).toEqual(item)
      expect(encodeReplyItem(back)).toEqual(bytes)
    }), { seed: SEED, numRuns: 2000 })
  })

  it('covers every item type with the arbitraries', () => {
    const seen = new Set<number>()
    fc.assert(fc.property(anyItem, (a) => { seen.add(encodeAny(a)[0]) }), { seed: SEED, numRuns: 2000 })
    expect([...seen].sort((x, y) => x - y)).toEqual([...REQUEST_CODES, ...REPLY_CODES])
  })

  it.each<[string, RequestItem, number[]]>([
    ['a read', { type: 'read', ns: 'n', key: 'k', noProxy: true }, [0x01, 1, 0x6e, 1, 0x6b, 1]],
    ['a tombstone write without expiry', { type: 'write', ns: '', purpose: 'hint', entry: { key: 'k', value: null, version: { physical: 5, logical: 0, writerId: 'p' } } },
      [0x02, 0, 1, 1, 0x6b, 0x01, 5, 0, 1, 0x70]],
    ['a write that expires', { type: 'write', ns: '', purpose: 'replicate', entry: { key: 'k', value: new Uint8Array([9]), version: { physical: 5, logical: 300, writerId: 'p' }, expiresAt: 128 } },
      [0x02, 0, 0, 1, 0x6b, 0x02, 1, 9, 5, 0xac, 0x02, 1, 0x70, 0x80, 0x01]],
    ['a client incr with a negative delta', { type: 'client', op: 'incr', ns: '', key: 'k', readMode: 'quorum', ttlMs: 0, delta: -3 },
      [0x03, 4, 0, 1, 0x6b, 2, 0, 0, 1, 3]],
    ['a range pull from point 0', { type: 'range-pull', ns: '', arcs: [{ start: -1, end: 10 }, { start: 10, end: 20 }], maxEntries: 7 },
      [0x08, 0, 2, 0, 10, 11, 20, 0, 7]],
    ['a range pull with a cursor', { type: 'range-pull', ns: '', arcs: [], after: { point: 3, key: 'k' }, maxEntries: 1 },
      [0x08, 0, 0, 1, 3, 1, 0x6b, 1]],
    ['ae roots', { type: 'ae-roots', ns: '', ring: 'r', roots: [{ end: 1, hi: 0xdeadbeef, lo: 1 }] },
      [0x09, 0, 1, 0x72, 1, 1, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1]]
  ])('writes %s in the documented layout', (_name, item, bytes) => {
    expect([...encodeRequestItem(item)]).toEqual(bytes)
    expect(decodeRequestItem(new Uint8Array(bytes))).toEqual(item)
  })

  it.each<[string, ReplyItem, number[]]>([
    ['a status', { type: 'status', status: 'replaced' }, [0x41, 8]],
    ['a not-owner status with owners', { type: 'status', status: 'not-owner', owners: ['a', 'b'] }, [0x41, 3, 2, 1, 0x61, 1, 0x62]],
    ['a client result with a false flag and a number', { type: 'client-result', result: { number: -1, flag: false } }, [0x44, 4 | 8, 1, 1]],
    ['a client result with a true flag', { type: 'client-result', result: { flag: true } }, [0x44, 8 | 16]],
    ['a granted fetch', { type: 'fetch-result', outcome: 'granted', leaseId: 9 }, [0x45, 1, 9]],
    ['ae leaves', { type: 'ae-leaves', arcs: [{ end: 2, lanes: Uint32Array.of(1, 2) }] }, [0x49, 1, 2, 1, 0, 0, 0, 1, 0, 0, 0, 2]]
  ])('writes %s in the documented layout', (_name, item, bytes) => {
    expect([...encodeReplyItem(item)]).toEqual(bytes)
    expect(decodeReplyItem(new Uint8Array(bytes))).toEqual(item)
  })

  it('writes a fractional expiry rounded up, and an infinite one as no expiry', () => {
    const at = (expiresAt: number): StoreEntry | undefined => (decodeReplyItem(encodeReplyItem({ type: 'entry', entry: { ...anEntry, expiresAt } })) as { entry: StoreEntry }).entry
    expect(at(10.2)?.expiresAt).toBe(11)
    expect(at(Infinity)).not.toHaveProperty('expiresAt')
  })

  it('round-trips the largest ae-leaves arc (maxLeaves leaves)', () => {
    const item: ReplyItem = { type: 'ae-leaves', arcs: [{ end: 5, lanes: new Uint32Array(REPLICATION_LIMITS.maxLeaves * 2).map((_, i) => i * 2654435761) }] }
    expect(decodeReplyItem(encodeReplyItem(item))).toEqual(item)
  })

  it('copies values out of the bytes, so reusing the buffer leaves decoded values alone', () => {
    const check = <T>(bytes: Uint8Array, decode: (b: Uint8Array) => T, pick: (x: T) => Array<Uint8Array | Uint32Array | undefined | null>): void => {
      const decoded = decode(bytes)
      const before = pick(decoded).map((v) => v === undefined || v === null ? v : [...v])
      bytes.fill(0xaa)
      expect(pick(decoded).map((v) => v === undefined || v === null ? v : [...v])).toEqual(before)
      expect(before.every((v) => v !== undefined && v !== null && v.length > 0)).toBe(true)
    }
    const v = new Uint8Array([1, 2, 3])
    check(encodeRequestItem(aWrite), decodeRequestItem, (i) => [(i as { entry: StoreEntry }).entry.value])
    check(encodeRequestItem({ type: 'client', op: 'set', ns: 'n', key: 'k', readMode: 'local', value: v, ttlMs: 0, delta: 0 }), decodeRequestItem,
      (i) => [(i as { value?: Uint8Array }).value])
    check(encodeRequestItem({ type: 'fill', ns: 'n', key: 'k', leaseId: 1, outcome: 'value', value: v, ttlMs: 0, notFoundTtlMs: 0 }), decodeRequestItem,
      (i) => [(i as { value?: Uint8Array }).value])
    check(encodeReplyItem({ type: 'client-result', result: { value: v } }), decodeReplyItem, (i) => [(i as { result: ClientResult }).result.value])
    check(encodeReplyItem({ type: 'fetch-result', outcome: 'value', entry: anEntry }), decodeReplyItem, (i) => [(i as { entry: StoreEntry }).entry.value])
    check(encodeReplyItem({ type: 'range-chunk', entries: [anEntry, anEntry] }), decodeReplyItem, (i) => (i as { entries: StoreEntry[] }).entries.map((e) => e.value))
    check(encodeReplyItem({ type: 'ae-leaves', arcs: [{ end: 1, lanes: Uint32Array.of(7, 8) }] }), decodeReplyItem,
      (i) => (i as { arcs: Array<{ lanes: Uint32Array }> }).arcs.map((a) => a.lanes))
  })
})

describe('batches', () => {
  it('round-trip many items of either direction, and a batch frame has exactly one encoding', () => {
    fc.assert(fc.property(fc.array(requestItem, { maxLength: 40 }), fc.array(replyItem, { maxLength: 40 }), (requests, replies) => {
      for (const [frame, items, decode] of [
        ['batch', requests.map((i) => encodeRequestItem(i)), decodeRequestItem],
        ['batch-reply', replies.map((i) => encodeReplyItem(i)), decodeReplyItem]
      ] as const) {
        const bytes = encodeBatch(frame, items)
        expect(isReplicationFrame(bytes)).toBe(true)
        const back = decodeBatch(bytes)
        expect(back).toEqual({ frame, items })
        if (back.frame === 'batch-error') throw new Error('unreachable')
        expect(back.items.map((b) => decode(b))).toEqual(frame === 'batch' ? requests : replies)
        expect(encodeBatch(back.frame, back.items)).toEqual(bytes)
      }
    }), { seed: SEED, numRuns: 300 })
  })

  it('writes a batch as [version][type][count][length, item]...', () => {
    const items = [Uint8Array.of(0x41, 0), Uint8Array.of(0x42, 0, 0)]
    expect([...encodeBatch('batch-reply', items)]).toEqual([WIRE_VERSION, 0x31, 2, 2, 0x41, 0, 3, 0x42, 0, 0])
    expect([...encodeBatch('batch', [])]).toEqual([WIRE_VERSION, 0x30, 0])
    expect(ReplicationFrame).toEqual({ batch: 0x30, batchReply: 0x31, batchError: 0x32 })
  })

  it('round-trips a batch error', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary-ascii', maxLength: 64 }), text(300), (code, message) => {
      const bytes = encodeBatchError(code, message)
      expect(isReplicationFrame(bytes)).toBe(true)
      expect(decodeBatch(bytes)).toEqual({ frame: 'batch-error', code, message })
    }), { seed: SEED, numRuns: 300 })
  })

  it('cuts a long batch-error message to the limit at a code point, and never refuses it for its text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', minLength: 200, maxLength: 2000 }), (message) => {
      const back = decodeBatch(encodeBatchError('ERR_X', message))
      if (back.frame !== 'batch-error') throw new Error('not a batch error')
      expect(message.startsWith(back.message)).toBe(true)
      expect(new TextEncoder().encode(back.message).byteLength).toBeLessThanOrEqual(MESSAGE_LIMITS.maxErrorMessageBytes)
      expect(back.message.isWellFormed()).toBe(true)
    }), { seed: SEED, numRuns: 200 })
    // 1023 ASCII bytes then a 4-byte emoji: the emoji does not fit and is dropped whole
    const emoji = decodeBatch(encodeBatchError('E', 'a'.repeat(1023) + '😀'))
    expect(emoji).toEqual({ frame: 'batch-error', code: 'E', message: 'a'.repeat(1023) })
    // 600 three-byte characters (1800 bytes) are cut to 341 (1023 bytes)
    expect(decodeBatch(encodeBatchError('E', '界'.repeat(600)))).toEqual({ frame: 'batch-error', code: 'E', message: '界'.repeat(341) })
    expect(decodeBatch(encodeBatchError('E', 'bad \ud800 text'))).toEqual({ frame: 'batch-error', code: 'E', message: 'bad \ufffd text' })
    expect(() => encodeBatchError('E'.repeat(MESSAGE_LIMITS.maxErrorCodeBytes + 1), 'm')).toThrow(EncodeError)
  })

  it('hands out items as views into the frame, and items decoded from them own their values', () => {
    const bytes = encodeBatch('batch', [encodeRequestItem(aWrite)])
    const back = decodeBatch(bytes)
    if (back.frame !== 'batch') throw new Error('not a batch')
    const item = decodeRequestItem(back.items[0]) as { entry: StoreEntry }
    bytes.fill(0)
    expect(back.items[0].every((b) => b === 0)).toBe(true)
    expect([...item.entry.value!]).toEqual([1, 2, 3])
  })

  it('knows its frames by their type byte', () => {
    expect(isReplicationFrame(Uint8Array.of(WIRE_VERSION, 0x30))).toBe(true)
    expect(isReplicationFrame(Uint8Array.of(WIRE_VERSION, 0x32))).toBe(true)
    expect(isReplicationFrame(Uint8Array.of(WIRE_VERSION, 0x33))).toBe(false)
    expect(isReplicationFrame(Uint8Array.of(WIRE_VERSION, 0x2f))).toBe(false)
    expect(isReplicationFrame(Uint8Array.of(WIRE_VERSION))).toBe(false)
  })
})

// ---- hostile input ---------------------------------------------------------------------------------

describe('decoding hostile input', () => {
  it('throws nothing but DecodeError on random bytes, and whatever decodes has exactly those bytes', () => {
    const bodies = fc.uint8Array({ maxLength: 64 })
    const cases = fc.oneof(
      fc.tuple(fc.constantFrom('request' as const, 'reply' as const), bodies),
      // a valid item type byte with a random body reaches deeper into the decoders
      fc.tuple(fc.constant('request' as const), fc.constantFrom(...REQUEST_CODES), bodies).map(([d, c, b]) => [d, Uint8Array.of(c, ...b)] as const),
      fc.tuple(fc.constant('reply' as const), fc.constantFrom(...REPLY_CODES), bodies).map(([d, c, b]) => [d, Uint8Array.of(c, ...b)] as const)
    )
    fc.assert(fc.property(cases, ([dir, bytes]) => {
      const result = tryDecode(() => decoderOf(dir)(bytes))
      if (!(result instanceof DecodeError)) expect(reencode(dir, result)).toEqual(bytes)
    }), { seed: SEED, numRuns: 5000 })
    const frames = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(fc.constantFrom(0x30, 0x31, 0x32), bodies).map(([t, b]) => Uint8Array.of(WIRE_VERSION, t, ...b))
    )
    fc.assert(fc.property(frames, (bytes) => {
      const result = tryDecode(() => decodeBatch(bytes))
      if (result instanceof DecodeError) return
      const again = result.frame === 'batch-error' ? encodeBatchError(result.code, result.message) : encodeBatch(result.frame, result.items)
      expect(again).toEqual(bytes)
    }), { seed: SEED, numRuns: 3000 })
  })

  it('refuses every truncation of an item or batch as truncated, and an extra byte as trailing', () => {
    fc.assert(fc.property(anyItem, fc.nat({ max: 255 }), (a, extra) => {
      const bytes = encodeAny(a)
      const decode = decoderOf(a.dir)
      for (let n = 0; n < bytes.byteLength; n++) expect(reasonOf(() => decode(bytes.subarray(0, n)))).toBe('truncated')
      expect(reasonOf(() => decode(Uint8Array.of(...bytes, extra)))).toBe('trailing-bytes')
      const frame = encodeBatch(a.dir === 'request' ? 'batch' : 'batch-reply', [bytes, bytes])
      for (let n = 0; n < frame.byteLength; n++) expect(reasonOf(() => decodeBatch(frame.subarray(0, n)))).toBe('truncated')
      expect(reasonOf(() => decodeBatch(Uint8Array.of(...frame, extra)))).toBe('trailing-bytes')
    }), { seed: SEED, numRuns: 300 })
  })

  it('throws nothing but DecodeError on bit-flipped items and batches', () => {
    fc.assert(fc.property(anyItem, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (a, flips) => {
      const bytes = encodeAny(a)
      const frame = encodeBatch('batch', [bytes])
      for (const f of flips) {
        bytes[(f >>> 3) % bytes.byteLength] ^= 1 << (f & 7)
        frame[(f >>> 3) % frame.byteLength] ^= 1 << (f & 7)
      }
      const result = tryDecode(() => decoderOf(a.dir)(bytes))
      if (!(result instanceof DecodeError)) expect(reencode(a.dir, result)).toEqual(bytes)
      const batch = tryDecode(() => decodeBatch(frame))
      if (!(batch instanceof DecodeError) && batch.frame !== 'batch-error') for (const it of batch.items) tryDecode(() => decodeRequestItem(it))
    }), { seed: SEED, numRuns: 3000 })
  })

  it('throws nothing but DecodeError when a length or count anywhere is inflated to 2^40, even under huge limits', () => {
    const inflated = new Writer().varint(2 ** 40).finish()
    const forge = (bytes: Uint8Array, at: number, replace: boolean, from: number): Uint8Array => {
      const i = from + (at % Math.max(1, bytes.byteLength - from))
      return Uint8Array.of(...bytes.subarray(0, i), ...inflated, ...bytes.subarray(replace ? i + 1 : i))
    }
    fc.assert(fc.property(anyItem, fc.nat(), fc.boolean(), (a, at, replace) => {
      const bytes = encodeAny(a)
      const forged = forge(bytes, at, replace, 1)
      const decode = decoderOf(a.dir)
      tryDecode(() => decode(forged))
      tryDecode(() => decode(forged, HUGE))
      const frame = forge(encodeBatch('batch', [bytes]), at, replace, 2)
      tryDecode(() => decodeBatch(frame))
      tryDecode(() => decodeBatch(frame, HUGE))
    }), { seed: SEED, numRuns: 3000 })
  })

  /** A write item, field by field, with one length or count forged to 2^40. */
  function forgedWrite (field: 'ns' | 'key' | 'value' | 'writer'): Uint8Array {
    const len = (f: typeof field, n: number): (w: Writer) => void => (w) => { w.varint(f === field ? 2 ** 40 : n) }
    return bytesOf((w) => {
      w.u8(0x02); len('ns', 1)(w); w.u8(0x6e).u8(0)
      len('key', 1)(w); w.u8(0x6b).u8(0)
      len('value', 2)(w); w.u8(1).u8(2)
      w.varint(5).varint(0); len('writer', 1)(w); w.u8(0x70)
    })
  }

  it.each<['ns' | 'key' | 'value' | 'writer', DecodeErrorReason, DecodeErrorReason]>([
    ['ns', 'invalid-field', 'invalid-field'], ['key', 'key-too-large', 'truncated'], ['value', 'value-too-large', 'truncated'], ['writer', 'invalid-field', 'invalid-field']
  ])('refuses a forged 2^40 %s length by its limit, or past the frame before allocating', (field, byLimit, byFrame) => {
    expect(reasonOf(() => decodeRequestItem(forgedWrite(field)))).toBe(byLimit)
    expect(reasonOf(() => decodeRequestItem(forgedWrite(field), HUGE))).toBe(byFrame)
  })

  it.each<[string, () => unknown, DecodeErrorReason]>([
    ['a batch claiming 2^40 items', () => decodeBatch(bytesOf((w) => w.u8(WIRE_VERSION).u8(0x30).varint(2 ** 40))), 'list-too-long'],
    ['a batch claiming 1000 items in 10 bytes', () => decodeBatch(bytesOf((w) => w.u8(WIRE_VERSION).u8(0x30).varint(1000).u8(1).u8(1).u8(1))), 'truncated'],
    ['a batch item of 2^40 bytes', () => decodeBatch(bytesOf((w) => w.u8(WIRE_VERSION).u8(0x30).varint(1).varint(2 ** 40).u8(1))), 'frame-too-large'],
    ['an entry list of 2^40', () => decodeReplyItem(bytesOf((w) => w.u8(0x46).varint(0).varint(2 ** 40))), 'list-too-long'],
    ['an entry list of 60000 in 4 bytes', () => decodeReplyItem(bytesOf((w) => w.u8(0x46).varint(0).varint(60000).u8(0))), 'truncated'],
    ['2^40 ae leaves', () => decodeReplyItem(bytesOf((w) => w.u8(0x49).varint(1).varint(0).varint(2 ** 40))), 'invalid-field'],
    ['1024 ae leaves in 8 bytes', () => decodeReplyItem(bytesOf((w) => w.u8(0x49).varint(1).varint(0).varint(1024).u32(0).u32(0))), 'truncated']
  ])('refuses %s', (_name, decode, reason) => {
    expect(reasonOf(decode)).toBe(reason)
  })

  const rangePull = (start1: number, end: number): Uint8Array => bytesOf((w) => w.u8(0x08).varint(0).varint(1).varint(start1).varint(end).u8(0).varint(0))
  it.each<[string, () => unknown, DecodeErrorReason]>([
    ['an arc with start = end', () => decodeRequestItem(rangePull(5 + 1, 5)), 'invalid-field'],
    ['an arc with start > end', () => decodeRequestItem(rangePull(9 + 1, 5)), 'invalid-field'],
    ['an arc (0, 0]', () => decodeRequestItem(rangePull(0 + 1, 0)), 'invalid-field'],
    ['an unknown request item type', () => decodeRequestItem(Uint8Array.of(0x0b)), 'unknown-type'],
    ['a reply item type as a request', () => decodeRequestItem(Uint8Array.of(0x41, 0)), 'unknown-type'],
    ['an unknown reply item type', () => decodeReplyItem(Uint8Array.of(0x4b)), 'unknown-type'],
    ['an empty item', () => decodeReplyItem(new Uint8Array(0)), 'truncated'],
    ['an unknown write purpose', () => decodeRequestItem(Uint8Array.of(0x02, 0, 5)), 'invalid-field'],
    ['an unknown client op', () => decodeRequestItem(Uint8Array.of(0x03, 5)), 'invalid-field'],
    ['an unknown status', () => decodeReplyItem(Uint8Array.of(0x41, 9)), 'invalid-field'],
    ['an unknown fetch outcome', () => decodeReplyItem(Uint8Array.of(0x45, 5)), 'invalid-field'],
    ['a non-boolean noProxy', () => decodeRequestItem(Uint8Array.of(0x01, 0, 0, 2)), 'invalid-field'],
    ['unknown entry flags', () => decodeReplyItem(Uint8Array.of(0x43, 1, 0x6b, 4)), 'invalid-field'],
    ['unknown client flags', () => decodeRequestItem(Uint8Array.of(0x03, 0, 0, 0, 0, 2)), 'invalid-field'],
    ['unknown scan flags', () => decodeRequestItem(Uint8Array.of(0x06, 0, 4)), 'invalid-field'],
    ['a client-result flag value without its flag', () => decodeReplyItem(Uint8Array.of(0x44, 16)), 'invalid-field'],
    ['client-result flags over 31', () => decodeReplyItem(Uint8Array.of(0x44, 32)), 'invalid-field'],
    ['a sign byte of 2', () => decodeReplyItem(Uint8Array.of(0x44, 4, 2, 1)), 'invalid-field'],
    ['a negative zero', () => decodeReplyItem(Uint8Array.of(0x44, 4, 1, 0)), 'invalid-field'],
    ['a version logical of 65536', () => decodeReplyItem(bytesOf((w) => w.u8(0x43).varint(1).u8(0x6b).u8(1).varint(5).varint(65536).varint(1).u8(0x70))), 'invalid-field'],
    ['an empty writer id', () => decodeReplyItem(Uint8Array.of(0x43, 1, 0x6b, 1, 5, 0, 0)), 'invalid-field'],
    ['a writer id over 128 bytes', () => decodeReplyItem(bytesOf((w) => w.u8(0x43).varint(1).u8(0x6b).u8(1).varint(5).varint(0).string('w'.repeat(129), 200))), 'invalid-field'],
    ['zero ae leaves', () => decodeReplyItem(Uint8Array.of(0x49, 1, 0, 0)), 'invalid-field'],
    ['1025 ae leaves', () => decodeReplyItem(bytesOf((w) => w.u8(0x49).varint(1).varint(0).varint(1025))), 'invalid-field'],
    ['invalid UTF-8 in a key', () => decodeRequestItem(Uint8Array.of(0x01, 0, 1, 0xff, 0)), 'bad-utf8'],
    ['a padded varint', () => decodeRequestItem(Uint8Array.of(0x04, 0, 0, 0x80, 0x00, 0)), 'bad-varint'],
    ['an empty batch item', () => decodeBatch(Uint8Array.of(WIRE_VERSION, 0x30, 1, 0, 0)), 'invalid-field'],
    ['a batch of another protocol version', () => decodeBatch(Uint8Array.of(WIRE_VERSION + 1, 0x30, 0)), 'unknown-version'],
    ['a frame of another family', () => decodeBatch(Uint8Array.of(WIRE_VERSION, 0x33, 0)), 'unknown-type'],
    ['a membership frame', () => decodeBatch(Uint8Array.of(WIRE_VERSION, 0x10, 0)), 'unknown-type']
  ])('refuses %s', (_name, decode, reason) => {
    expect(reasonOf(decode)).toBe(reason)
  })

  it('enforces the receiver\'s limits on decode', () => {
    const item = encodeRequestItem({ ...aWrite, entry: { ...anEntry, key: 'k'.repeat(20), value: new Uint8Array(50) } })
    expect(reasonOf(() => decodeRequestItem(item, limits({ maxKeyBytes: 19 })))).toBe('key-too-large')
    expect(reasonOf(() => decodeRequestItem(item, limits({ maxValueBytes: 49 })))).toBe('value-too-large')
    expect(reasonOf(() => decodeRequestItem(item, limits({ maxFrameBytes: item.byteLength - 1 })))).toBe('frame-too-large')
    expect(reasonOf(() => decodeRequestItem(item, limits({ maxKeyBytes: 20, maxValueBytes: 50, maxFrameBytes: item.byteLength })))).toBe('no error')
    const chunk = encodeReplyItem({ type: 'range-chunk', entries: [anEntry, anEntry, anEntry] })
    expect(reasonOf(() => decodeReplyItem(chunk, limits({ maxListLength: 2 })))).toBe('list-too-long')
    expect(reasonOf(() => decodeReplyItem(chunk, limits({ maxListLength: 3 })))).toBe('no error')
    const batch = encodeBatch('batch', [item, item, item])
    expect(reasonOf(() => decodeBatch(batch, limits({ maxListLength: 2 })))).toBe('list-too-long')
    expect(reasonOf(() => decodeBatch(batch, limits({ maxFrameBytes: batch.byteLength - 1 })))).toBe('frame-too-large')
    expect(reasonOf(() => decodeBatch(batch, limits({ maxFrameBytes: batch.byteLength })))).toBe('no error')
  })
})

// ---- encoding limits -------------------------------------------------------------------------------

describe('encoding refuses', () => {
  const read = (k: string): RequestItem => ({ type: 'read', ns: 'n', key: k, noProxy: false })
  const withVersion = (v: Partial<Version>): RequestItem => ({ ...aWrite, entry: { ...anEntry, version: { ...aVersion, ...v } } })
  const rangeOf = (arcs: WireArc[]): RequestItem => ({ type: 'range-pull', ns: 'n', arcs, maxEntries: 1 })
  const leaves = (lanes: Uint32Array): ReplyItem => ({ type: 'ae-leaves', arcs: [{ end: 1, lanes }] })

  it.each<[string, () => unknown, RegExp]>([
    ['a key over maxKeyBytes', () => encodeRequestItem(read('abcde'), limits({ maxKeyBytes: 4 })), /key of 5 bytes is over the limit of 4/],
    ['a value over maxValueBytes', () => encodeRequestItem({ ...aWrite, entry: { ...anEntry, value: new Uint8Array(11) } }, limits({ maxValueBytes: 10 })), /value of 11 bytes/],
    ['a client-result value over maxValueBytes', () => encodeReplyItem({ type: 'client-result', result: { value: new Uint8Array(11) } }, limits({ maxValueBytes: 10 })), /value of 11 bytes/],
    ['an item over maxFrameBytes', () => encodeRequestItem({ ...aWrite, entry: { ...anEntry, value: new Uint8Array(90) } }, limits({ maxFrameBytes: 100, maxValueBytes: 90, maxKeyBytes: 10 })), /frame would be over the limit of 100/],
    ['a batch over maxFrameBytes', () => encodeBatch('batch', [new Uint8Array(60), new Uint8Array(60)].map((b) => b.fill(1)), limits({ maxFrameBytes: 100, maxKeyBytes: 10, maxValueBytes: 90 })), /over the limit of 100/],
    ['a key with a lone surrogate', () => encodeRequestItem(read('k\ud800')), /lone surrogate/],
    ['a wants key with a lone surrogate', () => encodeReplyItem({ type: 'ae-sync-reply', entries: [], wants: ['\udc00'] }), /lone surrogate/],
    ['a namespace over its limit', () => encodeRequestItem({ type: 'read', ns: 'n'.repeat(MESSAGE_LIMITS.maxNamespaceBytes + 1), key: 'k', noProxy: false }), /namespace/],
    ['a logical over 65535', () => encodeRequestItem(withVersion({ logical: 65536 })), /logical must be in 0\.\.65535/],
    ['a negative logical', () => encodeRequestItem(withVersion({ logical: -1 })), /logical/],
    ['a fractional logical', () => encodeRequestItem(withVersion({ logical: 0.5 })), /logical/],
    ['a digest version with a logical over 65535', () => encodeRequestItem({ type: 'ae-sync', ns: '', ring: '', buckets: [], digests: [{ key: 'k', version: { ...aVersion, logical: 70000 }, tombstone: false }] }), /logical/],
    ['a negative physical', () => encodeRequestItem(withVersion({ physical: -1 })), /safe unsigned integer/],
    ['an empty writer id', () => encodeRequestItem(withVersion({ writerId: '' })), /writer id is empty/],
    ['a writer id over 128 bytes', () => encodeRequestItem(withVersion({ writerId: 'w'.repeat(129) })), /peer id of 129 bytes/],
    ['an owner id over 128 bytes', () => encodeReplyItem({ type: 'status', status: 'not-owner', owners: ['o'.repeat(129)] }), /peer id/],
    ['an arc with start = end', () => encodeRequestItem(rangeOf([{ start: 5, end: 5 }])), /arc start 5 must be below its end 5/],
    ['an arc with start > end (a wrapping arc)', () => encodeRequestItem(rangeOf([{ start: 9, end: 5 }])), /arc start 9/],
    ['an arc starting below -1', () => encodeRequestItem(rangeOf([{ start: -2, end: 5 }])), /safe unsigned integer/],
    ['a fractional arc end', () => encodeRequestItem(rangeOf([{ start: 1, end: 2.5 }])), /safe unsigned integer/],
    ['a root lane over 32 bits', () => encodeRequestItem({ type: 'ae-roots', ns: '', ring: '', roots: [{ end: 1, hi: 2 ** 32, lo: 0 }] }), /root hi/],
    ['a negative root lane', () => encodeRequestItem({ type: 'ae-roots', ns: '', ring: '', roots: [{ end: 1, hi: 0, lo: -1 }] }), /root lo/],
    ['ae leaves with no lanes', () => encodeReplyItem(leaves(new Uint32Array(0))), /0 lanes/],
    ['ae leaves with an odd lane count', () => encodeReplyItem(leaves(new Uint32Array(3))), /3 lanes/],
    ['ae leaves over maxLeaves', () => encodeReplyItem(leaves(new Uint32Array(REPLICATION_LIMITS.maxLeaves * 2 + 2))), /lanes/],
    ['a list over maxListLength', () => encodeReplyItem({ type: 'range-chunk', entries: [anEntry, anEntry, anEntry] }, limits({ maxListLength: 2 })), /3 elements is over the list limit of 2/],
    ['a batch over maxListLength', () => encodeBatch('batch', [Uint8Array.of(1), Uint8Array.of(1), Uint8Array.of(1)], limits({ maxListLength: 2 })), /list limit of 2/],
    ['an empty batch item', () => encodeBatch('batch-reply', [new Uint8Array(0)]), /empty batch item/],
    ['an unknown batch frame', () => encodeBatch('batch-error' as 'batch', []), /unknown batch frame/],
    ['a fill with outcome value but no value', () => encodeRequestItem({ type: 'fill', ns: '', key: 'k', leaseId: 1, outcome: 'value', ttlMs: 0, notFoundTtlMs: 0 }), /needs a value/],
    ['a fetch result with outcome value but no entry', () => encodeReplyItem({ type: 'fetch-result', outcome: 'value' }), /needs an entry/],
    ['a client delta that is not a safe integer', () => encodeRequestItem({ type: 'client', op: 'incr', ns: '', key: 'k', readMode: 'local', ttlMs: 0, delta: 2 ** 53 }), /safe integer/],
    ['a pattern over its limit', () => encodeRequestItem({ type: 'scan', ns: '', pattern: { source: 'a'.repeat(REPLICATION_LIMITS.maxPatternBytes + 1), flags: '' }, limit: 1 }), /pattern/],
    ['an error message over its limit', () => encodeReplyItem({ type: 'error', code: 'E', message: 'm'.repeat(MESSAGE_LIMITS.maxErrorMessageBytes + 1) }), /error message/]
  ])('%s', (_name, encode, message) => {
    expect(encode).toThrow(EncodeError)
    expect(encode).toThrow(message)
  })

  const ns0 = { name: 'n', replication: 'sync', replicas: 3, writeQuorum: 2, readQuorum: 2, ttlMs: 0, maxBytes: 0, eviction: 'lru', readMode: 'local' } as const
  const catalogWith = (d: Partial<Record<keyof WireNamespace, string>>): RequestItem =>
    ({ type: 'catalog', entries: [{ definition: { ...ns0, ...d } as WireNamespace, declaredAt: { physical: 1, logical: 0 }, origin: 'p' }] })
  it.each<[string, () => unknown]>([
    ['an unknown request item type', () => encodeRequestItem({ type: 'nope' } as unknown as RequestItem)],
    ['a request item type named after an Object.prototype property', () => encodeRequestItem({ type: 'toString' } as unknown as RequestItem)],
    ['an unknown reply item type', () => encodeReplyItem({ type: 'constructor' } as unknown as ReplyItem)],
    ['an unknown client op', () => encodeRequestItem({ type: 'client', op: 'put' as 'set', ns: '', key: 'k', readMode: 'local', ttlMs: 0, delta: 0 })],
    ['an unknown read mode', () => encodeRequestItem({ type: 'client', op: 'get', ns: '', key: 'k', readMode: 'all' as 'local', ttlMs: 0, delta: 0 })],
    ['an unknown write purpose', () => encodeRequestItem({ ...aWrite, purpose: 'gossip' as 'hint' })],
    ['an unknown fill outcome', () => encodeRequestItem({ type: 'fill', ns: '', key: 'k', leaseId: 1, outcome: 'maybe' as 'failed', ttlMs: 0, notFoundTtlMs: 0 })],
    ['an unknown status', () => encodeReplyItem({ type: 'status', status: 'fine' as 'ok' })],
    ['an unknown fetch outcome', () => encodeReplyItem({ type: 'fetch-result', outcome: 'later' as 'refused' })],
    ['an unknown replication mode', () => encodeRequestItem(catalogWith({ replication: 'eventual' }))],
    ['an unknown eviction', () => encodeRequestItem(catalogWith({ eviction: 'fifo' }))],
    ['an unknown catalog read mode', () => encodeRequestItem(catalogWith({ readMode: 'any' }))]
  ])('%s', (_name, encode) => {
    expect(encode).toThrow(EncodeError)
  })

  it('whatever it encodes, the decoder under the same limits accepts', () => {
    const tight = limits({ maxKeyBytes: 8, maxValueBytes: 8, maxListLength: 2, maxFrameBytes: 256 })
    fc.assert(fc.property(anyItem, (a) => {
      let bytes: Uint8Array
      try {
        bytes = encodeAny(a, tight)
      } catch (err) {
        if (err instanceof EncodeError) return
        throw err
      }
      expect(reasonOf(() => decoderOf(a.dir)(bytes, tight))).toBe('no error')
    }), { seed: SEED, numRuns: 2000 })
  })
})
