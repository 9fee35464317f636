/**
 * What the replication parts share: the options (every knob with its unit and default), the counters,
 * and the `ReplicationContext` through which they reach the world — the injected clock, randomness and
 * logger, the current ring view, and `call`, the one door to other peers (a request item to a peer id,
 * exactly one callback; the driver batches, encodes and routes it). Nothing in src/replication touches
 * a socket, a real timer or the wall clock except through this context (ESLint checks the rest).
 */
import type { Clock } from '../env/clock.js'
import type { Logger } from '../env/logger.js'
import type { Random } from '../env/random.js'
import { InvalidOptionError } from '../errors.js'
import type { HashRing } from '../ring/hash-ring.js'
import type { Hlc } from '../storage/hlc.js'
import type { ReplyItem, RequestItem } from '../wire/replication.js'

export interface ReplicationOptions {
  /** How long one request to a peer may take before it counts as failed, in ms. @default 1000 */
  requestTimeoutMs?: number
  /** How long a client operation may take in all (retries and fail-over included), in ms. @default 5000 */
  operationTimeoutMs?: number
  /** Anti-entropy: how often this peer compares one namespace's digests with one co-replica, in ms; 0 disables. @default 5000 */
  antiEntropyIntervalMs?: number
  /** Anti-entropy: co-replicas compared with per round (round robin over all of them). @default 8 */
  antiEntropyPeersPerRound?: number
  /** Anti-entropy: most keys compared in one exchange (the rest in later ones). @default 4096 */
  antiEntropyMaxKeys?: number
  /** Leaves of each arc's Merkle tree. @default 32 */
  antiEntropyLeaves?: number
  /** How long a hint for an unreachable replica is kept, in ms (keep it below tombstoneGraceMs). @default 120000 */
  hintTtlMs?: number
  /** Most hints held. @default 10000 */
  maxHints?: number
  /** Most bytes of hints held. @default 16 MiB */
  maxHintBytes?: number
  /** How often hints are offered to replicas that are alive again, in ms. @default 1000 */
  hintReplayIntervalMs?: number
  /** Entries per chunk of a range transfer (rebalancing). @default 256 */
  transferChunkEntries?: number
  /** Range transfers this peer pulls at once; more wait their turn (back-pressure). @default 4 */
  maxConcurrentTransfers?: number
  /** Attempts per chunk before a transfer from one source is given up (anti-entropy repairs the rest). @default 3 */
  transferAttempts?: number
  /** After a ring change, how long to wait before handing off keys this peer no longer replicates, in ms. @default 1000 */
  handoffDelayMs?: number
  /** How often a hand-off that could not complete is tried again, in ms. @default 2000 */
  handoffRetryMs?: number
  /** fetch(): how long a caller waits at the primary for another caller's load, in ms. @default 5000 */
  fetchWaitMs?: number
  /** fetch(): how long a loader has to deliver before its lease passes to a waiting caller, in ms. @default 10000 */
  fetchLeaseMs?: number
  /** How long a deleted key's tombstone is kept, in ms: must outlast hints and anti-entropy rounds. @default 300000 */
  tombstoneGraceMs?: number
  /** How often the stores sweep expired entries and tombstones and hints expire, in ms. @default 1000 */
  maintenanceIntervalMs?: number
  /** How often the namespace catalog is exchanged with a random member, in ms; 0 disables. @default 10000 */
  catalogSyncIntervalMs?: number
  /** Most keys in one scan page (offset + limit). @default 10000 */
  maxScanItems?: number
}

export type ReplicationConfig = Required<ReplicationOptions>

export const REPLICATION_DEFAULTS: Readonly<ReplicationConfig> = Object.freeze({
  requestTimeoutMs: 1000,
  operationTimeoutMs: 5000,
  antiEntropyIntervalMs: 5000,
  antiEntropyPeersPerRound: 8,
  antiEntropyMaxKeys: 4096,
  antiEntropyLeaves: 32,
  hintTtlMs: 120_000,
  maxHints: 10_000,
  maxHintBytes: 16 * 1024 * 1024,
  hintReplayIntervalMs: 1000,
  transferChunkEntries: 256,
  maxConcurrentTransfers: 4,
  transferAttempts: 3,
  handoffDelayMs: 1000,
  handoffRetryMs: 2000,
  fetchWaitMs: 5000,
  fetchLeaseMs: 10_000,
  tombstoneGraceMs: 300_000,
  maintenanceIntervalMs: 1000,
  catalogSyncIntervalMs: 10_000,
  maxScanItems: 10_000
})

