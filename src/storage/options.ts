/**
 * Options of the local store (`LocalStoreInit`) and the small named functions that derive its sizes.
 * Every option is checked at construction; a bad one throws `InvalidOptionError` saying how to fix it.
 */
import type { Clock } from '../env/clock.js'
import { InvalidOptionError } from '../errors.js'
import { chunksNeeded, MAX_CHUNK_BYTES, MAX_CHUNKS, MIN_CHUNK_BYTES } from './arena.js'
import { Hlc } from './hlc.js'

/** Eviction policies: W-TinyLFU (Caffeine's, the default) or plain least-recently-used. */
export type EvictionPolicy = 'w-tinylfu' | 'lru'

/**
 * Why an entry left the store, as reported to `onRemove` and counted in `stats().evictions`:
 * - `'evict'`: pushed out to stay within `maxBytes` / `maxEntries` (including a new entry that
 *   W-TinyLFU refused to admit);
 * - `'expire'`: its TTL or max-idle time ran out;
 * - `'delete'`: deleted (`delete`, `deleteMany`, `clear`, or a replicated tombstone);
 * - `'set'`: overwritten by a newer value (a local `set` or a replicated write);
 * - `'moved'`: dropped by `forget`, without a tombstone, because its key's range moved to other peers.
 */
export type RemovalReason = 'evict' | 'expire' | 'delete' | 'set' | 'moved'

/** The version an entry holds, as the change hook reports it. */
export interface EntryVersion { readonly physical: number, readonly logical: number, readonly writerId: string, readonly tombstone: boolean }

export const EVICTION_POLICIES: readonly EvictionPolicy[] = ['w-tinylfu', 'lru']

/**
 * Accounted cost of one entry beyond its key and value bytes, in bytes: about what the store really spends
 * per entry outside the key and value, rounded up. Where it goes (measured 69 bytes per entry at 1M
 * entries of 16-byte keys and 100-byte values, see `test/bench/store.ts`):
 * - 40 bytes: the entry record's metadata (LRU links, value location and length, flags, version, expiry),
 *   48 with `maxIdleMs`;
 * - 4 bytes: the value record's header (the owning entry's address);
 * - 0–14 bytes: padding of both records to 8 bytes;
 * - 8–17 bytes: the entry's share of the index (8-byte cells, load between 0.35 and 0.7);
 * - 0–8 bytes: its share of the frequency sketch (W-TinyLFU only: 8 four-bit counters per entry,
 *   rounded up to a power of two).
 * A tombstone costs its key bytes plus this constant. Arena garbage (kept under a quarter of the live
 * bytes by the compactor, plus up to two chunks) and partly filled chunks are not charged per entry.
 */
export const ENTRY_OVERHEAD_BYTES = 80

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
export const DEFAULT_MAX_KEY_BYTES = 4096
/**
 * Largest `maxKeyBytes`: a key's stored length (at most twice its UTF-8 length) lives in 16 bits of its
 * record.
 */
export const MAX_KEY_BYTES_LIMIT = 0x7fff
export const DEFAULT_TOMBSTONE_GRACE_MS = 5 * 60 * 1000
export const DEFAULT_HASH_SEED = 0x2f6b9c1d

/** W-TinyLFU's admission window as a fraction of the capacity (Caffeine's initial 1%). */
export const WINDOW_FRACTION = 0.01
/** The protected segment as a fraction of the main space (Caffeine's 80%). */
export const PROTECTED_FRACTION = 0.8

