/**
 * Wire messages of the key-value and replication protocol (family 0x30–0x4f), built on codec.ts.
 *
 * Everything between two peers' replication layers travels in **batches** over the transport's reliable
 * request/response channel (DESIGN.md: batching is where throughput comes from):
 * - `batch` (0x30): `count varint, count x item`; an item is `length varint, [item type u8][body]`;
 * - `batch-reply` (0x31): the same shape, one reply item per request item, in the same order;
 * - `batch-error` (0x32): `code str, message str` — the batch as a whole could not be read.
 * Items are length-prefixed so that one malformed or unknown item is refused on its own (its reply is an
 * `error` item) while the rest of the batch is served.
 *
 * Request items: read 0x01, write 0x02, client 0x03, fetch 0x04, fill 0x05, scan 0x06, catalog 0x07,
 * range-pull 0x08, ae-roots 0x09, ae-sync 0x0a. Reply items: status 0x41, error 0x42, entry 0x43,
 * client-result 0x44, fetch-result 0x45, scan-result 0x46, catalog 0x47, range-chunk 0x48, ae-leaves 0x49,
 * ae-sync-reply 0x4a. Bodies are listed next to each encoder below.
 *
 * An entry is `key str, flags u8 (bit 0 tombstone, bit 1 expires), [value bytes], version, [expiresAt
 * varint]`; a version is `physical varint, logical varint, writer str`. Points on the ring are varints
 * (< 2^52); an arc is `start + 1 varint, end varint` with `start < end`, so that its start may be -1 (an
 * arc that holds point 0), see `writeArc`.
 *
 * Invariants: decoders throw only `DecodeError`; every length and count is checked against a limit and the
 * bytes left before anything is allocated; values are copied out of the frame; encode(decode(b)) === b
 * for every item that decodes (minimal varints, strict flag and enum bytes). Encoders refuse, with
 * `EncodeError`, whatever the decoder under the same limits would refuse (an empty writer id, an arc with
 * `start >= end`, a list over `maxListLength`, an empty batch item, ...), so a refusal happens before
 * sending, where the caller can see it, not on the far peer.
 */
import { MAX_LOGICAL } from '../storage/hlc.js'
import type { Version } from '../storage/hlc.js'
import type { StoreEntry } from '../storage/store.js'
import { DecodeError, DEFAULT_WIRE_LIMITS, EncodeError, Reader, varintLength, WIRE_VERSION, Writer } from './codec.js'
import type { WireLimits } from './codec.js'
import { MESSAGE_LIMITS } from './messages.js'

/** Frame types of the replication family. */
export const ReplicationFrame = Object.freeze({ batch: 0x30, batchReply: 0x31, batchError: 0x32 })

export const REPLICATION_LIMITS = Object.freeze({
  /** Largest member id in a message, in UTF-8 bytes (the membership family's limit). */
  maxIdBytes: 128,
  /** Largest regular expression source in a scan, in UTF-8 bytes. */
  maxPatternBytes: 1024,
  /** Most leaves per arc in an anti-entropy message. */
  maxLeaves: 1024
})

export type ClientOp = 'get' | 'has' | 'set' | 'delete' | 'incr'
export type ReadModeWire = 'local' | 'primary' | 'quorum'
export type WritePurpose = 'replicate' | 'hint' | 'handoff' | 'repair' | 'coordinate'
/** `replaced`: a write was applied over a live value (`ok`: over nothing or a tombstone). */
export type ReplicaStatus = 'ok' | 'stale' | 'not-found' | 'not-owner' | 'unknown-namespace' | 'ring-mismatch' | 'overloaded' | 'stopped' | 'replaced'
export type FetchOutcome = 'value' | 'granted' | 'not-found' | 'wait-timeout' | 'refused'
export type FillOutcome = 'value' | 'not-found' | 'failed'

export interface WireArc { start: number, end: number }
export interface RangeCursor { point: number, key: string }
export interface WireNamespace {
  name: string
  replication: 'async' | 'sync' | 'strong'
  replicas: number
  writeQuorum: number
  readQuorum: number
  ttlMs: number
  maxBytes: number
  eviction: 'w-tinylfu' | 'lru'
  readMode: ReadModeWire
}
export interface WireCatalogEntry { definition: WireNamespace, declaredAt: { physical: number, logical: number }, origin: string }

