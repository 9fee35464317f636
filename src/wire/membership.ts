/**
 * Wire messages of the membership protocol (SWIM + Lifeguard), built on the primitives of codec.ts.
 *
 * Every frame is `[WIRE_VERSION u8][type u8][body]`, with types 0x10–0x16 (the membership family owns
 * 0x10–0x2f). Best-effort datagrams (ping, ping-req, ack, nack, gossip) end with a piggyback list of
 * membership updates; each update is its own length-prefixed blob, so a sender can encode an update
 * once and copy its bytes into every message that carries it (the dissemination queue caches them), and
 * the size of a datagram is known exactly before it is written (`datagramBaseBytes`). Push-pull request
 * and reply carry the full member list over the reliable channel.
 *
 * Invariants: decoding hostile bytes throws only `DecodeError`; every string, list and map has a hard
 * limit checked before anything is allocated; encoding and decoding are exact inverses on valid input;
 * metadata maps are written in key order, so equal maps give equal bytes.
 */
import { DecodeError, DEFAULT_WIRE_LIMITS, EncodeError, Reader, WIRE_VERSION, Writer } from './codec.js'
import type { WireLimits } from './codec.js'

/** Message type numbers of the membership family. */
export const MembershipType = Object.freeze({
  ping: 0x10,
  pingReq: 0x11,
  ack: 0x12,
  nack: 0x13,
  gossip: 0x14,
  pushPullRequest: 0x15,
  pushPullReply: 0x16
})

/** The first and last type numbers reserved for the membership family. */
export const MEMBERSHIP_TYPE_MIN = 0x10
export const MEMBERSHIP_TYPE_MAX = 0x2f

/** Hard limits of membership messages. They bound what a peer accepts from the network. */
export const MEMBERSHIP_LIMITS = Object.freeze({
  /** Largest member id, in UTF-8 bytes. */
  maxIdBytes: 128,
  /** Largest member address, in UTF-8 bytes. */
  maxAddressBytes: 256,
  /** Most entries in a member's metadata map. */
  maxMetaEntries: 16,
  /** Largest metadata key, in UTF-8 bytes. */
  maxMetaKeyBytes: 64,
  /** Largest metadata value, in UTF-8 bytes. */
  maxMetaValueBytes: 256,
  /** Largest encoded metadata map, in bytes. */
  maxMetaBytes: 1024,
  /** Most accusers listed in one suspect update. */
  maxAccusers: 8,
  /** Most updates piggybacked on one datagram (so the count is always one byte). */
  maxUpdatesPerMessage: 127,
  /** Largest encoded update, in bytes. */
  maxUpdateBytes: 2048,
  /** Most members in one push-pull state. */
  maxMembers: 65536,
  /** Largest datagram accepted, in bytes (a transport's own limit is usually far lower). */
  maxDatagramBytes: 65507
})

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left'
export const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left']

/** A member's small user map (e.g. `{ zone: 'eu-1', http: '10.0.0.3:8080' }`). */
export type Metadata = Readonly<Record<string, string>>

export interface AliveUpdate { kind: 'alive', id: string, incarnation: number, address: string, meta: Metadata }
/** `accusers`: members that independently failed to probe `id` (Lifeguard's confirmations), first one first. */
export interface SuspectUpdate { kind: 'suspect', id: string, incarnation: number, accusers: string[] }
export interface DeadUpdate { kind: 'dead', id: string, incarnation: number, from: string }
export interface LeftUpdate { kind: 'left', id: string, incarnation: number }
export type MemberUpdate = AliveUpdate | SuspectUpdate | DeadUpdate | LeftUpdate

/** One member in a push-pull state transfer. */
export interface MemberEntry { readonly id: string, readonly address: string, readonly incarnation: number, readonly state: MemberState, readonly meta: Metadata }

/**
 * Datagram messages. `U` is the piggyback element: `MemberUpdate` when decoded, `Uint8Array` (an update
 * already encoded with `encodeUpdate`) when sent.
 */
/**
 * `viewChecksum` (pings and acks): the first 32 bits of the sender's membership checksum, so two peers
 * notice when their views disagree and one can repair it with a push-pull.
 */