export interface LocalStoreInit {
  /** Time source (only `now()` is read; the store sets no timers). Required. */
  clock: Clock
  /** This peer's id, written into the version of every local write. Required, non-empty. */
  writerId: string
  /**
   * Upper bound of the accounted bytes: for every entry its key bytes + value bytes +
   * `ENTRY_OVERHEAD_BYTES`, tombstones included (key + overhead). Must exceed `ENTRY_OVERHEAD_BYTES`.
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number
  /** Upper bound of entries (tombstones included). @default unbounded (only `maxBytes` applies) */
  maxEntries?: number
  /** Largest value accepted, in bytes; a larger one is refused with `ValueTooLargeError`. @default 1048576 (1 MiB) */
  maxValueBytes?: number
  /**
   * Largest key accepted, in UTF-8 bytes (the wire's measure), at most 32767; a longer key is refused
   * with `InvalidKeyError`. (Accounting charges the key's stored bytes: 1 per character for Latin-1 keys,
   * else 2 per UTF-16 code unit.) @default 4096
   */
  maxKeyBytes?: number
  /** TTL of a `set` that gives none, in milliseconds. @default none (entries do not expire) */
  defaultTtlMs?: number
  /** An entry expires when it has not been read (`get`/`getMany`) for this long, in milliseconds. @default none */
  maxIdleMs?: number
  /** Eviction policy. @default 'w-tinylfu' */
  eviction?: EvictionPolicy
  /**
   * How long a tombstone (a deleted key's version) is kept before the sweep collects it, in milliseconds.
   * Must outlast replication's anti-entropy period, or a deleted value may come back. 0 keeps no tombstones.
   * @default 300000 (5 minutes)
   */
  tombstoneGraceMs?: number
  /** Called once for every entry that leaves the store, after the store is consistent again. @default none */
  onRemove?: (key: string, reason: RemovalReason) => void
  /**
   * Called for every change of what the store holds for a key — a write (set, setMany, apply, delete), a removal
   * (evict, expire, moved, a tombstone collected or dropped, clear) — with the version held before (null: nothing)
   * and after (null: nothing). After each public call, for every key, the `after` of its last report equals what the
   * store holds (getEntry-level, tombstones included; an expired entry not yet removed still counts as held until the
   * store removes it and reports it). Reports are delivered like onRemove: after the store is consistent, in the
   * order the changes happened. @default none
   */
  onEntryChange?: (key: string, before: EntryVersion | null, after: EntryVersion | null) => void
  /** Hybrid logical clock to version writes with; share one per peer. @default a new `Hlc` on `clock` */
  hlc?: Hlc
  /**
   * Seed of the key hash (a 32-bit integer). Give each process a random one (from the peer's seeded
   * `Random`) so clients cannot craft colliding keys. @default a fixed constant
   */
  hashSeed?: number
  /**
   * Size of the arena's chunks, in bytes: a multiple of 8 from 1 KiB to 4 MiB. Records over a quarter of
   * a chunk get a buffer of their own. @default maxBytes / 16 rounded down to a power of two, between
   * 4 KiB and 4 MiB
   */
  arenaChunkBytes?: number
}

/** The options after validation and defaults. */
export interface ResolvedInit {
  clock: Clock
  writerId: string
  maxBytes: number
  maxEntries: number
  maxValueBytes: number
  maxKeyBytes: number
  defaultTtlMs: number
  maxIdleMs: number
  eviction: EvictionPolicy
  tombstoneGraceMs: number
  onRemove: ((key: string, reason: RemovalReason) => void) | undefined
  onEntryChange: ((key: string, before: EntryVersion | null, after: EntryVersion | null) => void) | undefined
  hlc: Hlc
  hashSeed: number
  arenaChunkBytes: number
}

/** Default chunk size: a sixteenth of the byte budget, as a power of two in [4 KiB, 4 MiB]. */
export function defaultChunkBytes (maxBytes: number): number {
  let c = 4096
  while (c < 4 * 1024 * 1024 && c * 2 <= maxBytes / 16) c *= 2
  return c
}

/** W-TinyLFU window capacity for a capacity `max`: 1%, at least one entry when counting entries. */
export function windowMaximum (max: number, atLeastOne: boolean): number {
  if (max === Infinity) return Infinity
  const w = Math.floor(max * WINDOW_FRACTION)
  return atLeastOne ? Math.max(1, w) : w
}

/** W-TinyLFU protected-segment capacity: 80% of what the window leaves. */
export function protectedMaximum (max: number, window: number): number {
  if (max === Infinity) return Infinity
  return Math.floor((max - window) * PROTECTED_FRACTION)
}

