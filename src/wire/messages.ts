/**
 * The base wire family (ping, ack) and the table that routes every frame to its family, built on the
 * primitives of codec.ts.
 *
 * Every frame is `[WIRE_VERSION u8][type u8][body]`. The type byte says which family a frame belongs to,
 * so a peer routes a frame to its family's decoder by looking at one byte (`messageFamily`). Ranges:
 *
 * | types       | family                                  | decoded by                         |
 * |-------------|-----------------------------------------|------------------------------------|
 * | 0x00        | never used (a zeroed buffer is refused) | —                                  |
 * | 0x01 – 0x0f | base: ping 0x01, ack 0x02               | `decodeMessage` (this file)        |
 * | 0x10 – 0x2f | membership (SWIM, push-pull)            | `decodeMembershipMessage` (membership.ts) |
 * | 0x30 – 0x4f | key-value / replication batches: batch 0x30, batch-reply 0x31, batch-error 0x32 | `decodeBatch` (src/wire/replication.ts) |
 * | 0x50 – 0x6f | reserved: hand-off, range transfer, anti-entropy | —                         |
 * | 0x70 – 0x8f | reserved: strong consistency (CASPaxos, epochs)  | —                         |
 * | 0x90 – 0xff | reserved                                | —                                  |
 *
 * Bodies (varint = unsigned LEB128):
 * - ping / ack: `seq varint`
 *
 * Invariants: `decodeMessage` throws only `DecodeError`; encoding and decoding are exact inverses, and a
 * frame that decodes has exactly one encoding (minimal varints), so `encodeMessage(decodeMessage(b))` is
 * `b`. New message types take the next free number of their family; that is a protocol change: an older
 * peer refuses them.
 */
import { DecodeError, DEFAULT_WIRE_LIMITS, EncodeError, Reader, WIRE_VERSION, Writer } from './codec.js'
import type { WireLimits } from './codec.js'

/** Type numbers of the messages in this file. */
export const MessageType = Object.freeze({
  ping: 0x01,
  ack: 0x02
})

export type MessageFamily = 'base' | 'membership' | 'kv' | 'reserved'

/** The inclusive type-number range of each family; `reserved` ranges are listed in the header table. */
export const MESSAGE_FAMILY_RANGES: Readonly<Record<Exclude<MessageFamily, 'reserved'>, readonly [number, number]>> = Object.freeze({
  base: [0x01, 0x0f] as const,
  membership: [0x10, 0x2f] as const,
  kv: [0x30, 0x4f] as const
})

/** Hard limits of the fields that `WireLimits` does not cover (shared by the families that carry them). */
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

/** Liveness / round-trip probe on a link (not SWIM's ping, which is in the membership family). */
export interface BasePingMessage { type: 'ping', seq: number }
export interface BaseAckMessage { type: 'ack', seq: number }

export type Message = BasePingMessage | BaseAckMessage
export type MessageTypeName = Message['type']

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
 * Encodes a message into one frame. Throws `EncodeError` if a field is not a safe unsigned integer where
 * one is needed, or the type is unknown; nothing is sent then.
 */
export function encodeMessage (msg: Message, limits: WireLimits = DEFAULT_WIRE_LIMITS): Uint8Array {
  const w = new Writer(limits, Math.min(16, limits.maxFrameBytes))
  w.u8(WIRE_VERSION)
  switch (msg.type) {
    case 'ping':
    case 'ack':
      w.u8(MessageType[msg.type]).varint(msg.seq)
      break
    default:
      throw new EncodeError(`unknown message type ${JSON.stringify((msg as { type: unknown }).type)}`)
  }
  return w.finish()
}

/**
 * Decodes one frame. Throws only `DecodeError`: `unknown-version`, `unknown-type` (including frames of
 * another family, which have their own decoder), `trailing-bytes`, `truncated`, `bad-varint`, ...
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
    default:
      throw new DecodeError('unknown-type', `unknown message type 0x${type.toString(16).padStart(2, '0')}${familyHint(type)}`)
  }
  r.end()
  return msg
}

/** Where a frame of another family should have gone, for the error message. */
function familyHint (type: number): string {
  switch (messageFamily(type)) {
    case 'membership': return ' (a membership frame: use decodeMembershipMessage)'
    case 'kv': return ' (a key-value / replication frame: use decodeBatch)'
    case 'base': return ' (base range)'
    case 'reserved': return ' (reserved range)'
  }
}

function checkVersion (version: number): void {
  if (version !== WIRE_VERSION) throw new DecodeError('unknown-version', `protocol version ${version} is not supported (this peer speaks ${WIRE_VERSION})`)
}