export interface PingMessage<U = MemberUpdate> { type: 'ping', seq: number, targetId: string, sourceId: string, viewChecksum: number, updates: U[] }
export interface PingReqMessage<U = MemberUpdate> {
  type: 'ping-req'
  seq: number
  targetId: string
  targetAddress: string
  sourceId: string
  /** Ask the relay for a nack when the target stays silent (Lifeguard). */
  wantNack: boolean
  /** How long the relay waits for the target before it nacks, in ms. */
  nackTimeoutMs: number
  updates: U[]
}
export interface AckMessage<U = MemberUpdate> { type: 'ack', seq: number, viewChecksum: number, updates: U[] }
export interface NackMessage<U = MemberUpdate> { type: 'nack', seq: number, updates: U[] }
export interface GossipMessage<U = MemberUpdate> { type: 'gossip', sourceId: string, updates: U[] }
export type DatagramMessage<U = MemberUpdate> =
  | PingMessage<U> | PingReqMessage<U> | AckMessage<U> | NackMessage<U> | GossipMessage<U>
export type OutgoingDatagram = DatagramMessage<Uint8Array>

export interface PushPullRequest { type: 'push-pull-request', sourceId: string, join: boolean, members: MemberEntry[] }
export interface PushPullReply { type: 'push-pull-reply', members: MemberEntry[] }

export type MembershipMessage = DatagramMessage | PushPullRequest | PushPullReply
export type MembershipMessageType = MembershipMessage['type']

export const MEMBERSHIP_MESSAGE_TYPES: readonly MembershipMessageType[] =
  ['ping', 'ping-req', 'ack', 'nack', 'gossip', 'push-pull-request', 'push-pull-reply']

const TYPE_NUMBER: Record<MembershipMessageType, number> = {
  ping: MembershipType.ping,
  'ping-req': MembershipType.pingReq,
  ack: MembershipType.ack,
  nack: MembershipType.nack,
  gossip: MembershipType.gossip,
  'push-pull-request': MembershipType.pushPullRequest,
  'push-pull-reply': MembershipType.pushPullReply
}

const UPDATE_KIND = { alive: 1, suspect: 2, dead: 3, left: 4 } as const
const STATE_CODE: Record<MemberState, number> = { alive: 0, suspect: 1, dead: 2, left: 3 }

const L = MEMBERSHIP_LIMITS
const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Encoded strings, memoised: the same ids and addresses are written into every probe, so each is encoded
 * once. Bounded (cleared when full); a pure memo, invisible except in speed.
 */
const STRING_CACHE_LIMIT = 16384
let stringCache = new Map<string, Uint8Array>()

function utf8Cached (s: string, what: string): Uint8Array {
  let b = stringCache.get(s)
  if (b === undefined) {
    if (!s.isWellFormed()) throw new EncodeError(`${what} is not well-formed UTF-16 (it has a lone surrogate)`)
    b = utf8.encode(s)
    if (stringCache.size >= STRING_CACHE_LIMIT) stringCache = new Map()
    stringCache.set(s, b)
  }
  return b
}

function writeString (w: Writer, s: string, maxBytes: number, what: string): void {
  w.bytes(utf8Cached(s, what), maxBytes, what)
}

/**
 * Decoded short ASCII strings (ids, addresses: the same few thousand arrive in every message), kept in a
 * direct-mapped table (32 K slots: room for a 10,000-peer simulation's ids) so a repeat costs a hash and
 * a compare, and all peers in one process share one copy of each. A pure memo: a collision just replaces
 * the slot.
 */
const INTERN_SLOTS = 32768
const internTable: Array<string | undefined> = new Array<string | undefined>(INTERN_SLOTS)

/** Reads a length-prefixed UTF-8 string; short ASCII strings (ids, addresses) skip the TextDecoder. */
function readString (r: Reader, maxBytes: number): string {
  const raw = r.bytes(maxBytes, 'invalid-field')
  return decodeString(raw, 0, raw.byteLength)
}

/** UTF-8 bytes `buf[start, start + n)` as a string: short ASCII interned, the rest through a fatal decoder. */
function decodeString (buf: Uint8Array, start: number, n: number): string {
  if (n <= 64) {
    let h = 0x811c9dc5
    let ascii = true
    for (let i = 0; i < n; i++) {
      const c = buf[start + i]
      if (c >= 0x80) { ascii = false; break }
      h = Math.imul(h ^ c, 0x01000193)
    }
    if (ascii) {
      const slot = (h >>> 0) & (INTERN_SLOTS - 1)
      const hit = internTable[slot]
      if (hit !== undefined && hit.length === n) {
        let same = true
        for (let i = 0; i < n; i++) if (hit.charCodeAt(i) !== buf[start + i]) { same = false; break }
        if (same) return hit
      }
      let out = ''
      for (let i = 0; i < n; i++) out += String.fromCharCode(buf[start + i])
      internTable[slot] = out
      return out
    }
  }
  try {
    return utf8Decoder.decode(buf.subarray(start, start + n))
  } catch {
    throw new DecodeError('bad-utf8', 'string is not valid UTF-8')
  }
}