export function resolveInit (init: LocalStoreInit): ResolvedInit {
  if (init === null || typeof init !== 'object') {
    throw new InvalidOptionError('LocalStore needs an options object: new LocalStore({ clock, writerId })')
  }
  const clock = init.clock
  if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function') {
    throw new InvalidOptionError('LocalStore: clock is required; pass systemClock from src/env, or a ManualClock in tests')
  }
  if (typeof init.writerId !== 'string' || init.writerId.length === 0) {
    throw new InvalidOptionError(`LocalStore: writerId must be a non-empty string (this peer's id), got ${JSON.stringify(init.writerId)}`)
  }
  const maxBytes = positiveInteger('maxBytes', init.maxBytes, DEFAULT_MAX_BYTES)
  if (maxBytes <= ENTRY_OVERHEAD_BYTES) {
    throw new InvalidOptionError(`LocalStore: maxBytes must exceed the per-entry overhead of ${ENTRY_OVERHEAD_BYTES} bytes, got ${maxBytes}; use at least a few KiB`)
  }
  const maxEntries = init.maxEntries === undefined ? Infinity : positiveInteger('maxEntries', init.maxEntries, 0)
  const maxValueBytes = positiveInteger('maxValueBytes', init.maxValueBytes, DEFAULT_MAX_VALUE_BYTES)
  const maxKeyBytes = positiveInteger('maxKeyBytes', init.maxKeyBytes, DEFAULT_MAX_KEY_BYTES)
  if (maxKeyBytes > MAX_KEY_BYTES_LIMIT) {
    throw new InvalidOptionError(`LocalStore: maxKeyBytes must be at most ${MAX_KEY_BYTES_LIMIT}, got ${maxKeyBytes}`)
  }
  const defaultTtlMs = optionalDuration('defaultTtlMs', init.defaultTtlMs)
  const maxIdleMs = optionalDuration('maxIdleMs', init.maxIdleMs)
  const eviction = init.eviction ?? 'w-tinylfu'
  if (!EVICTION_POLICIES.includes(eviction)) {
    throw new InvalidOptionError(`LocalStore: eviction must be one of ${EVICTION_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(eviction)}`)
  }
  const tombstoneGraceMs = init.tombstoneGraceMs ?? DEFAULT_TOMBSTONE_GRACE_MS
  if (typeof tombstoneGraceMs !== 'number' || !Number.isFinite(tombstoneGraceMs) || tombstoneGraceMs < 0) {
    throw new InvalidOptionError(`LocalStore: tombstoneGraceMs must be a finite number of milliseconds >= 0 (0 keeps no tombstones), got ${String(tombstoneGraceMs)}`)
  }
  if (init.onRemove !== undefined && typeof init.onRemove !== 'function') {
    throw new InvalidOptionError('LocalStore: onRemove must be a function (key, reason) => void, or left out')
  }
  if (init.onEntryChange !== undefined && typeof init.onEntryChange !== 'function') {
    throw new InvalidOptionError('LocalStore: onEntryChange must be a function (key, before, after) => void, or left out')
  }
  if (init.hlc !== undefined && !(init.hlc instanceof Hlc)) {
    throw new InvalidOptionError('LocalStore: hlc must be an Hlc from src/storage/hlc.ts, or left out')
  }
  const hashSeed = init.hashSeed ?? DEFAULT_HASH_SEED
  if (!Number.isInteger(hashSeed) || hashSeed < -0x80000000 || hashSeed > 0xffffffff) {
    throw new InvalidOptionError(`LocalStore: hashSeed must be a 32-bit integer (e.g. random.uint32()), got ${String(hashSeed)}`)
  }
  const arenaChunkBytes = init.arenaChunkBytes === undefined
    ? defaultChunkBytes(maxBytes)
    : positiveInteger('arenaChunkBytes', init.arenaChunkBytes, 0)
  if (arenaChunkBytes < MIN_CHUNK_BYTES || arenaChunkBytes > MAX_CHUNK_BYTES || arenaChunkBytes % 8 !== 0) {
    throw new InvalidOptionError(`LocalStore: arenaChunkBytes must be a multiple of 8 between ${MIN_CHUNK_BYTES} and ${MAX_CHUNK_BYTES}, got ${arenaChunkBytes}; leave it out for the default`)
  }
  if (chunksNeeded(maxBytes, arenaChunkBytes) > MAX_CHUNKS) {
    throw new InvalidOptionError(`LocalStore: maxBytes ${maxBytes} needs more than ${MAX_CHUNKS} arena chunks of ${arenaChunkBytes} bytes; ` +
      `raise arenaChunkBytes (up to ${MAX_CHUNK_BYTES}) or split the data over more namespaces (the limit is about 2.5 GiB per store)`)
  }
  return {
    clock,
    writerId: init.writerId,
    maxBytes,
    maxEntries,
    maxValueBytes,
    maxKeyBytes,
    defaultTtlMs,
    maxIdleMs,
    eviction,
    tombstoneGraceMs,
    onRemove: init.onRemove,
    onEntryChange: init.onEntryChange,
    hlc: init.hlc ?? new Hlc(clock),
    hashSeed: hashSeed | 0,
    arenaChunkBytes
  }
}

function positiveInteger (name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(`LocalStore: ${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}

/** A TTL-like option: undefined (none, returned as 0) or a positive finite number of milliseconds. */
function optionalDuration (name: string, value: number | undefined): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`LocalStore: ${name} must be a positive, finite number of milliseconds (or left out for none), got ${String(value)}`)
  }
  return value
}
