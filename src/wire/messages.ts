/**
 * The first wire messages: the base family (ping, ack) and the key-value family (get, set, reply, error),
 * built on the primitives of codec.ts.
 *
 * Every frame is `[WIRE_VERSION u8][type u8][body]`. The type byte says which family a frame belongs to,
 * so a peer routes a frame to its family's decoder by looking at one byte (`messageFamily`). Ranges:
 *
 * | types       | family                                  | decoded by                         |
 * |-------------|-----------------------------------------|------------------------------------|
 * | 0x00        | never used (a zeroed buffer is refused) | —                                  |
 * | 0x01 – 0x0f | base: ping 0x01, ack 0x02               | `decodeMessage` (this file)        |
 * | 0x10 – 0x2f | membership (SWIM, push-pull)            | `decodeMembershipMessage` (membership.ts) |
 * | 0x30 – 0x4f | key-value / replication: get 0x30, set 0x31, reply 0x32, error 0x33 | `decodeMessage` (this file) |
 * | 0x50 – 0x6f | reserved: hand-off, range transfer, anti-entropy | —                         |
 * | 0x70 – 0x8f | reserved: strong consistency (CASPaxos, epochs)  | —                         |
 * | 0x90 – 0xff | reserved                                | —                                  |
 *
 * Bodies (varint = unsigned LEB128, str = varint length + UTF-8, bytes = varint length + bytes):
 * - ping / ack: `seq varint`
 * - get: `requestId varint, ns str, key str`
 * - set: `requestId varint, ns str, key str, value bytes, ttlMs varint (0 = none), version`
 * - reply: `requestId varint, status u8, flags u8 (bit 0: value follows, bit 1: version follows), [value bytes], [version]`
 * - error: `requestId varint, code str, message str`
 * - version: `physical varint (ms), logical varint, writer str (peer id)`
 *
 * Invariants: `decodeMessage` throws only `DecodeError`; every length is checked against a limit and the
 * bytes left before anything is allocated; encoding and decoding are exact inverses, and a frame that
 * decodes has exactly one encoding (minimal varints, strict flag and status bytes), so
 * `encodeMessage(decodeMessage(b))` is `b`. New message types take the next free number of their family;
 * new reply statuses take the next free code. Both are a protocol change: an older peer refuses them.
 */
import { DecodeError, DEFAULT_WIRE_LIMITS, EncodeError, Reader, WIRE_VERSION, Writer } from './codec.js'
import type { WireLimits } from './codec.js'

/** Type numbers of the messages in this file. */
export const MessageType = Object.freeze({
  ping: 0x01,
  ack: 0x02,
  get: 0x30,
  set: 0x31,
  reply: 0x32,
  error: 0x33
})

export type MessageFamily = 'base' | 'membership' | 'kv' | 'reserved'

/** The inclusive type-number range of each family; `reserved` ranges are listed in the header table. */
export const MESSAGE_FAMILY_RANGES: Readonly<Record<Exclude<MessageFamily, 'reserved'>, readonly [number, number]>> = Object.freeze({
  base: [0x01, 0x0f] as const,
  membership: [0x10, 0x2f] as const,
  kv: [0x30, 0x4f] as const
})

/** Hard limits of the fields that `WireLimits` does not cover. */
export const MESSAGE_LIMITS = Object.freeze({
  /** Largest namespace name, in UTF-8 bytes. */
  maxNamespaceBytes: 256,
  /** Largest writer (peer) id in a version, in UTF-8 bytes (the membership family's member id limit). */
  maxWriterBytes: 128,
  /** Largest error code, in UTF-8 bytes. */
  maxErrorCodeBytes: 64,
  /** Largest error message, in UTF-8 bytes. */
  maxErrorMessageBytes: 1024
})

/**
 * The version of a stored value: a hybrid logical clock reading and the peer that wrote it. Versions are
 * ordered by (physical, logical, writer); last writer wins.
 */
export interface ValueVersion {
  /** Wall-clock part, milliseconds since the Unix epoch. */
  physical: number
  /** Logical counter that orders events within one millisecond. */
  logical: number
  /** Id of the peer that wrote the value. */
  writer: string
}