export type RequestItem =
  /** Read this replica's copy; `noProxy`: do not ask previous owners of a moving range. */
  | { type: 'read', ns: string, key: string, noProxy: boolean }
  /** Apply this entry if newer (last-writer-wins). */
  | { type: 'write', ns: string, entry: StoreEntry, purpose: WritePurpose }
  /** A client operation forwarded to a coordinator (the key's primary). */
  | { type: 'client', op: ClientOp, ns: string, key: string, readMode: ReadModeWire, value?: Uint8Array, ttlMs: number, delta: number }
  /**
   * Read-through: the value, a lease to load it, or a wait of up to `waitMs`. `staleBefore` > 0 makes it
   * a refresh (stale-while-revalidate): a value expiring at or before it counts as missing, and the
   * caller never waits (a lease, or `refused`).
   */
  | { type: 'fetch', ns: string, key: string, waitMs: number, staleBefore: number }
  | { type: 'fill', ns: string, key: string, leaseId: number, outcome: FillOutcome, value?: Uint8Array, ttlMs: number, notFoundTtlMs: number }
  | { type: 'scan', ns: string, prefix?: string, pattern?: { source: string, flags: string }, limit: number }
  | { type: 'catalog', entries: WireCatalogEntry[] }
  | { type: 'range-pull', ns: string, arcs: WireArc[], after?: RangeCursor, maxEntries: number }
  | { type: 'ae-roots', ns: string, ring: string, roots: Array<{ end: number, hi: number, lo: number }> }
  | { type: 'ae-sync', ns: string, ring: string, buckets: Array<{ end: number, leaf: number }>, digests: Array<{ key: string, version: Version, tombstone: boolean }> }

export interface ClientResult {
  value?: Uint8Array
  version?: Version
  number?: number
  flag?: boolean
}

export type ReplyItem =
  | { type: 'status', status: ReplicaStatus, owners?: string[] }
  | { type: 'error', code: string, message: string }
  | { type: 'entry', entry: StoreEntry }
  | { type: 'client-result', result: ClientResult }
  | { type: 'fetch-result', outcome: FetchOutcome, entry?: StoreEntry, leaseId?: number }
  | { type: 'scan-result', primaryMatches: number, items: StoreEntry[] }
  | { type: 'catalog', entries: WireCatalogEntry[] }
  | { type: 'range-chunk', entries: StoreEntry[], next?: RangeCursor }
  | { type: 'ae-leaves', arcs: Array<{ end: number, lanes: Uint32Array }> }
  | { type: 'ae-sync-reply', entries: StoreEntry[], wants: string[] }

const REQ = Object.freeze({ read: 0x01, write: 0x02, client: 0x03, fetch: 0x04, fill: 0x05, scan: 0x06, catalog: 0x07, 'range-pull': 0x08, 'ae-roots': 0x09, 'ae-sync': 0x0a })
const REP = Object.freeze({ status: 0x41, error: 0x42, entry: 0x43, 'client-result': 0x44, 'fetch-result': 0x45, 'scan-result': 0x46, catalog: 0x47, 'range-chunk': 0x48, 'ae-leaves': 0x49, 'ae-sync-reply': 0x4a })

const CLIENT_OPS: readonly ClientOp[] = ['get', 'has', 'set', 'delete', 'incr']
const READ_MODES: readonly ReadModeWire[] = ['local', 'primary', 'quorum']
const PURPOSES: readonly WritePurpose[] = ['replicate', 'hint', 'handoff', 'repair', 'coordinate']
const STATUSES: readonly ReplicaStatus[] = ['ok', 'stale', 'not-found', 'not-owner', 'unknown-namespace', 'ring-mismatch', 'overloaded', 'stopped', 'replaced']
const FETCH_OUTCOMES: readonly FetchOutcome[] = ['value', 'granted', 'not-found', 'wait-timeout', 'refused']
const FILL_OUTCOMES: readonly FillOutcome[] = ['value', 'not-found', 'failed']
const MODES = ['async', 'sync', 'strong'] as const
const EVICTIONS = ['w-tinylfu', 'lru'] as const

// ------------------------------------------------------------------------------------------- primitives

function enumIndex<T> (list: readonly T[], v: T, what: string): number {
  const i = list.indexOf(v)
  if (i < 0) throw new EncodeError(`unknown ${what} ${JSON.stringify(v)}`)
  return i
}

function readEnum<T> (r: Reader, list: readonly T[], what: string): T {
  const i = r.u8()
  if (i >= list.length) throw new DecodeError('invalid-field', `unknown ${what} code ${i}`)
  return list[i]
}

/** A list's element count; the decoder refuses a list over `maxListLength`, so the encoder does too. */
function writeCount (w: Writer, n: number, what: string): void {
  if (n > w.limits.maxListLength) throw new EncodeError(`${what}: ${n} elements is over the list limit of ${w.limits.maxListLength}`)
  w.varint(n)
}