/** The empty metadata map every decoder and member table hands out (so "no metadata" is one identity check). */
export const EMPTY_META: Metadata = Object.freeze({})

/** Frame limits for membership frames: the shared defaults (4 MiB frames fit a 65,536-member state). */
const FRAME_LIMITS: WireLimits = DEFAULT_WIRE_LIMITS

// ---------------------------------------------------------------------------------------------------
// sizes

/** Bytes of an unsigned LEB128 varint. */
export function varintBytes (v: number): number {
  let n = 1
  while (v >= 0x80) { v = Math.floor(v / 128); n++ }
  return n
}

/** UTF-8 length of a string, without allocating. */
export function utf8Length (s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++ }
    else n += 3
  }
  return n
}

function stringBytes (s: string): number {
  const n = utf8Length(s)
  return varintBytes(n) + n
}

/** Bytes an encoded update takes inside a datagram (its length prefix included). */
export function piggybackBytes (encodedUpdate: Uint8Array): number {
  return varintBytes(encodedUpdate.byteLength) + encodedUpdate.byteLength
}

/**
 * Exact size of a datagram with no piggybacked updates (the update count byte included): the budget for
 * updates is `maxDatagramBytes - datagramBaseBytes(msg)`, each update taking `piggybackBytes(u)`.
 */
export function datagramBaseBytes (msg: DatagramMessage<unknown>): number {
  let n = 2 + 1 // version, type, update count
  switch (msg.type) {
    case 'ping': n += varintBytes(msg.seq) + stringBytes(msg.targetId) + stringBytes(msg.sourceId) + 4; break
    case 'ping-req':
      n += varintBytes(msg.seq) + stringBytes(msg.targetId) + stringBytes(msg.targetAddress) + stringBytes(msg.sourceId) +
        1 + varintBytes(msg.nackTimeoutMs)
      break
    case 'ack': n += varintBytes(msg.seq) + 4; break
    case 'nack': n += varintBytes(msg.seq); break
    case 'gossip': n += stringBytes(msg.sourceId); break
  }
  return n
}

/** Encoded size of a metadata map, as `encodeUpdate` writes it. */
export function metadataBytes (meta: Metadata): number {
  const keys = Object.keys(meta)
  let n = varintBytes(keys.length)
  for (const k of keys) n += stringBytes(k) + stringBytes(meta[k])
  return n
}

// ---------------------------------------------------------------------------------------------------
// validation shared by encoder and core (an invalid value is refused before it reaches the wire)

/** Why a metadata map cannot be sent, or undefined when it can. */
export function metadataProblem (meta: unknown, maxBytes: number = L.maxMetaBytes): string | undefined {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return 'metadata must be a plain object of string values'
  const keys = Object.keys(meta)
  if (keys.length > L.maxMetaEntries) return `metadata has ${keys.length} entries, over the limit of ${L.maxMetaEntries}`
  for (const k of keys) {
    const v = (meta as Record<string, unknown>)[k]
    if (typeof v !== 'string') return `metadata value of ${JSON.stringify(k)} must be a string, got ${typeof v}`
    if (utf8Length(k) > L.maxMetaKeyBytes) return `metadata key ${JSON.stringify(k.slice(0, 16))}… is over ${L.maxMetaKeyBytes} bytes`
    if (utf8Length(v) > L.maxMetaValueBytes) return `metadata value of ${JSON.stringify(k)} is over ${L.maxMetaValueBytes} bytes`
  }
  const size = metadataBytes(meta as Metadata)
  if (size > maxBytes) return `metadata encodes to ${size} bytes, over the limit of ${maxBytes}`
  return undefined
}

/** Why a member id cannot be used, or undefined when it can. */
export function idProblem (id: unknown): string | undefined {
  if (typeof id !== 'string' || id.length === 0) return 'a member id must be a non-empty string'
  if (utf8Length(id) > L.maxIdBytes) return `member id is ${utf8Length(id)} bytes, over the limit of ${L.maxIdBytes}`
  return undefined
}

