/**
 * The local store of one namespace: byte-bounded, TTL and max-idle expiry, W-TinyLFU or LRU eviction,
 * hybrid-logical-clock versions and tombstones for replication.
 */
export { LocalStore } from './store.js'
export type { StoreEntry, SetOptions, ScanOptions, ScanResult, StoreStats } from './store.js'
export {
  ENTRY_OVERHEAD_BYTES, DEFAULT_MAX_BYTES, DEFAULT_MAX_VALUE_BYTES, DEFAULT_MAX_KEY_BYTES, MAX_KEY_BYTES_LIMIT,
  DEFAULT_TOMBSTONE_GRACE_MS, EVICTION_POLICIES, WINDOW_FRACTION, PROTECTED_FRACTION,
  defaultChunkBytes, windowMaximum, protectedMaximum
} from './options.js'
export type { LocalStoreInit, EvictionPolicy, RemovalReason, EntryVersion } from './options.js'
export {
  Hlc, InvalidVersionError, MAX_LOGICAL, compareTimestamps, compareVersions, compareWriterIds,
  isValidTimestamp, assertValidVersion, tickLocal, tickReceive
} from './hlc.js'
export type { HlcTimestamp, Version } from './hlc.js'
export { FrequencySketch } from './frequency-sketch.js'
export { Arena, MAX_GARBAGE_RATIO, MAX_CHUNKS, MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, shouldCompact, chunksNeeded } from './arena.js'
export type { ArenaOwner } from './arena.js'
export { hashKey, hashStoredKey, isLatin1, storedKeyBytes, utf8Length } from './key.js'