function writeU32 (w: Writer, v: number, what: string): void {
  // DataView.setUint32 wraps silently (-1 becomes 0xffffffff, 2^32 becomes 0): refuse instead.
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new EncodeError(`${what} must be an integer in 0..2^32-1, got ${v}`)
  w.u32(v)
}

function writeNs (w: Writer, ns: string): void { w.string(ns, MESSAGE_LIMITS.maxNamespaceBytes, 'namespace') }
function readNs (r: Reader): string { return r.string(MESSAGE_LIMITS.maxNamespaceBytes, 'invalid-field') }
function writeId (w: Writer, id: string): void { w.string(id, REPLICATION_LIMITS.maxIdBytes, 'peer id') }
function readId (r: Reader): string { return r.string(REPLICATION_LIMITS.maxIdBytes, 'invalid-field') }

function writeVersion (w: Writer, v: Version): void {
  if (!Number.isSafeInteger(v.logical) || v.logical < 0 || v.logical > MAX_LOGICAL) throw new EncodeError(`version logical must be in 0..${MAX_LOGICAL}, got ${v.logical}`)
  if (v.writerId.length === 0) throw new EncodeError('version writer id is empty')
  w.varint(v.physical).varint(v.logical)
  writeId(w, v.writerId)
}

function readVersion (r: Reader): Version {
  const physical = r.varint()
  const logical = r.varint()
  if (logical > MAX_LOGICAL) throw new DecodeError('invalid-field', `version logical ${logical} is over ${MAX_LOGICAL}`)
  const writerId = readId(r)
  if (writerId.length === 0) throw new DecodeError('invalid-field', 'version writer id is empty')
  return { physical, logical, writerId }
}

const E_TOMBSTONE = 1
const E_EXPIRES = 2

function writeEntry (w: Writer, e: StoreEntry): void {
  const expires = e.expiresAt !== undefined && e.expiresAt !== Infinity
  w.key(e.key).u8((e.value === null ? E_TOMBSTONE : 0) | (expires ? E_EXPIRES : 0))
  if (e.value !== null) w.value(e.value)
  writeVersion(w, e.version)
  if (expires) w.varint(Math.ceil(e.expiresAt!))
}

function readEntry (r: Reader): StoreEntry {
  const key = r.key()
  const flags = r.u8()
  if ((flags & ~(E_TOMBSTONE | E_EXPIRES)) !== 0) throw new DecodeError('invalid-field', `unknown entry flags 0x${flags.toString(16)}`)
  const value = (flags & E_TOMBSTONE) !== 0 ? null : r.value().slice()
  const version = readVersion(r)
  const entry: StoreEntry = { key, value, version }
  if ((flags & E_EXPIRES) !== 0) entry.expiresAt = r.varint()
  return entry
}

function writeEntries (w: Writer, list: readonly StoreEntry[]): void {
  writeCount(w, list.length, 'entries')
  for (const e of list) writeEntry(w, e)
}

function readEntries (r: Reader): StoreEntry[] {
  const n = r.listLength(5)
  const out: StoreEntry[] = []
  for (let i = 0; i < n; i++) out.push(readEntry(r))
  return out
}

function writeArc (w: Writer, a: WireArc): void {
  // start may be -1 (an arc from point 0 inclusive): written as start + 1
  if (!(a.start < a.end)) throw new EncodeError(`arc start ${a.start} must be below its end ${a.end} (split a wrapping arc)`)
  w.varint(a.start + 1).varint(a.end)
}

function readArc (r: Reader): WireArc {
  const start = r.varint() - 1
  const end = r.varint()
  if (!(start < end)) throw new DecodeError('invalid-field', `arc start ${start} must be below its end ${end}`)
  return { start, end }
}

function writeSigned (w: Writer, n: number): void {
  if (!Number.isSafeInteger(n)) throw new EncodeError(`expected a safe integer, got ${n}`)
  w.u8(n < 0 ? 1 : 0).varint(Math.abs(n))
}

function readSigned (r: Reader): number {
  const sign = r.u8()
  if (sign > 1) throw new DecodeError('invalid-field', `sign byte must be 0 or 1, got ${sign}`)
  const m = r.varint()
  if (sign === 1 && m === 0) throw new DecodeError('invalid-field', 'negative zero')
  return sign === 1 ? -m : m
}