/** Why an address cannot be used, or undefined when it can. */
export function addressProblem (address: unknown): string | undefined {
  if (typeof address !== 'string' || address.length === 0) return 'an address must be a non-empty string'
  if (utf8Length(address) > L.maxAddressBytes) return `address is ${utf8Length(address)} bytes, over the limit of ${L.maxAddressBytes}`
  return undefined
}

// ---------------------------------------------------------------------------------------------------
// encoding

function writeMeta (w: Writer, meta: Metadata): void {
  const keys = Object.keys(meta)
  if (keys.length === 0) { w.varint(0); return }
  keys.sort()
  if (keys.length > L.maxMetaEntries) throw new EncodeError(`metadata has ${keys.length} entries, over the limit of ${L.maxMetaEntries}`)
  const start = w.length
  w.varint(keys.length)
  for (const k of keys) {
    writeString(w, k, L.maxMetaKeyBytes, 'metadata key')
    writeString(w, meta[k], L.maxMetaValueBytes, 'metadata value')
  }
  if (w.length - start > L.maxMetaBytes) throw new EncodeError(`metadata encodes to ${w.length - start} bytes, over the limit of ${L.maxMetaBytes}`)
}

function writeUpdateBody (w: Writer, u: MemberUpdate): void {
  w.u8(UPDATE_KIND[u.kind])
  writeString(w, u.id, L.maxIdBytes, 'member id')
  w.varint(u.incarnation)
  switch (u.kind) {
    case 'alive':
      writeString(w, u.address, L.maxAddressBytes, 'address')
      writeMeta(w, u.meta)
      break
    case 'suspect':
      if (u.accusers.length > L.maxAccusers) throw new EncodeError(`suspect update lists ${u.accusers.length} accusers, over the limit of ${L.maxAccusers}`)
      w.varint(u.accusers.length)
      for (const a of u.accusers) writeString(w, a, L.maxIdBytes, 'accuser id')
      break
    case 'dead':
      writeString(w, u.from, L.maxIdBytes, 'member id')
      break
    case 'left':
      break
  }
}

/** Encodes one update; the bytes can be cached and copied into any number of datagrams. */
export function encodeUpdate (u: MemberUpdate): Uint8Array {
  const w = new Writer(FRAME_LIMITS, 64)
  writeUpdateBody(w, u)
  if (w.length > L.maxUpdateBytes) throw new EncodeError(`update is ${w.length} bytes, over the limit of ${L.maxUpdateBytes}`)
  return w.finish()
}

/** An update and its encoding, as `sharedUpdate` hands them out (both immutable: never change them). */
export interface EncodedUpdate { readonly update: MemberUpdate, readonly bytes: Uint8Array }

/**
 * Alive, dead and left updates, memoised by content in a direct-mapped table (suspect updates carry an
 * accuser list and are encoded each time). During a mass join every peer queues the same alive update
 * about each joiner; with the memo the peers of one process share one update object and one encoding
 * instead of each holding its own (a Uint8Array costs ~200 bytes of heap beside its ~20 bytes of data:
 * 10,000 simulated peers x 1,024 queued updates was gigabytes). A pure memo: a collision replaces the
 * slot, and what callers get is equal to what `encodeUpdate` returns. 16 K slots, a few MB at most.
 */
const UPDATE_MEMO_SLOTS = 16384
const updateMemo: Array<EncodedUpdate | undefined> = new Array<EncodedUpdate | undefined>(UPDATE_MEMO_SLOTS)

export function sharedUpdate (u: MemberUpdate): EncodedUpdate {
  if (u.kind === 'suspect' || (u.kind === 'alive' && u.meta !== EMPTY_META && Object.keys(u.meta).length > 0)) {
    return { update: u, bytes: encodeUpdate(u) }
  }
  let h = Math.imul(0x811c9dc5 ^ u.kind.length, 0x01000193)
  const id = u.id
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193)
  h = Math.imul(h ^ (u.incarnation | 0), 0x01000193)
  h = Math.imul(h ^ Math.floor(u.incarnation / 4294967296), 0x01000193)
  h ^= h >>> 15
  const slot = (h >>> 0) & (UPDATE_MEMO_SLOTS - 1)
  const hit = updateMemo[slot]
  if (hit !== undefined && sameUpdate(hit.update, u)) return hit
  const entry: EncodedUpdate = { update: u.kind === 'alive' ? { ...u, meta: EMPTY_META } : u, bytes: encodeUpdate(u) }
  updateMemo[slot] = entry
  return entry
}