const ZERO_ALLOWED = new Set<keyof ReplicationConfig>(['antiEntropyIntervalMs', 'catalogSyncIntervalMs', 'handoffDelayMs', 'tombstoneGraceMs'])

/** Validates the options and fills in defaults; throws InvalidOptionError naming the option. */
export function resolveReplicationConfig (options: ReplicationOptions = {}): ReplicationConfig {
  const out = { ...REPLICATION_DEFAULTS } as ReplicationConfig
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue
    if (!(k in REPLICATION_DEFAULTS)) throw new InvalidOptionError(`unknown replication option ${JSON.stringify(k)}; known: ${Object.keys(REPLICATION_DEFAULTS).join(', ')}`)
    const key = k as keyof ReplicationConfig
    const min = ZERO_ALLOWED.has(key) ? 0 : 1
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new InvalidOptionError(`${k} must be a whole number >= ${min}, got ${String(v)}; leave it unset for the default of ${REPLICATION_DEFAULTS[key]}`)
    }
    out[key] = v
  }
  if (out.antiEntropyLeaves > 1024) throw new InvalidOptionError(`antiEntropyLeaves must be at most 1024, got ${out.antiEntropyLeaves}`)
  if (out.hintTtlMs >= out.tombstoneGraceMs && out.tombstoneGraceMs > 0) {
    throw new InvalidOptionError(`hintTtlMs (${out.hintTtlMs}) must be below tombstoneGraceMs (${out.tombstoneGraceMs}), or a hint delivered after a tombstone is collected could bring a deleted value back`)
  }
  return out
}

/** Why a call to another peer failed. */
export type CallFailure = 'timeout' | 'unreachable' | 'closed' | 'too-large' | 'malformed-reply' | 'remote-error' | 'overloaded' | 'unknown-peer' | 'encode' | 'stopped'

export interface CallError { readonly reason: CallFailure, readonly message: string }

export type CallCallback = (err: CallError | null, reply?: ReplyItem) => void

export interface CallOptions {
  /** Send in a request of its own instead of coalescing (for calls that may wait long, like a fetch wait). */
  solo?: boolean
  /** Timeout of this call, in ms. @default requestTimeoutMs */
  timeoutMs?: number
}

/** The counters of the replication layer (a peer's `stats()` and metrics read them). */
export interface ReplicationCounters {
  [name: string]: number
}

export const COUNTER_NAMES = [
  'opsGet', 'opsSet', 'opsDelete', 'opsIncr', 'opsScan', 'opsFetch', 'opsFailed',
  'forwarded', 'reroutes', 'failovers', 'readRepairs', 'proxyReads',
  'replicaReads', 'replicaWrites', 'replicaWritesStale', 'notOwnerRefusals', 'unknownNamespaceRefusals', 'badItems',
  'backgroundSent', 'backgroundFailed',
  'antiEntropyRounds', 'antiEntropyArcsDiffering', 'antiEntropyRingMismatch', 'antiEntropyEntriesPulled', 'antiEntropyEntriesPushed',
  'transfersStarted', 'transfersCompleted', 'transfersFailed', 'entriesPulled',
  'handoffRounds', 'handoffKeysPushed', 'keysForgotten',
  'fetches', 'fetchHits', 'fetchMisses', 'fetchLoads', 'fetchWaits', 'fetchFallbacks', 'fetchNotFoundCached',
  'catalogExchanges', 'namespaceConflicts', 'namespacesRefused'
] as const

export type CounterName = typeof COUNTER_NAMES[number]

export function zeroCounters (): Record<CounterName, number> {
  const out = {} as Record<CounterName, number>
  for (const n of COUNTER_NAMES) out[n] = 0
  return out
}

/** What the replication parts need from their peer: identity, time, randomness, the view, the network. */
export interface ReplicationContext {
  readonly self: string
  readonly config: ReplicationConfig
  readonly clock: Clock
  readonly random: Random
  readonly logger: Logger
  /** Logs at warn once per key (hot paths: count always, log once). */
  readonly warnOnce: (key: string, msg: string, fields?: Record<string, unknown>) => void
  /** This peer's hybrid logical clock (shared by its stores). */
  readonly hlc: Hlc
  readonly counters: Record<CounterName, number>
  /** The ring of the current view (alive and suspect members; without this peer while it leaves). */
  ring(): HashRing
  /** Whether a peer is alive or suspect in this peer's view. */
  isLive(peer: string): boolean
  /** Sends a request item to a peer; exactly one callback (never synchronously inside `call`). */
  call(peer: string, item: RequestItem, cb: CallCallback, options?: CallOptions): void
  /** True once the peer stopped: no new work may start. */
  readonly stopped: boolean
}