/** How a request went; failures that are not one of these travel as an `error` message. */
export type ReplyStatus = 'ok' | 'not-found' | 'stale'
/** Wire codes of reply statuses: `stale` = a set was refused because a newer version is stored. */
export const REPLY_STATUS_CODES: Readonly<Record<ReplyStatus, number>> = Object.freeze({ ok: 0, 'not-found': 1, stale: 2 })
const REPLY_STATUSES: readonly ReplyStatus[] = ['ok', 'not-found', 'stale']

/** Liveness / round-trip probe on a link (not SWIM's ping, which is in the membership family). */
export interface BasePingMessage { type: 'ping', seq: number }
export interface BaseAckMessage { type: 'ack', seq: number }
export interface GetMessage { type: 'get', requestId: number, ns: string, key: string }
export interface SetMessage {
  type: 'set'
  requestId: number
  ns: string
  key: string
  value: Uint8Array
  /** Time to live in milliseconds; 0 means none. */
  ttlMs: number
  version: ValueVersion
}
export interface ReplyMessage {
  type: 'reply'
  requestId: number
  status: ReplyStatus
  value?: Uint8Array
  version?: ValueVersion
}
export interface ErrorMessage {
  type: 'error'
  requestId: number
  /** A stable error code, e.g. `ERR_VALUE_TOO_LARGE` (see src/errors.ts). */
  code: string
  message: string
}

export type Message = BasePingMessage | BaseAckMessage | GetMessage | SetMessage | ReplyMessage | ErrorMessage
export type MessageTypeName = Message['type']

const FLAG_VALUE = 1
const FLAG_VERSION = 2

/** The family a type byte belongs to. */
export function messageFamily (type: number): MessageFamily {
  for (const [family, [min, max]] of Object.entries(MESSAGE_FAMILY_RANGES)) {
    if (type >= min && type <= max) return family as MessageFamily
  }
  return 'reserved'
}

/**
 * The version and type bytes of a frame, for routing it to its family's decoder. Throws `DecodeError`
 * (`truncated`, `unknown-version`) like the decoders do.
 */
export function frameHeader (bytes: Uint8Array): { version: number, type: number, family: MessageFamily } {
  if (bytes.byteLength < 2) throw new DecodeError('truncated', `a frame has at least 2 header bytes, got ${bytes.byteLength}`)
  checkVersion(bytes[0])
  return { version: bytes[0], type: bytes[1], family: messageFamily(bytes[1]) }
}

/**
 * Encodes a message into one frame. Throws `EncodeError` if a field breaks a limit (key, value, frame,
 * namespace, ...) or is not a safe unsigned integer where one is needed; nothing is sent then.
 */
export function encodeMessage (msg: Message, limits: WireLimits = DEFAULT_WIRE_LIMITS): Uint8Array {
  const w = new Writer(limits, Math.min(initialSize(msg), limits.maxFrameBytes))
  w.u8(WIRE_VERSION)
  switch (msg.type) {
    case 'ping':
    case 'ack':
      w.u8(MessageType[msg.type]).varint(msg.seq)
      break
    case 'get':
      w.u8(MessageType.get).varint(msg.requestId)
      writeNamespace(w, msg.ns)
      w.key(msg.key)
      break
    case 'set':
      w.u8(MessageType.set).varint(msg.requestId)
      writeNamespace(w, msg.ns)
      w.key(msg.key).value(msg.value).varint(msg.ttlMs)
      writeVersion(w, msg.version)
      break
    case 'reply': {
      const status = REPLY_STATUS_CODES[msg.status]
      if (status === undefined) throw new EncodeError(`unknown reply status ${JSON.stringify(msg.status)}; use one of ${REPLY_STATUSES.join(', ')}`)
      const flags = (msg.value !== undefined ? FLAG_VALUE : 0) | (msg.version !== undefined ? FLAG_VERSION : 0)
      w.u8(MessageType.reply).varint(msg.requestId).u8(status).u8(flags)
      if (msg.value !== undefined) w.value(msg.value)
      if (msg.version !== undefined) writeVersion(w, msg.version)
      break
    }
    case 'error':
      w.u8(MessageType.error).varint(msg.requestId)
        .string(msg.code, MESSAGE_LIMITS.maxErrorCodeBytes, 'error code')
        .string(msg.message, MESSAGE_LIMITS.maxErrorMessageBytes, 'error message')
      break
    default:
      throw new EncodeError(`unknown message type ${JSON.stringify((msg as { type: unknown }).type)}`)
  }
  return w.finish()
}

