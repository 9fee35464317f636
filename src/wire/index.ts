export { WIRE_VERSION, DEFAULT_WIRE_LIMITS, DecodeError, EncodeError, Reader, Writer, resolveWireLimits, varintLength } from './codec.js'
export type { WireLimits, DecodeErrorReason } from './codec.js'
export {
  MessageType, MESSAGE_FAMILY_RANGES, MESSAGE_LIMITS, messageFamily, frameHeader, encodeMessage, decodeMessage
} from './messages.js'
export type { Message, MessageTypeName, MessageFamily, BasePingMessage, BaseAckMessage } from './messages.js'
export {
  encodeRequestItem, decodeRequestItem, encodeReplyItem, decodeReplyItem, encodeBatch, encodeBatchError, decodeBatch,
  isReplicationFrame, ReplicationFrame, REPLICATION_LIMITS
} from './replication.js'
export type {
  RequestItem, ReplyItem, ClientResult, WireArc, RangeCursor, WireCatalogEntry, WireNamespace, DecodedBatch, ReplicaStatus,
  FetchOutcome, FillOutcome, WritePurpose, ClientOp, ReadModeWire
} from './replication.js'
