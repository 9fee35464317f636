export {
  OperationError, QuorumNotReachedError, TimeoutError, UnavailableError, UnknownNamespaceError, NamespaceConflictError,
  NotANumberError, OverloadedError, PeerStoppedError, RemoteError
} from './errors.js'
export type { OperationOutcome } from './errors.js'
export {
  resolveNamespace, majority, REPLICATION_MODES, READ_MODES, MAX_REPLICAS, DEFAULT_REPLICAS, DEFAULT_NAMESPACE_MAX_BYTES
} from './namespace.js'
export type { NamespaceInit, NamespaceDefinition, ReplicationMode, ReadMode } from './namespace.js'
export { REPLICATION_DEFAULTS, resolveReplicationConfig } from './context.js'
export type { ReplicationOptions, ReplicationConfig } from './context.js'
export { ReplicationEngine } from './engine.js'
export type { EngineStats } from './engine.js'
export type { FetchOptions, FetchResult } from './fetch.js'
export type { CatalogChange, CatalogEntry } from './catalog.js'