/**
 * Decodes one frame. Throws only `DecodeError`: `unknown-version`, `unknown-type` (including frames of
 * another family, which have their own decoder), `trailing-bytes`, `truncated`, a limit reason, ...
 * Values are copied out of `bytes`, so the frame's buffer can be reused and a stored value does not keep
 * a whole coalesced frame alive.
 */
export function decodeMessage (bytes: Uint8Array, limits: WireLimits = DEFAULT_WIRE_LIMITS): Message {
  const r = new Reader(bytes, limits)
  checkVersion(r.u8())
  const type = r.u8()
  let msg: Message
  switch (type) {
    case MessageType.ping:
      msg = { type: 'ping', seq: r.varint() }
      break
    case MessageType.ack:
      msg = { type: 'ack', seq: r.varint() }
      break
    case MessageType.get: {
      const requestId = r.varint()
      const ns = readNamespace(r)
      msg = { type: 'get', requestId, ns, key: r.key() }
      break
    }
    case MessageType.set: {
      const requestId = r.varint()
      const ns = readNamespace(r)
      const key = r.key()
      const value = r.value().slice()
      const ttlMs = r.varint()
      msg = { type: 'set', requestId, ns, key, value, ttlMs, version: readVersion(r) }
      break
    }
    case MessageType.reply: {
      const requestId = r.varint()
      const code = r.u8()
      const status = REPLY_STATUSES[code]
      if (status === undefined) throw new DecodeError('invalid-field', `unknown reply status code ${code}`)
      const flags = r.u8()
      if ((flags & ~(FLAG_VALUE | FLAG_VERSION)) !== 0) throw new DecodeError('invalid-field', `unknown reply flags 0x${flags.toString(16)}`)
      const reply: ReplyMessage = { type: 'reply', requestId, status }
      if ((flags & FLAG_VALUE) !== 0) reply.value = r.value().slice()
      if ((flags & FLAG_VERSION) !== 0) reply.version = readVersion(r)
      msg = reply
      break
    }
    case MessageType.error: {
      const requestId = r.varint()
      const code = r.string(MESSAGE_LIMITS.maxErrorCodeBytes, 'invalid-field')
      msg = { type: 'error', requestId, code, message: r.string(MESSAGE_LIMITS.maxErrorMessageBytes, 'invalid-field') }
      break
    }
    default: {
      const family = messageFamily(type)
      const hint = family === 'membership' ? ' (a membership frame: use decodeMembershipMessage)' : ` (${family} range)`
      throw new DecodeError('unknown-type', `unknown message type 0x${type.toString(16).padStart(2, '0')}${hint}`)
    }
  }
  r.end()
  return msg
}

function checkVersion (version: number): void {
  if (version !== WIRE_VERSION) throw new DecodeError('unknown-version', `protocol version ${version} is not supported (this peer speaks ${WIRE_VERSION})`)
}

function writeNamespace (w: Writer, ns: string): void {
  w.string(ns, MESSAGE_LIMITS.maxNamespaceBytes, 'namespace')
}

function readNamespace (r: Reader): string {
  return r.string(MESSAGE_LIMITS.maxNamespaceBytes, 'invalid-field')
}

function writeVersion (w: Writer, v: ValueVersion): void {
  w.varint(v.physical).varint(v.logical).string(v.writer, MESSAGE_LIMITS.maxWriterBytes, 'version writer')
}

function readVersion (r: Reader): ValueVersion {
  const physical = r.varint()
  const logical = r.varint()
  return { physical, logical, writer: r.string(MESSAGE_LIMITS.maxWriterBytes, 'invalid-field') }
}

/** A first guess at the frame size, so that most messages are written without growing the buffer. */
function initialSize (msg: Message): number {
  switch (msg.type) {
    case 'set': return 64 + msg.ns.length * 3 + msg.key.length * 3 + msg.value.byteLength
    case 'reply': return 48 + (msg.value?.byteLength ?? 0)
    case 'get': return 32 + msg.ns.length * 3 + msg.key.length * 3
    default: return 64
  }
}