function writeCatalog (w: Writer, entries: readonly WireCatalogEntry[]): void {
  writeCount(w, entries.length, 'catalog')
  for (const e of entries) {
    const d = e.definition
    writeNs(w, d.name)
    w.u8(enumIndex(MODES, d.replication, 'replication mode')).varint(d.replicas).varint(d.writeQuorum).varint(d.readQuorum)
      .varint(d.ttlMs).varint(d.maxBytes).u8(enumIndex(EVICTIONS, d.eviction, 'eviction')).u8(enumIndex(READ_MODES, d.readMode, 'read mode'))
      .varint(e.declaredAt.physical).varint(e.declaredAt.logical)
    writeId(w, e.origin)
  }
}

function readCatalog (r: Reader): WireCatalogEntry[] {
  const n = r.listLength(12)
  const out: WireCatalogEntry[] = []
  for (let i = 0; i < n; i++) {
    const name = readNs(r)
    const replication = readEnum(r, MODES, 'replication mode')
    const replicas = r.varint()
    const writeQuorum = r.varint()
    const readQuorum = r.varint()
    const ttlMs = r.varint()
    const maxBytes = r.varint()
    const eviction = readEnum(r, EVICTIONS, 'eviction')
    const readMode = readEnum(r, READ_MODES, 'read mode')
    const physical = r.varint()
    const logical = r.varint()
    const origin = readId(r)
    out.push({ definition: { name, replication, replicas, writeQuorum, readQuorum, ttlMs, maxBytes, eviction, readMode }, declaredAt: { physical, logical }, origin })
  }
  return out
}

function writeStrings (w: Writer, list: readonly string[], what: string, write: (s: string) => void): void {
  writeCount(w, list.length, what)
  for (const s of list) write(s)
}

function writeCursor (w: Writer, c: RangeCursor | undefined): void {
  if (c === undefined) { w.u8(0); return }
  w.u8(1).varint(c.point).key(c.key)
}

function readCursor (r: Reader): RangeCursor | undefined {
  const has = r.bool()
  if (!has) return undefined
  const point = r.varint()
  return { point, key: r.key() }
}

// ------------------------------------------------------------------------------------------- items

/** One scratch writer per limits object: items are encoded into it and copied out sized exactly. */
const scratchWriters = new WeakMap<WireLimits, Writer>()
function scratch (limits: WireLimits): Writer {
  let w = scratchWriters.get(limits)
  if (w === undefined) { w = new Writer(limits, 4096); scratchWriters.set(limits, w) }
  return w.reset()
}

/** Encodes one request item (`[type u8][body]`, no length prefix). Throws EncodeError on a limit. */
export function encodeRequestItem (item: RequestItem, limits: WireLimits = DEFAULT_WIRE_LIMITS): Uint8Array {
  const w = scratch(limits)
  // hasOwn: a type such as 'toString' must not pick up a property of Object.prototype
  const code = Object.hasOwn(REQ, item.type) ? REQ[item.type] : undefined
  if (code === undefined) throw new EncodeError(`unknown request item type ${JSON.stringify((item as { type: unknown }).type)}`)
  w.u8(code)
  switch (item.type) {
    case 'read': // ns str, key str, noProxy bool
      writeNs(w, item.ns); w.key(item.key).bool(item.noProxy); break
    case 'write': // ns str, purpose u8, entry
      writeNs(w, item.ns); w.u8(enumIndex(PURPOSES, item.purpose, 'write purpose')); writeEntry(w, item.entry); break
    case 'client': { // op u8, ns, key, mode u8, flags u8 (bit 0 value), [value], ttlMs varint, delta signed
      w.u8(enumIndex(CLIENT_OPS, item.op, 'client op'))
      writeNs(w, item.ns)
      w.key(item.key).u8(enumIndex(READ_MODES, item.readMode, 'read mode')).u8(item.value !== undefined ? 1 : 0)
      if (item.value !== undefined) w.value(item.value)
      w.varint(item.ttlMs)
      writeSigned(w, item.delta)
      break
    }
    case 'fetch': // ns, key, waitMs varint, staleBefore varint (0: not a refresh)
      writeNs(w, item.ns); w.key(item.key).varint(item.waitMs).varint(item.staleBefore); break
    case 'fill': // ns, key, leaseId varint, outcome u8, [value], ttlMs varint, notFoundTtlMs varint
      writeNs(w, item.ns)
      w.key(item.key).varint(item.leaseId).u8(enumIndex(FILL_OUTCOMES, item.outcome, 'fill outcome'))
      if (item.outcome === 'value') {
        if (item.value === undefined) throw new EncodeError('a fill with outcome value needs a value')
        w.value(item.value)
      }
      w.varint(item.ttlMs).varint(item.notFoundTtlMs)
      break
    case 'scan': { // ns, flags u8 (bit 0 prefix, bit 1 pattern), [prefix key], [source str, flags str], limit varint
      writeNs(w, item.ns)
      w.u8((item.prefix !== undefined ? 1 : 0) | (item.pattern !== undefined ? 2 : 0))
      if (item.prefix !== undefined) w.key(item.prefix)
      if (item.pattern !== undefined) w.string(item.pattern.source, REPLICATION_LIMITS.maxPatternBytes, 'pattern').string(item.pattern.flags, 16, 'pattern flags')
      w.varint(item.limit)
      break
    }
    case 'catalog':
      writeCatalog(w, item.entries); break
    case 'range-pull': // ns, arcs [arc], cursor, maxEntries
      writeNs(w, item.ns)
      writeCount(w, item.arcs.length, 'arcs')
      for (const a of item.arcs) writeArc(w, a)
      writeCursor(w, item.after)
      w.varint(item.maxEntries)
      break
    case 'ae-roots': // ns, ring str, roots [(end varint, hi u32, lo u32)]
      writeNs(w, item.ns); w.string(item.ring, 64, 'ring checksum')
      writeCount(w, item.roots.length, 'roots')
      for (const r of item.roots) { w.varint(r.end); writeU32(w, r.hi, 'root hi'); writeU32(w, r.lo, 'root lo') }
      break
    case 'ae-sync': // ns, ring, buckets [(end, leaf)], digests [(key, version, tombstone bool)]
      writeNs(w, item.ns); w.string(item.ring, 64, 'ring checksum')
      writeCount(w, item.buckets.length, 'buckets')
      for (const b of item.buckets) w.varint(b.end).varint(b.leaf)
      writeCount(w, item.digests.length, 'digests')
      for (const d of item.digests) { w.key(d.key); writeVersion(w, d.version); w.bool(d.tombstone) }
      break
  }
  return w.finish()
}

