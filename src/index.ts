/**
 * meshcache's public API. Import this module first: it installs the Node 20 polyfill libp2p needs.
 */
import './polyfill.js'

export * from './errors.js'
export * from './env/index.js'
export type { Address, Transport, TransportHandlers, TransportErrorCode } from './transport/transport.js'
export { TransportError } from './transport/transport.js'
export {
  WIRE_VERSION, DEFAULT_WIRE_LIMITS, DecodeError, EncodeError, resolveWireLimits, encodeMessage, decodeMessage, MessageType
} from './wire/index.js'
export type { WireLimits, DecodeErrorReason, Message, MessageTypeName } from './wire/index.js'
export {
  LocalStore, ENTRY_OVERHEAD_BYTES, DEFAULT_MAX_BYTES, DEFAULT_MAX_VALUE_BYTES, DEFAULT_MAX_KEY_BYTES, EVICTION_POLICIES,
  Hlc, compareTimestamps, compareVersions
} from './storage/index.js'
export type {
  LocalStoreInit, EvictionPolicy, RemovalReason, StoreEntry, SetOptions, ScanOptions, ScanResult, StoreStats, HlcTimestamp, Version
} from './storage/index.js'
export type { EntryVersion } from './storage/index.js'
export { createHashRing, HashRing, DEFAULT_VNODES, DEFAULT_LOAD_FACTOR, createRingCache, RingCache, RING_SIZE } from './ring/index.js'
export type { HashRingInit, RingRange, RingCacheInit } from './ring/index.js'
export { resolveSwimConfig, presetConfig, MEMBERSHIP_PRESETS } from './membership/index.js'
export type {
  SwimOptions, SwimConfig, MembershipPreset, MemberInfo, MemberEvent, MemberEventType, MemberEventReason, LocalHealth
} from './membership/index.js'
export { MembershipNode } from './node/membership-node.js'
export type { MembershipNodeInit, MembershipCounters, JoinResult } from './node/membership-node.js'
export * from './replication/index.js'
export { createPeer, Peer } from './node/peer.js'
export type { PeerInit, PeerStats } from './node/peer.js'
export { Namespace } from './node/namespace-handle.js'
export type { ReadOptions, WriteOptions, ScanOptions as NamespaceScanOptions, ScanPage, FetchLoader } from './node/namespace-handle.js'
export { bytesCodec, stringCodec, jsonCodec, InvalidValueError } from './node/codecs.js'
export type { ValueCodec } from './node/codecs.js'
export * from './sim/index.js'
export { runMembershipScenario } from './sim/scenarios/membership.js'
export type { MembershipScenarioInit, MembershipReport, MembershipRun } from './sim/scenarios/membership.js'
export { runReplicationScenario, NEMESIS_KINDS } from './sim/scenarios/replication.js'
export type { ReplicationScenarioInit, ReplicationReport, ReplicationRun, NemesisKind } from './sim/scenarios/replication.js'
