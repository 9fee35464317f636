export { WIRE_VERSION, DEFAULT_WIRE_LIMITS, DecodeError, EncodeError, Reader, Writer, resolveWireLimits, varintLength } from './codec.js'
export type { WireLimits, DecodeErrorReason } from './codec.js'
export {
  MessageType, MESSAGE_FAMILY_RANGES, MESSAGE_LIMITS, REPLY_STATUS_CODES, messageFamily, frameHeader, encodeMessage, decodeMessage
} from './messages.js'
export type {
  Message, MessageTypeName, MessageFamily, ValueVersion, ReplyStatus,
  BasePingMessage, BaseAckMessage, GetMessage, SetMessage, ReplyMessage, ErrorMessage
} from './messages.js'