/** Decodes one request item. Throws only DecodeError. */
export function decodeRequestItem (bytes: Uint8Array, limits: WireLimits = DEFAULT_WIRE_LIMITS): RequestItem {
  const r = new Reader(bytes, limits)
  const code = r.u8()
  let item: RequestItem
  switch (code) {
    case REQ.read: {
      const ns = readNs(r)
      item = { type: 'read', ns, key: r.key(), noProxy: r.bool() }
      break
    }
    case REQ.write: {
      const ns = readNs(r)
      const purpose = readEnum(r, PURPOSES, 'write purpose')
      item = { type: 'write', ns, purpose, entry: readEntry(r) }
      break
    }
    case REQ.client: {
      const op = readEnum(r, CLIENT_OPS, 'client op')
      const ns = readNs(r)
      const key = r.key()
      const readMode = readEnum(r, READ_MODES, 'read mode')
      const flags = r.u8()
      if (flags > 1) throw new DecodeError('invalid-field', `unknown client flags 0x${flags.toString(16)}`)
      const c: RequestItem = { type: 'client', op, ns, key, readMode, ttlMs: 0, delta: 0 }
      if (flags === 1) c.value = r.value().slice()
      c.ttlMs = r.varint()
      c.delta = readSigned(r)
      item = c
      break
    }
    case REQ.fetch: {
      const ns = readNs(r)
      const key = r.key()
      const waitMs = r.varint()
      item = { type: 'fetch', ns, key, waitMs, staleBefore: r.varint() }
      break
    }
    case REQ.fill: {
      const ns = readNs(r)
      const key = r.key()
      const leaseId = r.varint()
      const outcome = readEnum(r, FILL_OUTCOMES, 'fill outcome')
      const f: RequestItem = { type: 'fill', ns, key, leaseId, outcome, ttlMs: 0, notFoundTtlMs: 0 }
      if (outcome === 'value') f.value = r.value().slice()
      f.ttlMs = r.varint()
      f.notFoundTtlMs = r.varint()
      item = f
      break
    }
    case REQ.scan: {
      const ns = readNs(r)
      const flags = r.u8()
      if (flags > 3) throw new DecodeError('invalid-field', `unknown scan flags 0x${flags.toString(16)}`)
      const s: RequestItem = { type: 'scan', ns, limit: 0 }
      if ((flags & 1) !== 0) s.prefix = r.key()
      if ((flags & 2) !== 0) {
        const source = r.string(REPLICATION_LIMITS.maxPatternBytes, 'invalid-field')
        s.pattern = { source, flags: r.string(16, 'invalid-field') }
      }
      s.limit = r.varint()
      item = s
      break
    }
    case REQ.catalog:
      item = { type: 'catalog', entries: readCatalog(r) }
      break
    case REQ['range-pull']: {
      const ns = readNs(r)
      const n = r.listLength(2)
      const arcs: WireArc[] = []
      for (let i = 0; i < n; i++) arcs.push(readArc(r))
      const after = readCursor(r)
      const p: RequestItem = { type: 'range-pull', ns, arcs, maxEntries: r.varint() }
      if (after !== undefined) p.after = after
      item = p
      break
    }
    case REQ['ae-roots']: {
      const ns = readNs(r)
      const ring = r.string(64, 'invalid-field')
      const n = r.listLength(9)
      const roots: Array<{ end: number, hi: number, lo: number }> = []
      for (let i = 0; i < n; i++) roots.push({ end: r.varint(), hi: r.u32(), lo: r.u32() })
      item = { type: 'ae-roots', ns, ring, roots }
      break
    }
    case REQ['ae-sync']: {
      const ns = readNs(r)
      const ring = r.string(64, 'invalid-field')
      const nb = r.listLength(2)
      const buckets: Array<{ end: number, leaf: number }> = []
      for (let i = 0; i < nb; i++) buckets.push({ end: r.varint(), leaf: r.varint() })
      const nd = r.listLength(5)
      const digests: Array<{ key: string, version: Version, tombstone: boolean }> = []
      for (let i = 0; i < nd; i++) {
        const key = r.key()
        const version = readVersion(r)
        digests.push({ key, version, tombstone: r.bool() })
      }
      item = { type: 'ae-sync', ns, ring, buckets, digests }
      break
    }
    default:
      throw new DecodeError('unknown-type', `unknown request item type 0x${code.toString(16).padStart(2, '0')}`)
  }
  r.end()
  return item
}