/** Equality of two alive, dead or left updates (alive ones with no metadata). */
function sameUpdate (a: MemberUpdate, b: MemberUpdate): boolean {
  if (a.kind !== b.kind || a.id !== b.id || a.incarnation !== b.incarnation) return false
  switch (a.kind) {
    case 'alive': return a.address === (b as AliveUpdate).address
    case 'dead': return a.from === (b as DeadUpdate).from
    default: return true
  }
}

/**
 * Encodes a datagram whose updates are already encoded. Never produces more than `maxBytes`.
 *
 * This is the hottest path of the protocol (every probe, every ack), and the size is known exactly in
 * advance, so it writes straight into one buffer of that size instead of going through a growable
 * Writer; the layout is the same primitives (LEB128 varints, big-endian u32, length-prefixed UTF-8).
 */
export function encodeDatagram (msg: OutgoingDatagram, maxBytes: number = L.maxDatagramBytes): Uint8Array {
  if (msg.updates.length > L.maxUpdatesPerMessage) throw new EncodeError(`${msg.updates.length} piggybacked updates, over the limit of ${L.maxUpdatesPerMessage}`)
  let size = datagramBaseBytes(msg)
  for (const u of msg.updates) size += piggybackBytes(u)
  if (size > maxBytes) throw new EncodeError(`${msg.type} of ${size} bytes is over the datagram limit of ${maxBytes}`)
  const out = new Uint8Array(size)
  out[0] = WIRE_VERSION
  out[1] = TYPE_NUMBER[msg.type]
  let pos = 2
  switch (msg.type) {
    case 'ping':
      pos = putVarint(out, pos, msg.seq)
      pos = putString(out, pos, msg.targetId, L.maxIdBytes, 'member id')
      pos = putString(out, pos, msg.sourceId, L.maxIdBytes, 'member id')
      pos = putU32(out, pos, msg.viewChecksum)
      break
    case 'ping-req':
      pos = putVarint(out, pos, msg.seq)
      pos = putString(out, pos, msg.targetId, L.maxIdBytes, 'member id')
      pos = putString(out, pos, msg.targetAddress, L.maxAddressBytes, 'address')
      pos = putString(out, pos, msg.sourceId, L.maxIdBytes, 'member id')
      out[pos++] = msg.wantNack ? 1 : 0
      pos = putVarint(out, pos, msg.nackTimeoutMs)
      break
    case 'ack':
      pos = putVarint(out, pos, msg.seq)
      pos = putU32(out, pos, msg.viewChecksum)
      break
    case 'nack':
      pos = putVarint(out, pos, msg.seq)
      break
    case 'gossip':
      pos = putString(out, pos, msg.sourceId, L.maxIdBytes, 'member id')
      break
  }
  out[pos++] = msg.updates.length
  for (const u of msg.updates) {
    if (u.byteLength > L.maxUpdateBytes) throw new EncodeError(`update of ${u.byteLength} bytes is over the limit of ${L.maxUpdateBytes}`)
    pos = putVarint(out, pos, u.byteLength)
    out.set(u, pos)
    pos += u.byteLength
  }
  if (pos !== size) throw new EncodeError(`internal: ${msg.type} encoded to ${pos} bytes, expected ${size}`)
  return out
}