/** Encodes one reply item. Throws EncodeError on a limit. */
export function encodeReplyItem (item: ReplyItem, limits: WireLimits = DEFAULT_WIRE_LIMITS): Uint8Array {
  const w = scratch(limits)
  const code = Object.hasOwn(REP, item.type) ? REP[item.type] : undefined
  if (code === undefined) throw new EncodeError(`unknown reply item type ${JSON.stringify((item as { type: unknown }).type)}`)
  w.u8(code)
  switch (item.type) {
    case 'status': // status u8, [owners: ids] (not-owner only)
      w.u8(enumIndex(STATUSES, item.status, 'status'))
      if (item.status === 'not-owner') writeStrings(w, item.owners ?? [], 'owners', (s) => writeId(w, s))
      break
    case 'error':
      w.string(item.code, MESSAGE_LIMITS.maxErrorCodeBytes, 'error code').string(item.message, MESSAGE_LIMITS.maxErrorMessageBytes, 'error message')
      break
    case 'entry':
      writeEntry(w, item.entry); break
    case 'client-result': { // flags u8 (bit 0 value, 1 version, 2 number, 3 flag, 4 flag value), fields in that order
      const res = item.result
      const flags = (res.value !== undefined ? 1 : 0) | (res.version !== undefined ? 2 : 0) | (res.number !== undefined ? 4 : 0) |
        (res.flag !== undefined ? 8 : 0) | (res.flag === true ? 16 : 0)
      w.u8(flags)
      if (res.value !== undefined) w.value(res.value)
      if (res.version !== undefined) writeVersion(w, res.version)
      if (res.number !== undefined) writeSigned(w, res.number)
      break
    }
    case 'fetch-result': // outcome u8, [entry] (value), [leaseId] (granted)
      w.u8(enumIndex(FETCH_OUTCOMES, item.outcome, 'fetch outcome'))
      if (item.outcome === 'value') {
        if (item.entry === undefined) throw new EncodeError('a fetch result with outcome value needs an entry')
        writeEntry(w, item.entry)
      }
      if (item.outcome === 'granted') w.varint(item.leaseId ?? 0)
      break
    case 'scan-result':
      w.varint(item.primaryMatches); writeEntries(w, item.items); break
    case 'catalog':
      writeCatalog(w, item.entries); break
    case 'range-chunk':
      writeEntries(w, item.entries); writeCursor(w, item.next); break
    case 'ae-leaves': // arcs [(end, leaves varint, 2 x leaves u32)]
      writeCount(w, item.arcs.length, 'ae-leaves arcs')
      for (const a of item.arcs) {
        if (a.lanes.length === 0 || a.lanes.length % 2 !== 0 || a.lanes.length / 2 > REPLICATION_LIMITS.maxLeaves) throw new EncodeError(`ae-leaves: ${a.lanes.length} lanes is not 2 x 1..${REPLICATION_LIMITS.maxLeaves}`)
        w.varint(a.end).varint(a.lanes.length / 2)
        for (let i = 0; i < a.lanes.length; i++) w.u32(a.lanes[i])
      }
      break
    case 'ae-sync-reply':
      writeEntries(w, item.entries); writeStrings(w, item.wants, 'wants', (s) => w.key(s)); break
  }
  return w.finish()
}

/** Decodes one reply item. Throws only DecodeError. */
export function decodeReplyItem (bytes: Uint8Array, limits: WireLimits = DEFAULT_WIRE_LIMITS): ReplyItem {
  const r = new Reader(bytes, limits)
  const code = r.u8()
  let item: ReplyItem
  switch (code) {
    case REP.status: {
      const status = readEnum(r, STATUSES, 'status')
      if (status === 'not-owner') {
        const n = r.listLength(1)
        const owners: string[] = []
        for (let i = 0; i < n; i++) owners.push(readId(r))
        item = { type: 'status', status, owners }
      } else {
        item = { type: 'status', status }
      }
      break
    }
    case REP.error: {
      const c = r.string(MESSAGE_LIMITS.maxErrorCodeBytes, 'invalid-field')
      item = { type: 'error', code: c, message: r.string(MESSAGE_LIMITS.maxErrorMessageBytes, 'invalid-field') }
      break
    }
    case REP.entry:
      item = { type: 'entry', entry: readEntry(r) }
      break
    case REP['client-result']: {
      const flags = r.u8()
      if (flags > 31 || ((flags & 16) !== 0 && (flags & 8) === 0)) throw new DecodeError('invalid-field', `bad client-result flags 0x${flags.toString(16)}`)
      const result: ClientResult = {}
      if ((flags & 1) !== 0) result.value = r.value().slice()
      if ((flags & 2) !== 0) result.version = readVersion(r)
      if ((flags & 4) !== 0) result.number = readSigned(r)
      if ((flags & 8) !== 0) result.flag = (flags & 16) !== 0
      item = { type: 'client-result', result }
      break
    }
    case REP['fetch-result']: {
      const outcome = readEnum(r, FETCH_OUTCOMES, 'fetch outcome')
      const f: ReplyItem = { type: 'fetch-result', outcome }
      if (outcome === 'value') f.entry = readEntry(r)
      if (outcome === 'granted') f.leaseId = r.varint()
      item = f
      break
    }
    case REP['scan-result']: {
      const primaryMatches = r.varint()
      item = { type: 'scan-result', primaryMatches, items: readEntries(r) }
      break
    }
    case REP.catalog:
      item = { type: 'catalog', entries: readCatalog(r) }
      break
    case REP['range-chunk']: {
      const entries = readEntries(r)
      const next = readCursor(r)
      item = next === undefined ? { type: 'range-chunk', entries } : { type: 'range-chunk', entries, next }
      break
    }
    case REP['ae-leaves']: {
      const n = r.listLength(2)
      const arcs: Array<{ end: number, lanes: Uint32Array }> = []
      for (let i = 0; i < n; i++) {
        const end = r.varint()
        const leaves = r.varint()
        if (leaves < 1 || leaves > REPLICATION_LIMITS.maxLeaves) throw new DecodeError('invalid-field', `ae-leaves: ${leaves} leaves is not in 1..${REPLICATION_LIMITS.maxLeaves}`)
        if (leaves * 8 > r.remaining) throw new DecodeError('truncated', `ae-leaves: ${leaves} leaves cannot fit in ${r.remaining} bytes`)
        const lanes = new Uint32Array(leaves * 2)
        for (let j = 0; j < lanes.length; j++) lanes[j] = r.u32()
        arcs.push({ end, lanes })
      }
      item = { type: 'ae-leaves', arcs }
      break
    }
    case REP['ae-sync-reply']: {
      const entries = readEntries(r)
      const n = r.listLength(1)
      const wants: string[] = []
      for (let i = 0; i < n; i++) wants.push(r.key())
      item = { type: 'ae-sync-reply', entries, wants }
      break
    }
    default:
      throw new DecodeError('unknown-type', `unknown reply item type 0x${code.toString(16).padStart(2, '0')}`)
  }
  r.end()
  return item
}

// ------------------------------------------------------------------------------------------- batches