function putVarint (out: Uint8Array, pos: number, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new EncodeError(`varint must be a safe unsigned integer, got ${v}`)
  while (v >= 0x80) {
    out[pos++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  out[pos++] = v
  return pos
}

function putU32 (out: Uint8Array, pos: number, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new EncodeError(`u32 out of range: ${v}`)
  out[pos] = v >>> 24
  out[pos + 1] = (v >>> 16) & 0xff
  out[pos + 2] = (v >>> 8) & 0xff
  out[pos + 3] = v & 0xff
  return pos + 4
}

function putString (out: Uint8Array, pos: number, s: string, maxBytes: number, what: string): number {
  const b = utf8Cached(s, what)
  if (b.byteLength > maxBytes) throw new EncodeError(`${what} of ${b.byteLength} bytes is over the limit of ${maxBytes}`)
  return putBytes(out, putVarint(out, pos, b.byteLength), b)
}

/**
 * Encodes a push-pull request or reply (reliable channel). Entries are written straight from the objects
 * given (a peer passes its member records as they are: no copy per entry).
 */
export function encodePushPull (msg: PushPullRequest | PushPullReply): Uint8Array {
  const members = msg.members
  if (members.length > L.maxMembers) throw new EncodeError(`${members.length} members, over the limit of ${L.maxMembers}`)
  // Written straight into a buffer grown by doubling (a full state is the biggest thing a peer encodes,
  // and at 10,000 members one per push-pull; a Writer call per field cost a third of the time).
  let out = new Uint8Array(64 + members.length * 24)
  let pos = 0
  out[pos++] = WIRE_VERSION
  out[pos++] = TYPE_NUMBER[msg.type]
  if (msg.type === 'push-pull-request') {
    const w = new Writer(FRAME_LIMITS, 64)
    writeString(w, msg.sourceId, L.maxIdBytes, 'member id')
    w.u8(msg.join ? 1 : 0)
    const head = w.finish()
    out.set(head, pos)
    pos += head.byteLength
  }
  pos = putVarint(out, pos, members.length)
  for (let i = 0; i < members.length; i++) {
    const m = members[i]
    const id = utf8Cached(m.id, 'member id')
    const address = utf8Cached(m.address, 'address')
    if (id.byteLength > L.maxIdBytes) throw new EncodeError(`member id of ${id.byteLength} bytes is over the limit of ${L.maxIdBytes}`)
    if (address.byteLength > L.maxAddressBytes) throw new EncodeError(`address of ${address.byteLength} bytes is over the limit of ${L.maxAddressBytes}`)
    let meta: Uint8Array | undefined
    if (m.meta !== EMPTY_META && Object.keys(m.meta).length > 0) {
      const w = new Writer(FRAME_LIMITS, 64)
      writeMeta(w, m.meta)
      meta = w.finish()
    }
    const need = pos + id.byteLength + address.byteLength + 2 * 5 + 8 + 1 + (meta === undefined ? 1 : meta.byteLength)
    if (need > out.byteLength) {
      if (need > FRAME_LIMITS.maxFrameBytes) throw new EncodeError(`push-pull state would be over the frame limit of ${FRAME_LIMITS.maxFrameBytes} bytes`)
      const grown = new Uint8Array(Math.min(FRAME_LIMITS.maxFrameBytes, Math.max(need, out.byteLength * 2)))
      grown.set(out.subarray(0, pos))
      out = grown
    }
    pos = putBytes(out, putVarint(out, pos, id.byteLength), id)
    pos = putBytes(out, putVarint(out, pos, address.byteLength), address)
    pos = putVarint(out, pos, m.incarnation)
    out[pos++] = STATE_CODE[m.state]
    if (meta === undefined) out[pos++] = 0
    else pos = putBytes(out, pos, meta)
  }
  if (pos > FRAME_LIMITS.maxFrameBytes) throw new EncodeError(`push-pull state of ${pos} bytes is over the frame limit of ${FRAME_LIMITS.maxFrameBytes} bytes`)
  return out.slice(0, pos)
}

/** Copies `b` into `out` at `pos` (a loop for the short ids and addresses: `set` costs more than it copies). */
function putBytes (out: Uint8Array, pos: number, b: Uint8Array): number {
  const n = b.byteLength
  if (n > 32) out.set(b, pos)
  else for (let i = 0; i < n; i++) out[pos + i] = b[i]
  return pos + n
}

/** Encodes any decoded membership message (tests, tools; peers use the cached-bytes encoders above). */
export function encodeMembershipMessage (msg: MembershipMessage): Uint8Array {
  if (msg.type === 'push-pull-request' || msg.type === 'push-pull-reply') return encodePushPull(msg)
  return encodeDatagram({ ...msg, updates: msg.updates.map(encodeUpdate) } as OutgoingDatagram)
}

// ---------------------------------------------------------------------------------------------------
// decoding

function readId (r: Reader): string {
  const id = readString(r, L.maxIdBytes)
  if (id.length === 0) throw new DecodeError('invalid-field', 'member id is empty')
  return id
}

function readAddress (r: Reader): string {
  const a = readString(r, L.maxAddressBytes)
  if (a.length === 0) throw new DecodeError('invalid-field', 'address is empty')
  return a
}

/**
 * A bounds-checked cursor over a run of fields (an update blob, a push-pull state's entries): the hot
 * paths (a storm of joins puts millions of updates and member entries through it). Same rules as codec.ts's Reader — minimal LEB128 varints of at most 53 bits,
 * fatal UTF-8, only DecodeError — but strings are read straight off the buffer (short ASCII ones
 * interned) without allocating a view per field.
 */
class UpdateCursor {
  readonly buf: Uint8Array
  pos: number
  end: number

  constructor (buf: Uint8Array, pos = 0, end = buf.byteLength) {
    this.buf = buf
    this.pos = pos
    this.end = end
  }

  u8 (): number {
    if (this.pos >= this.end) throw new DecodeError('truncated', 'truncated field')
    return this.buf[this.pos++]
  }

  varint (): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      const b = this.u8()
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

  string (maxBytes: number): string {
    const n = this.varint()
    if (n > maxBytes) throw new DecodeError('invalid-field', `field of ${n} bytes is over the limit of ${maxBytes}`)
    if (n > this.end - this.pos) throw new DecodeError('truncated', 'truncated string')
    const start = this.pos
    this.pos += n
    return decodeString(this.buf, start, n)
  }

  id (): string {
    const s = this.string(L.maxIdBytes)
    if (s.length === 0) throw new DecodeError('invalid-field', 'member id is empty')
    return s
  }
}

/** Reads one update from `c.pos` to `c.end` (its length prefix), checking it ends exactly there. */
function readUpdate (c: UpdateCursor): MemberUpdate {
  const start = c.pos
  const kind = c.u8()
  const id = c.id()
  const incarnation = c.varint()
  let u: MemberUpdate
  switch (kind) {
    case UPDATE_KIND.alive: {
      const address = c.string(L.maxAddressBytes)
      if (address.length === 0) throw new DecodeError('invalid-field', 'address is empty')
      u = { kind: 'alive', id, incarnation, address, meta: readMetaFrom(c) }
      break
    }
    case UPDATE_KIND.suspect: {
      const n = c.varint()
      if (n > L.maxAccusers) throw new DecodeError('list-too-long', `suspect update lists ${n} accusers, over the limit of ${L.maxAccusers}`)
      const accusers: string[] = []
      for (let i = 0; i < n; i++) accusers.push(c.id())
      u = { kind: 'suspect', id, incarnation, accusers }
      break
    }
    case UPDATE_KIND.dead:
      u = { kind: 'dead', id, incarnation, from: c.id() }
      break
    case UPDATE_KIND.left:
      u = { kind: 'left', id, incarnation }
      break
    default:
      throw new DecodeError('invalid-field', `unknown update kind ${kind}`)
  }
  if (c.pos !== c.end) throw new DecodeError('invalid-field', `update length ${c.end - start} does not match its content (${c.pos - start} bytes)`)
  return u
}

function readMetaFrom (c: UpdateCursor): Metadata {
  const start = c.pos
  const n = c.varint()
  if (n === 0) return EMPTY_META
  if (n > L.maxMetaEntries) throw new DecodeError('list-too-long', `metadata has ${n} entries, over the limit of ${L.maxMetaEntries}`)
  const entries: Array<[string, string]> = []
  let previous: string | undefined
  for (let i = 0; i < n; i++) {
    const k = c.string(L.maxMetaKeyBytes)
    if (previous !== undefined && !(k > previous)) throw new DecodeError('invalid-field', 'metadata keys must be unique and in order')
    previous = k
    entries.push([k, c.string(L.maxMetaValueBytes)])
  }
  if (c.pos - start > L.maxMetaBytes) throw new DecodeError('invalid-field', `metadata is over ${L.maxMetaBytes} bytes`)
  return Object.fromEntries(entries)
}

function readUpdates (r: Reader): MemberUpdate[] {
  const n = r.u8()
  if (n > L.maxUpdatesPerMessage) throw new DecodeError('list-too-long', `${n} piggybacked updates, over the limit of ${L.maxUpdatesPerMessage}`)
  if (n * 2 > r.remaining) throw new DecodeError('truncated', `${n} updates cannot fit in ${r.remaining} bytes`)
  const out: MemberUpdate[] = []
  const c = new UpdateCursor(r.frame)
  for (let i = 0; i < n; i++) {
    const length = r.varint()
    if (length > L.maxUpdateBytes) throw new DecodeError('invalid-field', `field of ${length} bytes is over the limit of ${L.maxUpdateBytes}`)
    c.pos = r.offset
    r.skip(length, 'update')
    c.end = r.offset
    out.push(readUpdate(c))
  }
  return out
}

function readMembers (r: Reader): MemberEntry[] {
  const n = r.varint()
  if (n > L.maxMembers) throw new DecodeError('list-too-long', `${n} members, over the limit of ${L.maxMembers}`)
  // each entry takes at least 7 bytes: id (2), address (2), incarnation (1), state (1), meta count (1)
  if (n * 7 > r.remaining) throw new DecodeError('truncated', `${n} members cannot fit in ${r.remaining} bytes`)
  const out: MemberEntry[] = []
  // one cursor over the entries: strings are read straight off the frame, no view per field
  const c = new UpdateCursor(r.frame, r.offset)
  for (let i = 0; i < n; i++) {
    const id = c.id()
    const address = c.string(L.maxAddressBytes)
    if (address.length === 0) throw new DecodeError('invalid-field', 'address is empty')
    const incarnation = c.varint()
    const code = c.u8()
    const state = MEMBER_STATES[code]
    if (state === undefined) throw new DecodeError('invalid-field', `unknown member state ${code}`)
    out.push({ id, address, incarnation, state, meta: readMetaFrom(c) })
  }
  r.skip(c.pos - r.offset, 'members')
  return out
}

function readFlag (r: Reader, what: string): boolean {
  const v = r.u8()
  if (v > 1) throw new DecodeError('invalid-field', `${what} flags must be 0 or 1, got ${v}`)
  return v === 1
}

/** The version byte and type byte of a frame, without decoding it (for routing and counting). */
export function peekFrame (bytes: Uint8Array): { version: number, type: number } | undefined {
  if (bytes.byteLength < 2) return undefined
  return { version: bytes[0], type: bytes[1] }
}

/** True if the frame's type byte is in the membership family's range. */
export function isMembershipFrame (bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[1] >= MEMBERSHIP_TYPE_MIN && bytes[1] <= MEMBERSHIP_TYPE_MAX
}

/** Decodes a membership frame. Throws only `DecodeError`. */
export function decodeMembershipMessage (bytes: Uint8Array, limits: WireLimits = FRAME_LIMITS): MembershipMessage {
  const r = new Reader(bytes, limits)
  const version = r.u8()
  if (version !== WIRE_VERSION) throw new DecodeError('unknown-version', `protocol version ${version} is not supported (this peer speaks ${WIRE_VERSION})`)
  const type = r.u8()
  let msg: MembershipMessage
  switch (type) {
    case MembershipType.ping: {
      const seq = r.varint()
      const targetId = readId(r)
      const sourceId = readId(r)
      const viewChecksum = r.u32()
      msg = { type: 'ping', seq, targetId, sourceId, viewChecksum, updates: readUpdates(r) }
      break
    }
    case MembershipType.pingReq: {
      const seq = r.varint()
      const targetId = readId(r)
      const targetAddress = readAddress(r)
      const sourceId = readId(r)
      const wantNack = readFlag(r, 'ping-req')
      const nackTimeoutMs = r.varint()
      msg = { type: 'ping-req', seq, targetId, targetAddress, sourceId, wantNack, nackTimeoutMs, updates: readUpdates(r) }
      break
    }
    case MembershipType.ack: {
      const seq = r.varint()
      const viewChecksum = r.u32()
      msg = { type: 'ack', seq, viewChecksum, updates: readUpdates(r) }
      break
    }
    case MembershipType.nack: {
      const seq = r.varint()
      msg = { type: 'nack', seq, updates: readUpdates(r) }
      break
    }
    case MembershipType.gossip: {
      const sourceId = readId(r)
      msg = { type: 'gossip', sourceId, updates: readUpdates(r) }
      break
    }
    case MembershipType.pushPullRequest: {
      const sourceId = readId(r)
      const join = readFlag(r, 'push-pull')
      msg = { type: 'push-pull-request', sourceId, join, members: readMembers(r) }
      break
    }
    case MembershipType.pushPullReply:
      msg = { type: 'push-pull-reply', members: readMembers(r) }
      break
    default:
      throw new DecodeError('unknown-type', `message type 0x${type.toString(16)} is not a membership message`)
  }
  r.end()
  return msg
}

/** UTF-8 bytes of a string (exported for tests and size checks). */
export function utf8Bytes (s: string): Uint8Array { return utf8.encode(s) }