/** Frames already-encoded items into one batch (request or reply) frame. Throws EncodeError on a limit. */
export function encodeBatch (frame: 'batch' | 'batch-reply', items: readonly Uint8Array[], limits: WireLimits = DEFAULT_WIRE_LIMITS): Uint8Array {
  if (frame !== 'batch' && frame !== 'batch-reply') throw new EncodeError(`unknown batch frame ${JSON.stringify(frame)}; use batch or batch-reply`)
  if (items.length > limits.maxListLength) throw new EncodeError(`batch of ${items.length} items is over the list limit of ${limits.maxListLength}`)
  // sized exactly and written in one pass (the items are encoded already)
  let size = 2 + varintLength(items.length)
  for (const it of items) {
    if (it.byteLength === 0) throw new EncodeError('empty batch item (an item has at least its type byte)')
    size += varintLength(it.byteLength) + it.byteLength
  }
  if (size > limits.maxFrameBytes) throw new EncodeError(`frame would be over the limit of ${limits.maxFrameBytes} bytes`)
  const out = new Uint8Array(size)
  out[0] = WIRE_VERSION
  out[1] = frame === 'batch' ? ReplicationFrame.batch : ReplicationFrame.batchReply
  let pos = writeVarintAt(out, 2, items.length)
  for (const it of items) {
    pos = writeVarintAt(out, pos, it.byteLength)
    out.set(it, pos)
    pos += it.byteLength
  }
  return out
}

function writeVarintAt (out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  out[pos++] = v
  return pos
}

/**
 * Frames a batch-level error (the batch could not be read). The message is diagnostic text, so it is
 * made to fit rather than refused: lone surrogates become U+FFFD and it is cut, at a code point, to
 * `MESSAGE_LIMITS.maxErrorMessageBytes` of UTF-8. The code is a stable identifier and is not altered.
 */
export function encodeBatchError (code: string, message: string, limits: WireLimits = DEFAULT_WIRE_LIMITS): Uint8Array {
  const text = truncateUtf8(message.toWellFormed(), MESSAGE_LIMITS.maxErrorMessageBytes)
  const w = new Writer(limits, Math.min(64 + text.length * 3, limits.maxFrameBytes))
  w.u8(WIRE_VERSION).u8(ReplicationFrame.batchError)
    .string(code, MESSAGE_LIMITS.maxErrorCodeBytes, 'error code')
    .string(text, MESSAGE_LIMITS.maxErrorMessageBytes, 'error message')
  return w.finish()
}

const utf8Encoder = new TextEncoder()

/** The longest prefix of a well-formed string whose UTF-8 fits in `maxBytes` (never splits a code point). */
function truncateUtf8 (s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s
  // encodeInto writes whole code points only, and reports how many UTF-16 units it consumed.
  const { read } = utf8Encoder.encodeInto(s, new Uint8Array(maxBytes))
  return s.slice(0, read)
}

export type DecodedBatch =
  | { frame: 'batch' | 'batch-reply', items: Uint8Array[] }
  | { frame: 'batch-error', code: string, message: string }

/**
 * Splits a batch frame into its items (views into `bytes`, decoded one by one with the item decoders).
 * Throws DecodeError when the framing itself is broken (then no item can be trusted).
 */
export function decodeBatch (bytes: Uint8Array, limits: WireLimits = DEFAULT_WIRE_LIMITS): DecodedBatch {
  const r = new Reader(bytes, limits)
  const version = r.u8()
  if (version !== WIRE_VERSION) throw new DecodeError('unknown-version', `protocol version ${version} is not supported (this peer speaks ${WIRE_VERSION})`)
  const type = r.u8()
  if (type === ReplicationFrame.batchError) {
    const code = r.string(MESSAGE_LIMITS.maxErrorCodeBytes, 'invalid-field')
    const message = r.string(MESSAGE_LIMITS.maxErrorMessageBytes, 'invalid-field')
    r.end()
    return { frame: 'batch-error', code, message }
  }
  if (type !== ReplicationFrame.batch && type !== ReplicationFrame.batchReply) {
    throw new DecodeError('unknown-type', `not a replication batch frame: type 0x${type.toString(16).padStart(2, '0')}`)
  }
  const n = r.listLength(2)
  const items: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const it = r.bytes(limits.maxFrameBytes, 'frame-too-large')
    if (it.byteLength === 0) throw new DecodeError('invalid-field', 'empty batch item')
    items.push(it)
  }
  r.end()
  return { frame: type === ReplicationFrame.batch ? 'batch' : 'batch-reply', items }
}

/** True when a frame's type byte is one of this family's batch frames. */
export function isReplicationFrame (bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[1] >= ReplicationFrame.batch && bytes[1] <= ReplicationFrame.batchError
}
